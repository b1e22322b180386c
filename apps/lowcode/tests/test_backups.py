"""Backups restored on both engines and verified by the site's fingerprint (every table's
rows, every file's SHA-256): plain and encrypted, database and files; a tampered or cut
encrypted backup and a wrong key refused with the site untouched; the schedule and the
retention of backup sets (lowcode/backups.py, backup_crypto.py, fingerprint.py)."""
import datetime
import json
import os
import re

import pytest
from click.testing import CliRunner

import lowcode
from lowcode import backup_crypto, backups, sites
from lowcode.api.files import save_file
from lowcode.cli import Bench, main
from lowcode.exceptions import CommandError
from lowcode.fingerprint import differences, fingerprint, table_fingerprint
from lowcode.testing.pytest_plugin import ENGINES

PERMS = [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}]


def make_data(bench, site):
    """Documents with child rows and a Version, Persian and Hebrew text, decimals and dates,
    a public and a private file."""
    with lowcode.site_context(site, bench=bench) as local:
        lowcode.get_doc({"doctype": "DocType", "name": "Backup Line", "module": "Custom", "istable": 1,
                         "fields": [{"fieldname": "item", "fieldtype": "Data", "label": "Item"},
                                    {"fieldname": "qty", "fieldtype": "Float", "label": "Qty"},
                                    {"fieldname": "rate", "fieldtype": "Currency", "label": "Rate"}]}).insert()
        lowcode.get_doc({"doctype": "DocType", "name": "Backup Deal", "module": "Custom", "track_changes": 1,
                         "autoname": "hash", "permissions": PERMS,
                         "fields": [{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                                    {"fieldname": "amount", "fieldtype": "Currency", "label": "Amount"},
                                    {"fieldname": "closing", "fieldtype": "Date", "label": "Closing"},
                                    {"fieldname": "called_at", "fieldtype": "Datetime", "label": "Called at"},
                                    {"fieldname": "lines", "fieldtype": "Table", "label": "Lines",
                                     "options": "Backup Line"}]}).insert()
        local.db.commit()
        for i, title in enumerate(["قرارداد شرکت آریا", "עסקה עם חברת אור", "Plain deal"]):
            doc = lowcode.get_doc({"doctype": "Backup Deal", "title": title, "amount": "1234567.89",
                                   "closing": "2026-03-20", "called_at": "2026-12-06 10:15:30",
                                   "lines": [{"item": "کالا ۱", "qty": 2.5, "rate": "0.10"},
                                             {"item": "פריט", "qty": i, "rate": "99999.99"}]}).insert()
        doc.title = doc.title + " (changed)"
        doc.save()  # a Version
        assert lowcode.get_count("Version", filters={"ref_doctype": "Backup Deal"}) == 1
        save_file("logo.txt", "public شرکت".encode())
        save_file("contract.txt", b"private \x00\xff bytes", private=True)
        local.db.commit()


def command(bench, site, *args):
    """A `lowcode` command run in this process; its output."""
    result = CliRunner().invoke(main, ["--sites-path", bench, "--site", site, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def site_fingerprint(bench, site):
    with lowcode.site_context(site, bench=bench) as local:
        return fingerprint(local.db, local.site_path)


def mutate(bench, site):
    """Rows deleted, changed and added, a new table, a file changed, one added, one gone."""
    root = sites.site_path(site, bench)
    with lowcode.site_context(site, bench=bench) as local:
        names = lowcode.get_all("Backup Deal", pluck="name")
        lowcode.delete_doc("Backup Deal", names[0])
        doc = lowcode.get_doc("Backup Deal", names[1])
        doc.lines[0].qty = 7
        doc.save()
        lowcode.get_doc({"doctype": "Backup Deal", "title": "After the backup"}).insert()
        lowcode.get_doc({"doctype": "DocType", "name": "Backup Later", "module": "Custom", "permissions": PERMS,
                         "fields": [{"fieldname": "note", "fieldtype": "Data", "label": "Note"}]}).insert()
        local.db.commit()
    public = os.path.join(root, "public", "files")
    with open(os.path.join(public, "logo.txt"), "ab") as f:
        f.write(b" changed")
    with open(os.path.join(public, "new.txt"), "w") as f:
        f.write("added after the backup")
    os.remove(os.path.join(root, "private", "files", "contract.txt"))


def test_restore_gives_back_every_row_and_file(site_with_apps, bench, tmp_path):
    site = site_with_apps()
    # Private files on another disk, linked in: archived through the link, restored into it.
    private = os.path.join(bench, site, "private", "files")
    shared = tmp_path / "shared-private-files"
    os.rename(private, shared)
    os.symlink(shared, private)
    make_data(bench, site)
    original = site_fingerprint(bench, site)
    assert original["tables"]["tabBackup Line"]["rows"] == 6
    assert set(original["files"]) == {"public/files/logo.txt", "private/files/contract.txt"}

    plain_db, plain_files = backups.take_backup(bench, site, with_files=True, encrypt=False)
    sealed_db, sealed_files = command(bench, site, "backup", "--with-files", "--encrypt").split()
    assert sealed_db.endswith(".gz.enc") and sealed_files.endswith("-files.tar.gz.enc")
    with open(sealed_db, "rb") as f:
        assert b"Backup Deal" not in f.read()  # encrypted, not only compressed

    # Without migrate every row is the backup's; migrate writes the standard DocTypes'
    # definitions anew (new row names and times), the same number of rows.
    for database, files, migrate in ((sealed_db, sealed_files, False), (plain_db, plain_files, True)):
        mutate(bench, site)
        assert differences(original, site_fingerprint(bench, site))
        if migrate:
            report = backups.restore_backup(Bench(bench, site), site, database, files=files)
            restored = site_fingerprint(bench, site)
        else:
            out = command(bench, site, "restore", database, "--with-files", files, "--no-migrate", "--yes")
            assert out.splitlines()[0] == f"Restored {database} into {site}"
            numbers = re.fullmatch(r"(\d+) tables, (\d+) rows; (\d+) files, (\d+) bytes", out.splitlines()[1])
            report = dict(zip(("tables", "rows", "files", "bytes"), map(int, numbers.groups())))
            restored = json.loads(command(bench, site, "fingerprint", "--json"))
        rewritten = {"tabDocType", "tabDocField", "tabDocPerm"} if migrate else set()
        assert differences(original, restored) == [f"table {t}: content differs" for t in sorted(rewritten)]
        assert all(restored["tables"][t]["rows"] == original["tables"][t]["rows"] for t in rewritten)
        assert report["files"] == 2 and report["tables"] == len(original["tables"])
        assert report["rows"] == sum(t["rows"] for t in original["tables"].values()) + 1  # + meta version
    assert os.path.islink(private) and os.listdir(shared) == ["contract.txt"]
    with lowcode.site_context(site, bench=bench):
        assert not lowcode.db.exists("DocType", "Backup Later")
        doc = lowcode.get_doc("Backup Deal", {"title": ["like", "%(changed)"]})
        assert [str(line.rate) for line in doc.lines] == ["0.1", "99999.99"] or \
            [float(line.rate) for line in doc.lines] == [0.1, 99999.99]


def test_a_bad_encrypted_backup_is_refused_and_the_site_untouched(site_with_apps, bench):
    site = site_with_apps()
    make_data(bench, site)
    database, files = backups.take_backup(bench, site, with_files=True, encrypt=True)
    mutate(bench, site)
    before = site_fingerprint(bench, site)
    runner = Bench(bench, site)

    def refused(db_path, files_path, words):
        with pytest.raises(CommandError, match=words):
            backups.restore_backup(runner, site, db_path, files=files_path)
        assert differences(before, site_fingerprint(bench, site)) == []

    size = os.path.getsize(database)
    tampered = database.replace("-database", "-tampered")
    with open(database, "rb") as src, open(tampered, "wb") as out:
        data = bytearray(src.read())
        data[size // 2] ^= 0x01
        out.write(data)
    refused(tampered, None, "was changed")
    cut = database.replace("-database", "-cut")
    with open(database, "rb") as src, open(cut, "wb") as out:
        out.write(src.read()[:size - 20])
    refused(cut, None, "cut short|changed")
    # A good database with a tampered files archive: nothing is restored either.
    bad_files = files.replace("-files", "-badfiles")
    with open(files, "rb") as src, open(bad_files, "wb") as out:
        data = bytearray(src.read())
        data[-5] ^= 0x80
        out.write(data)
    refused(database, bad_files, "was changed")

    config = os.path.join(bench, site, "site_config.json")
    conf = sites.read_json(config)
    sites.write_json(config, dict(conf, backup_encryption_key="another secret"))
    try:
        refused(database, files, "wrong key")
    finally:
        sites.write_json(config, conf)


def backup_names(folder, site, stamps, extra=()):
    os.makedirs(folder, exist_ok=True)
    for stamp in stamps:
        for part in ("database.sqlite3.gz", "files.tar.gz"):
            open(os.path.join(folder, f"{stamp}-{site}-{part}"), "w").close()
    for name in extra:
        open(os.path.join(folder, name), "w").close()


def test_retention_keeps_the_newest_sets_and_only_touches_its_own_files(tmp_path):
    site = "crm.localhost"
    root = str(tmp_path / site)
    folder = backups.backups_folder(root)
    foreign = ["todo-custom_code-20200101.json", "20200101_000000-other.localhost-database.sqlite3.gz",
               "notes.txt"]
    backup_names(folder, site, ["20261201_000000", "20261202_000000", "20261203_000000", "20261203_000000_1",
                                "20261204_060000"], foreign)
    now = datetime.datetime(2026, 12, 4, 7, 0)
    deleted = backups.prune_backups(root, site, {"backup_keep": 2}, now=now)
    assert len(deleted) == 6
    left = sorted(os.listdir(folder))
    assert [n for n in left if n not in foreign] == [
        f"{s}-{site}-{p}" for s in ("20261203_000000_1", "20261204_060000") for p in ("database.sqlite3.gz",
                                                                                        "files.tar.gz")]
    assert set(foreign) <= set(left)
    # By age: sets older than a day go, but never the newest one even when old.
    assert len(backups.prune_backups(root, site, {"backup_keep_days": 1}, now=now)) == 2
    assert len(backups.prune_backups(root, site, {"backup_keep_days": 1}, now=now + datetime.timedelta(days=9))) == 0
    assert len(os.listdir(folder)) == 2 + len(foreign)
    assert backups.prune_backups(root, site, {}, now=now) == []  # default: the newest 4


def test_backup_due_follows_the_frequency(tmp_path):
    site = "crm.localhost"
    root = str(tmp_path / site)
    now = datetime.datetime(2026, 12, 6, 12, 0)
    assert not backups.backup_due(root, site, {}, now=now)  # off unless configured
    assert backups.backup_due(root, site, {"backup_frequency": "Daily"}, now=now)  # no backup yet
    backup_names(backups.backups_folder(root), site, ["20261206_060500"])
    assert backups.backup_due(root, site, {"backup_frequency": "Every 6 Hours"}, now=now)  # 5 h 55 min, slack
    assert not backups.backup_due(root, site, {"backup_frequency": "Daily"}, now=now)
    assert backups.backup_due(root, site, {"backup_frequency": "Hourly"}, now=now)
    partial = os.path.join(backups.backups_folder(root), f"20261206_115900-{site}-database.sqlite3.gz.partial")
    open(partial, "w").close()
    assert not backups.backup_due(root, site, {"backup_frequency": "Hourly"}, now=now)  # one is being written
    os.utime(partial, (0, 0))  # ... or was, by a job killed long ago
    assert backups.backup_due(root, site, {"backup_frequency": "Hourly"}, now=now)
    with pytest.raises(CommandError, match="backup_frequency 'Monthly'"):
        backups.backup_due(root, site, {"backup_frequency": "Monthly"}, now=now)


def test_the_scheduler_takes_the_backup_and_prunes(site_with_apps, bench):
    site = site_with_apps()
    config = os.path.join(bench, site, "site_config.json")
    sites.write_json(config, dict(sites.read_json(config), backup_frequency="Daily", backup_keep=1,
                                  encrypt_backup=1))
    root = sites.site_path(site, bench)
    backup_names(backups.backups_folder(root), site, ["20200101_000000"])
    with lowcode.site_context(site, bench=bench) as local:
        assert lowcode.db.exists("Scheduled Job Type", {"method": "lowcode.backups.backup_if_due",
                                                        "frequency": "Hourly"})
        if site_with_apps.db_type == "sqlite":
            backups.backup_if_due()  # no Redis: the queued backup runs after the commit
            local.db.commit()
        else:
            backups.scheduled_backup()  # what the long queue's worker runs
    sets = backups.backup_sets(root, site)
    assert len(sets) == 1 and sets[0][0].year >= 2026
    assert sorted(os.path.basename(p).split(f"-{site}-")[1] for p in sets[0][1]) == [
        "database.sqlite3.gz.enc" if site_with_apps.db_type == "sqlite" else "database.sql.gz.enc",
        "files.tar.gz.enc"]
    with lowcode.site_context(site, bench=bench):
        assert not backups.backup_due(root, site, sites.get_site_config(site, bench))


@pytest.mark.parametrize("size", [0, 1, backup_crypto.CHUNK, 2 * backup_crypto.CHUNK + 7])
def test_encryption_streams_in_chunks_and_checks_each(tmp_path, size):
    data = os.urandom(size)
    sealed = tmp_path / "x.enc"
    with open(sealed, "wb") as raw:
        writer = backup_crypto.EncryptingWriter(raw, "secret")
        for start in range(0, size, 300_000):  # written in pieces that do not fit the chunks
            writer.write(data[start:start + 300_000])
        writer.close()
    chunks = max(1, -(-size // backup_crypto.CHUNK))
    assert os.path.getsize(sealed) == backup_crypto.HEADER_SIZE + size + chunks * (4 + 16)
    backup_crypto.decrypt_file(str(sealed), str(tmp_path / "x"), "secret")
    assert (tmp_path / "x").read_bytes() == data
    if chunks > 1:
        # The last chunk dropped: the file no longer ends on a chunk sealed as last.
        body = sealed.read_bytes()
        last = backup_crypto.CHUNK + 16 + 4
        cut = tmp_path / "cut.enc"
        cut.write_bytes(body[:backup_crypto.HEADER_SIZE + last * (chunks - 1)])
        with pytest.raises(CommandError, match="changed or cut short"):
            backup_crypto.decrypt_file(str(cut), str(tmp_path / "y"), "secret")
    with pytest.raises(CommandError, match="wrong key"):
        backup_crypto.decrypt_file(str(sealed), str(tmp_path / "z"), "other")
    assert backup_crypto.is_encrypted(str(sealed)) and not backup_crypto.is_encrypted(str(tmp_path / "x"))


@pytest.mark.skipif("mariadb" not in ENGINES, reason="compares the two engines")
def test_the_same_rows_fingerprint_alike_on_both_engines(sqlite_site, mariadb_site, bench, unique):
    """Decimals, dates, times, flags, Persian and Hebrew text read back as each engine's own
    types (float or Decimal, text or datetime) and hash the same."""
    doctype = f"Backup Alike {unique}"
    fields = [{"fieldname": n, "fieldtype": t, "label": n} for n, t in (
        ("title", "Data"), ("amount", "Currency"), ("ratio", "Float"), ("qty", "Int"), ("done", "Check"),
        ("due", "Date"), ("called_at", "Datetime"), ("body", "Long Text"))]
    row = {"title": "قرارداد ۱ / עסקה", "ratio": 0.125, "qty": 42, "done": 1, "due": "2026-03-20",
           "called_at": "2026-12-06 08:00:00", "body": "line 1\nخط ۲"}
    found = []
    for site in (sqlite_site, mariadb_site):
        with lowcode.site_context(site, bench=bench) as local:
            lowcode.get_doc({"doctype": "DocType", "name": doctype, "module": "Custom", "permissions": PERMS,
                             "fields": fields}).insert()
            for i in range(3):
                doc = lowcode.get_doc(dict(row, doctype=doctype, amount=f"123456{i}.50")).insert()
                # The names and times each site gave differ; make them the same.
                local.db.sql(f"UPDATE `tab{doctype}` SET `name`=%s, `creation`=%s, `modified`=%s WHERE `name`=%s",
                             (f"R{i}", "2026-12-06 10:15:30.250000", "2026-12-06 10:15:30", doc.name))
            local.db.commit()
            found.append(table_fingerprint(local.db, "tab" + doctype))
            lowcode.delete_doc("DocType", doctype)
            local.db.commit()
    assert found[0] == found[1] and found[0][0] == 3
