"""Document names: field:, naming series, naming_series:, hash, autoincrement, prompt,
format:, and naming series under real concurrency on both engines."""
import datetime
import multiprocessing
import queue
import re
import time

import pytest

import lowcode
from lowcode.exceptions import DuplicateEntryError, MandatoryError

TITLE = [{"fieldname": "title", "fieldtype": "Data", "label": "Title"}]
YEAR = str(datetime.date.today().year)


def insert(dt, **values):
    return lowcode.get_doc({"doctype": dt, **values}).insert()


def test_field_naming(ctx, make_doctype):
    dt = make_doctype(TITLE, autoname="field:title")
    assert insert(dt, title="  Sara Cohen ").name == "Sara Cohen"
    with pytest.raises(DuplicateEntryError) as info:
        insert(dt, title="Sara Cohen")
    assert info.value.http_status == 409
    with pytest.raises(MandatoryError) as info:
        insert(dt)
    assert info.value.field == "title"


def test_naming_series_gives_consecutive_numbers(ctx, make_doctype):
    dt = make_doctype(TITLE, autoname="TST-.YYYY.-.#####")
    names = [insert(dt, title=str(i)).name for i in range(3)]
    for name in names:
        assert re.fullmatch(rf"TST-{YEAR}-\d{{5}}", name), name
    numbers = [int(n.rsplit("-", 1)[1]) for n in names]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_naming_series_counter_is_per_prefix(ctx, make_doctype, unique):
    a = make_doctype(TITLE, autoname=f"A{unique}-.####")
    b = make_doctype(TITLE, autoname=f"B{unique}-.###")
    assert [insert(a).name, insert(b).name, insert(a).name] == [f"A{unique}-0001", f"B{unique}-001",
                                                                f"A{unique}-0002"]


def test_naming_series_field(ctx, make_doctype, unique):
    dt = make_doctype([{"fieldname": "naming_series", "fieldtype": "Select",
                        "options": f"NS{unique}-.####\nNX{unique}-.YYYY.-.###"}] + TITLE,
                      autoname="naming_series:")
    assert insert(dt, naming_series=f"NS{unique}-.####").name == f"NS{unique}-0001"
    assert insert(dt, naming_series=f"NX{unique}-.YYYY.-.###").name == f"NX{unique}-{YEAR}-001"
    # a mandatory Select starts at its first option; an unset optional one is required for naming
    doc = lowcode.get_doc({"doctype": dt})
    doc.naming_series = None
    with pytest.raises(MandatoryError) as info:
        doc.insert()
    assert info.value.field == "naming_series"


def test_series_skips_names_already_taken(ctx, make_doctype, unique):
    """A document renamed (or imported) onto a future number of the series is skipped:
    it does not turn every later insert into a 409."""
    dt = make_doctype(TITLE, autoname=f"J{unique}-.####", allow_rename=1)
    first = insert(dt, title="a").name
    assert first == f"J{unique}-0001"
    other = insert(dt, title="b").name
    # taken by hand, not through rename (an import, a prompt): the series steps over them
    lowcode.db.sql(f"UPDATE `tab{dt}` SET `name`=%s WHERE `name`=%s", (f"J{unique}-0003", other))
    assert insert(dt, title="c").name == f"J{unique}-0004"  # 0003 is taken by the hand-renamed row
    insert(dt, title="d")
    names = sorted(ctx.db.sql(f"SELECT `name` FROM `tab{dt}`", pluck=True))
    assert names == [f"J{unique}-0001", f"J{unique}-0003", f"J{unique}-0004", f"J{unique}-0005"]
    # autoincrement and format: too
    auto = make_doctype(TITLE, autoname="autoincrement", name=f"Auto Skip {unique}")
    a1 = insert(auto).name
    lowcode.db.sql(f"UPDATE `tab{auto}` SET `name`=%s WHERE `name`=%s", (str(int(a1) + 1), a1))
    assert insert(auto).name == str(int(a1) + 2)
    fmt = make_doctype(TITLE, autoname=f"format:F{unique}-{{####}}-X", name=f"Fmt Skip {unique}")
    f1 = insert(fmt).name
    assert f1 == f"F{unique}-0001-X"
    lowcode.db.sql(f"UPDATE `tab{fmt}` SET `name`=%s WHERE `name`=%s", (f"F{unique}-0002-X", f1))
    assert insert(fmt).name == f"F{unique}-0003-X"


