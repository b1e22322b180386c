"""The form builder of Customize Form over HTTP, on both engines: the editor shows the
layout (tabs, sections, columns) with each field in its place; a layout the builder
posts (a field moved to another section, a new field between two others, a new tab,
section and column) is stored as Customize Form stores it and renders that way on the
real form; invalid moves are refused naming the field, with nothing written."""
import re
from urllib.parse import quote, urlencode

import pytest

import lowcode
from lowcode.meta import get_meta
from lowcode.utils import route_for

from .test_desk_customize import counts, customize, desk_user, field_rows, find, refresh, text, write


@pytest.fixture
def layout_doctype(make_doctype):
    return make_doctype([
        {"fieldname": "title", "fieldtype": "Data", "label": "Title"},
        {"fieldname": "status", "fieldtype": "Data", "label": "Status"},
        {"fieldname": "col_a", "fieldtype": "Column Break"},
        {"fieldname": "notes", "fieldtype": "Small Text", "label": "Notes"},
        {"fieldname": "details", "fieldtype": "Section Break", "label": "Details"},
        {"fieldname": "city", "fieldtype": "Data", "label": "City"},
        {"fieldname": "phone", "fieldtype": "Data", "label": "Phone"},
    ])


@pytest.fixture
def manager(ctx, client, unique):
    return desk_user(ctx, client, unique, "builder-admin")[1]


def between(page, start, end):
    """The part of the page from ``start`` to the next ``end`` after it."""
    i = page.index(start)
    return page[i:page.index(end, i + len(start))] if end in page[i + len(start):] else page[i:]


def test_editor_shows_the_layout_with_fields_in_their_columns(ctx, client, manager, layout_doctype):
    dt = layout_doctype
    page = text(client.get("/app/customize-form?" + urlencode({"doctype": dt})))
    # The first section's two columns: title and status in the first, notes after the break.
    sections = page[:page.index('<template id="new-field-template"')].split("data-section>")
    assert len(sections) == 3  # the first section (no break) and Details
    first, details = sections[1], sections[2]
    columns = first.split("data-column>")
    assert 'data-fieldname="title"' in columns[1] and 'data-fieldname="status"' in columns[1]
    assert 'data-fieldname="col_a"' in columns[2] and 'data-fieldname="notes"' in columns[2]
    assert 'data-fieldname="details"' in details.split("data-column>")[0]  # the section's own card heads it
    assert 'data-fieldname="city"' in details and 'data-fieldname="phone"' in details
    for kind in ("tab", "section", "column"):
        assert f'id="new-{kind}-template"' in page
    assert 'id="new-field-dialog"' in page and "sortable.js" in page