def test_renaming_onto_the_series_moves_its_counter(ctx, make_doctype, unique):
    from lowcode.rename import rename_doc
    dt = make_doctype([{"fieldname": "naming_series", "fieldtype": "Select", "options": f"RN{unique}-.YYYY.-.#####"}]
                      + TITLE, autoname="naming_series:", allow_rename=1)
    series = f"RN{unique}-.YYYY.-.#####"
    doc = insert(dt, title="a", naming_series=series)
    assert doc.name == f"RN{unique}-{YEAR}-00001"
    rename_doc(dt, doc.name, f"RN{unique}-{YEAR}-00002")
    assert insert(dt, title="b", naming_series=series).name == f"RN{unique}-{YEAR}-00003"
    # renaming far ahead moves the counter there; renaming back never lowers it
    rename_doc(dt, f"RN{unique}-{YEAR}-00003", f"RN{unique}-{YEAR}-00050")
    rename_doc(dt, f"RN{unique}-{YEAR}-00002", f"RN{unique}-{YEAR}-00010")
    assert insert(dt, title="c", naming_series=series).name == f"RN{unique}-{YEAR}-00051"
    # a name outside the series leaves the counter alone
    rename_doc(dt, f"RN{unique}-{YEAR}-00051", "Special deal")
    assert insert(dt, title="d", naming_series=series).name == f"RN{unique}-{YEAR}-00052"
    # so does a number far ahead (no one pushes the shared counter to its end), or one
    # written otherwise than the series writes it
    for far in (f"RN{unique}-{YEAR}-9223372036854775806", f"RN{unique}-{YEAR}-" + "9" * 30,
                f"RN{unique}-{YEAR}-0000000053"):
        rename_doc(dt, "Special deal", far)
        rename_doc(dt, far, "Special deal")
    assert insert(dt, title="e", naming_series=series).name == f"RN{unique}-{YEAR}-00053"


def test_hash_naming(ctx, make_doctype):
    dt = make_doctype(TITLE, autoname="hash")
    names = {insert(dt, title="same").name for _ in range(5)}
    assert len(names) == 5
    assert all(re.fullmatch(r"[0-9a-f]{10}", n) for n in names)


def test_autoincrement_naming(ctx, make_doctype):
    dt = make_doctype(TITLE, autoname="autoincrement")
    names = [insert(dt).name for _ in range(3)]
    numbers = [int(n) for n in names]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    assert numbers[0] == 1  # a new DocType's counter starts at 1


def test_prompt_naming(ctx, make_doctype):
    dt = make_doctype(TITLE, autoname="prompt")
    with pytest.raises(MandatoryError) as info:
        insert(dt, title="no name")
    assert info.value.field == "name"
    assert insert(dt, title="x", __newname="Chosen Name").name == "Chosen Name"
    doc = lowcode.get_doc({"doctype": dt, "title": "y"})
    doc.name = "Set Directly"
    assert doc.insert().name == "Set Directly"
    assert ctx.db.exists(dt, "Chosen Name") and ctx.db.exists(dt, "Set Directly")


def test_format_naming(ctx, make_doctype, unique):
    dt = make_doctype(TITLE, autoname="format:PRJ-{YYYY}-{title}-{###}")
    title = f"c{unique}"
    assert insert(dt, title=title).name == f"PRJ-{YEAR}-{title}-001"
    assert insert(dt, title=title).name == f"PRJ-{YEAR}-{title}-002"
    assert insert(dt, title=f"d{unique}").name == f"PRJ-{YEAR}-d{unique}-001"


def test_child_rows_get_names(ctx, make_doctype):
    child = make_doctype([{"fieldname": "item", "fieldtype": "Data"}], istable=1, permissions=[])
    dt = make_doctype([{"fieldname": "rows", "fieldtype": "Table", "options": child}], autoname="hash")
    doc = insert(dt, rows=[{"item": "a"}, {"item": "b"}])
    names = [r.name for r in lowcode.get_doc(dt, doc.name).rows]
    assert len(set(names)) == 2 and all(names)


# -- concurrency ----------------------------------------------------------------------------

def _insert_many(site, bench, doctype, count, barrier, results):
    """Child process: its own site context; one commit per document. Reports its
    names, or the error that stopped it."""
    import traceback
    try:
        import lowcode as lc
        lc.setup_django()
        names = []
        barrier.wait(timeout=60)
        with lc.site_context(site, bench=bench) as local:
            for i in range(count):
                names.append(lc.get_doc({"doctype": doctype, "title": f"t{i}"}).insert().name)
                local.db.commit()
                local.db.begin()
        results.put(("ok", names))
    except BaseException:  # noqa: BLE001 - reported to the test
        results.put(("error", traceback.format_exc()))


def test_naming_series_never_duplicates_under_concurrency(ctx, make_doctype, site, bench, unique):
    prefix = f"CC{unique}-"
    dt = make_doctype(TITLE, autoname=f"{prefix}.YYYY.-.#####")
    ctx.db.commit()  # release our transaction (on SQLite it would hold the write lock)
    mp = multiprocessing.get_context("spawn")
    workers, per_worker = 4, 25
    barrier = mp.Barrier(workers)
    results = mp.Queue()
    procs = [mp.Process(target=_insert_many, args=(site, bench, dt, per_worker, barrier, results))
             for _ in range(workers)]
    for p in procs:
        p.start()
    reported = []
    deadline = time.monotonic() + 240
    try:
        while len(reported) < workers and time.monotonic() < deadline:
            try:
                reported.append(results.get(timeout=1))
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and results.empty():
                    break
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
    errors = [detail for status, detail in reported if status == "error"]
    assert not errors, errors[0]
    assert len(reported) == workers, f"only {len(reported)} of {workers} workers reported"
    assert [p.exitcode for p in procs] == [0] * workers
    from_workers = [n for _, names in reported for n in names]
    assert len(from_workers) == workers * per_worker
    assert len(set(from_workers)) == workers * per_worker
    stored = ctx.db.sql(f"SELECT `name` FROM `tab{dt}`", pluck=True)
    assert sorted(stored) == sorted(from_workers)
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in stored)
    assert numbers == list(range(1, workers * per_worker + 1))
    assert all(n.startswith(f"{prefix}{YEAR}-") for n in stored)