def test_moved_field_and_inserted_field_render_on_the_form(ctx, client, manager, layout_doctype):
    dt = layout_doctype
    rows = {r["fieldname"]: r for r in field_rows(dt)}
    # What the builder posts after dragging Status into Details between City and Phone,
    # adding "Floor" with "+" after City's... after Status, and a new tab with a section
    # holding a new column.
    posted = [rows["title"], rows["col_a"], rows["notes"], rows["details"], rows["city"], rows["status"],
              {"is_new": 1, "fieldtype": "Int", "label": "Floor", "reqd": 1},
              rows["phone"],
              {"is_new": 1, "fieldtype": "Tab Break", "label": "More"},
              {"is_new": 1, "fieldtype": "Data", "label": "Nickname"},
              {"is_new": 1, "fieldtype": "Section Break", "label": "Extra"},
              {"is_new": 1, "fieldtype": "Column Break", "label": ""},
              {"is_new": 1, "fieldtype": "Data", "label": "Hobby", "options": ""}]
    r = customize(client, manager, dt, posted)
    assert r.status_code == 302, text(r)[:3000]
    refresh(ctx)
    order = [f.fieldname for f in get_meta(dt).fields]
    assert order == ["title", "col_a", "notes", "details", "city", "status", "custom_floor", "phone",
                     "custom_more", "custom_nickname", "custom_extra", "custom_column_break_1", "custom_hobby"]
    # The new field's Custom Field sits after the field it was inserted after.
    assert lowcode.get_value("Custom Field", {"dt": dt, "fieldname": "custom_floor"}, "insert_after") == "status"
    assert lowcode.get_value("Custom Field", {"dt": dt, "fieldname": "custom_floor"}, "reqd") == 1
    assert lowcode.get_value("Custom Field", {"dt": dt, "fieldname": "custom_hobby"},
                             "insert_after") == "custom_column_break_1"

    write(ctx)
    name = lowcode.get_doc({"doctype": dt, "title": "layout-doc", "custom_floor": 3}).insert().name
    refresh(ctx)
    page = text(client.get(f"/app/{route_for(dt)}/{quote(name)}"))
    details = between(page, ">Details</h2>", "</section>")
    positions = [details.index(f'id="f-{f}"') for f in ("city", "status", "custom_floor", "phone")]
    assert positions == sorted(positions)
    assert 'id="f-status"' not in page[:page.index(">Details</h2>")]
    second_tab = page[page.index('id="tab-2"'):]
    assert ">More<" in page and 'id="f-custom_nickname"' in second_tab
    extra = between(second_tab, ">Extra</h2>", "</section>")
    assert 'id="f-custom_hobby"' in extra and 'id="f-custom_nickname"' not in extra

    # Moving an existing custom field moves its insert_after too (Frappe's Customize Form).
    rows = {r["fieldname"]: r for r in field_rows(dt)}
    order = [f.fieldname for f in get_meta(dt).fields]
    order.remove("custom_hobby")
    order.insert(order.index("title") + 1, "custom_hobby")
    assert customize(client, manager, dt, [rows[f] for f in order]).status_code == 302
    refresh(ctx)
    assert [f.fieldname for f in get_meta(dt).fields] == order
    assert lowcode.get_value("Custom Field", {"dt": dt, "fieldname": "custom_hobby"}, "insert_after") == "title"
    order.remove("custom_hobby")
    order.append("custom_hobby")
    assert customize(client, manager, dt, [rows[f] for f in order]).status_code == 302
    refresh(ctx)
    assert lowcode.get_value("Custom Field", {"dt": dt, "fieldname": "custom_hobby"},
                             "insert_after") == "custom_column_break_1"

    # The editor shows the stored layout again: Floor in the Details section, after Status.
    editor = text(client.get("/app/customize-form?" + urlencode({"doctype": dt})))
    details = editor.split("data-section>")[2]
    assert details.index('data-fieldname="status"') < details.index('data-fieldname="custom_floor"') \
        < details.index('data-fieldname="phone"')


INVALID_MOVES = {
    "unknown field": (lambda rows: rows[:2] + [{"fieldname": "ghost_field", "label": "Ghost"}] + rows[2:],
                      "ghost_field"),
    "field twice": (lambda rows: rows + [dict(find(rows, "city"))], "city"),
}


@pytest.mark.parametrize("case", sorted(INVALID_MOVES))
def test_invalid_moves_are_refused_naming_the_field(ctx, client, manager, layout_doctype, case):
    dt = layout_doctype
    change, fieldname = INVALID_MOVES[case]
    before = counts(ctx, dt)
    rows = field_rows(dt)
    # A valid move and a new field in the same batch: not written either.
    rows = [find(rows, "phone")] + [r for r in rows if r["fieldname"] != "phone"] + \
        [{"is_new": 1, "fieldtype": "Data", "label": "Kept Out"}]
    r = customize(client, manager, dt, change(rows))
    assert 400 <= r.status_code < 500, (r.status_code, text(r)[:2000])
    page = text(r)
    error = between(page, 'id="form-error"', "</div>")
    assert repr(fieldname) in error, error
    if case == "field twice":  # the refused row is marked in the redisplayed builder
        assert re.search(r'border-danger" data-key="\d+" data-fieldname="city"', page)
    assert counts(ctx, dt) == before
    refresh(ctx)
    assert [f.fieldname for f in get_meta(dt).fields][0] == "title"