def test_renaming_an_autoincrement_document_to_other_digits(ctx, make_doctype, unique):
    """Names that str.isdigit() takes but int() does not (superscripts), and numbers far
    past the counter, leave the counter alone instead of failing the rename."""
    from lowcode.rename import rename_doc
    dt = make_doctype(TITLE, autoname="autoincrement", allow_rename=1)
    name = insert(dt, title="a").name
    for new in ("²", "1²", "9" * 30):
        rename_doc(dt, name, new)
        name = new
    rename_doc(dt, name, "2")
    assert insert(dt, title="b").name == "3"


def test_series_blocks_reserve_once_skip_taken_names_and_give_back(ctx, make_doctype, unique):
    """Inside series_blocks a series takes its numbers a block at a time (one increment,
    one query for the names already taken); the block's unused tail goes back at the end."""
    from lowcode.naming import give_back_series_blocks, series_blocks
    dt = make_doctype(TITLE, autoname=f"SB{unique}-.###")
    key = f"SB{unique}-"
    current = lambda: ctx.db.sql("SELECT `current` FROM `tabSeries` WHERE `name`=%s", (key,))[0][0]  # noqa: E731
    first = insert(dt, title="by hand").name  # 001, then moved onto a name of the coming block
    ctx.db.sql(f"UPDATE `tab{dt}` SET `name`=%s WHERE `name`=%s", (f"{key}003", first))
    with series_blocks(5):
        names = [insert(dt, title=str(i)).name for i in range(3)]
        assert names == [f"{key}002", f"{key}004", f"{key}005"]
        assert current() == 6  # one increment for the block 002..006
        give_back_series_blocks()
        assert current() == 5  # 006 was not used: given back
    assert insert(dt, title="after").name == f"{key}006"


def test_series_blocks_follow_savepoints_and_rollbacks(ctx, make_doctype, unique):
    from lowcode.naming import give_back_series_blocks, series_blocks
    dt = make_doctype(TITLE, autoname=f"SR{unique}-.###")
    key = f"SR{unique}-"
    with series_blocks(2):
        assert insert(dt).name == f"{key}001"
        ctx.db.savepoint("t")
        assert [insert(dt).name, insert(dt).name] == [f"{key}002", f"{key}003"]  # 003: a second block
        ctx.db.rollback_to_savepoint("t")  # undoes 002 and the second block's increment
        assert ctx.db.sql("SELECT `current` FROM `tabSeries` WHERE `name`=%s", (key,))[0][0] == 2
        assert [insert(dt).name, insert(dt).name] == [f"{key}002", f"{key}003"]
        ctx.db.commit()
        assert insert(dt).name == f"{key}004"  # the committed block's number is still ours
        ctx.db.rollback()  # the whole transaction: 004 goes back to the pool
        assert insert(dt).name == f"{key}004"
        give_back_series_blocks()
        ctx.db.commit()
    assert ctx.db.sql("SELECT `current` FROM `tabSeries` WHERE `name`=%s", (key,))[0][0] == 4
    assert sorted(ctx.db.sql(f"SELECT `name` FROM `tab{dt}`", pluck=True)) == [f"{key}{i:03d}" for i in range(1, 5)]


def test_series_blocks_give_nothing_back_after_someone_took_a_later_number(ctx, make_doctype, unique):
    from lowcode.naming import give_back_series_blocks, series_blocks
    dt = make_doctype(TITLE, autoname=f"SG{unique}-.###")
    key = f"SG{unique}-"
    with series_blocks(10):
        assert insert(dt).name == f"{key}001"
        ctx.db.sql("UPDATE `tabSeries` SET `current`=11 WHERE `name`=%s", (key,))  # another session took 011
        give_back_series_blocks()
    assert ctx.db.sql("SELECT `current` FROM `tabSeries` WHERE `name`=%s", (key,))[0][0] == 11


def test_series_blocks_whose_only_block_was_rolled_back_give_nothing_back(ctx, make_doctype, unique):
    from lowcode.naming import give_back_series_blocks, series_blocks
    dt = make_doctype(TITLE, autoname=f"SN{unique}-.###")
    with series_blocks(3):
        ctx.db.begin()  # a savepoint sits in a unit of work (SQLite)
        ctx.db.savepoint("t")
        insert(dt)
        ctx.db.rollback_to_savepoint("t")
        give_back_series_blocks()
    assert not ctx.db.sql("SELECT `current` FROM `tabSeries` WHERE `name`=%s", (f"SN{unique}-",))
    assert insert(dt).name == f"SN{unique}-001"
