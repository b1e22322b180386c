"""The desk's Calendar view over HTTP, on both engines: month, week and day grids with
the events in range (and not the others), spans to an end field, the Jalali month
grid for a Jalali user, only documents the user may read, and rescheduling that
saves the document like the form does or is refused with nothing changed."""
import pytest

import lowcode
from lowcode.utils import route_for

from .test_desk_kanban import (as_json, ensure_role, login, make_user, parse_html, refresh, stored, versions,
                               write)


@pytest.fixture
def cal(ctx, make_doctype, unique):
    """A tracked DocType with a Datetime start, a Datetime end and a permlevel-1 Date; a
    planner role that may write level 0 and only read level 1; events in and around
    May 2026."""
    planner = f"Planner {unique}"
    ensure_role(planner)
    dt = make_doctype([
        {"fieldname": "subject", "fieldtype": "Data", "label": "Subject"},
        {"fieldname": "kind", "fieldtype": "Select", "label": "Kind", "options": "Call\nMeeting",
         "in_standard_filter": 1},
        {"fieldname": "review_on", "fieldtype": "Date", "label": "Review On", "permlevel": 1},
        {"fieldname": "starts_on", "fieldtype": "Datetime", "label": "Starts On", "in_list_view": 1},
        {"fieldname": "ends_on", "fieldtype": "Datetime", "label": "Ends On"},
        {"fieldname": "reason", "fieldtype": "Data", "label": "Postponement Reason",
         "mandatory_depends_on": "eval:doc.kind == 'Meeting' and doc.starts_on >= '2026-06-01'"},
    ], title_field="subject", track_changes=1, permissions=[
        {"role": "System Manager", "read": 1, "write": 1, "create": 1},
        {"role": planner, "read": 1, "write": 1, "create": 1},
        {"role": planner, "permlevel": 1, "read": 1}])
    events = {}
    for key, starts, ends, kind in (
            ("may10", "2026-05-10 10:30:00", "2026-05-10 11:30:00", "Call"),
            ("may31", "2026-05-31 23:00:00", None, "Meeting"),
            ("july", "2026-07-01 09:00:00", None, "Call"),           # after the May grid
            ("april", "2026-04-15 09:00:00", None, "Call"),          # before it (it starts on 27 April)
            ("span", "2026-04-20 09:00:00", "2026-05-02 17:00:00", "Meeting"),  # starts before, ends inside
            ("farvardin", "2026-04-15 08:00:00", None, "Call"),
            ("ordibehesht", "2026-04-25 08:00:00", None, "Call")):
        events[key] = lowcode.get_doc({"doctype": dt, "subject": f"{key} {unique}", "starts_on": starts,
                                       "ends_on": ends, "kind": kind, "review_on": starts[:10]}).insert().name
    user = make_user(unique, "planner", [planner])
    return {"doctype": dt, "route": route_for(dt), "events": events, "user": user, "unique": unique}


def when(doctype, name, field):
    """A stored date or datetime as text, without the microseconds MariaDB adds."""
    return str(stored(doctype, name, field))[:19]


def cells(page):
    """{date: [event names]} over the grid's drop zones (hours merged into their day)."""
    out = {}
    for ul in page.find_all("ul", cls="cal-drop"):
        names = [li.attrs["data-name"] for li in ul.find_all("li", cls="cal-event")]
        out.setdefault(ul.attrs["data-date"], []).extend(names)
    return out


def shown(page):
    return {name for names in cells(page).values() for name in names}


def reschedule(client, headers, cal, name, from_date, to_date, to_hour="", end_field="ends_on", field="starts_on",
               modified=None):
    data = {"name": name, "field": field, "end_field": end_field, "from_date": from_date, "to_date": to_date,
            "to_hour": to_hour}
    if modified:
        data["modified"] = modified
    return client.post(f"/app/{cal['route']}/view/calendar/move", data, **headers)


# -- grids ------------------------------------------------------------------------------------------

def test_month_grid_shows_the_events_in_range_only(ctx, client, cal):
    refresh(ctx)
    login(client, cal["user"])
    ev = cal["events"]
    r = client.get(f"/app/{cal['route']}/view/calendar?date=2026-05-15")
    assert r.status_code == 200
    page = parse_html(r)
    assert "May 2026" in page.find("h2", id="cal-title").text
    # Default start field: the Datetime shown in the list view; no end field.
    assert page.find(id="calendar").attrs["data-field"] == "starts_on"
    grid = cells(page)
    assert min(grid) == "2026-04-27" and max(grid) == "2026-05-31"  # whole weeks, Monday first
    assert ev["may10"] in grid["2026-05-10"] and ev["may31"] in grid["2026-05-31"]
    assert not {ev["july"], ev["april"], ev["span"]} & shown(page)
    assert "10:30" in page.find("li", cls="cal-event", data_name=ev["may10"]).text
    # Filters of the list view apply.
    page = parse_html(client.get(f"/app/{cal['route']}/view/calendar?date=2026-05-15&kind=Meeting"))
    assert shown(page) == {ev["may31"]}

    # With the end field, an event spanning into the grid shows on each of its days in it.
    page = parse_html(client.get(f"/app/{cal['route']}/view/calendar?date=2026-05-15&end_field=ends_on"))
    grid = cells(page)
    assert all(ev["span"] in grid[d] for d in ("2026-04-27", "2026-04-30", "2026-05-02"))
    assert ev["span"] not in grid["2026-05-03"] and ev["july"] not in shown(page)


def test_week_and_day_grids_place_timed_events_in_their_hour(ctx, client, cal):
    refresh(ctx)
    login(client, cal["user"])
    ev = cal["events"]
    page = parse_html(client.get(f"/app/{cal['route']}/view/calendar?mode=week&date=2026-05-13"))
    days = sorted(cells(page))
    assert days[0] == "2026-05-11" and days[-1] == "2026-05-17"
    assert ev["may10"] not in shown(page)  # Sunday the 10th belongs to the week before
    page = parse_html(client.get(f"/app/{cal['route']}/view/calendar?mode=day&date=2026-05-10"))
    assert set(cells(page)) == {"2026-05-10"}
    slot = page.find("ul", cls="cal-drop", data_date="2026-05-10", data_hour="10")
    assert [li.attrs["data-name"] for li in slot.find_all("li")] == [ev["may10"]]


def test_jalali_user_gets_a_jalali_month(ctx, client, cal, unique):
    write(ctx)
    user = make_user(unique, "jalali", [f"Planner {unique}"], calendar="Jalali", use_local_digits=1)
    refresh(ctx)
    login(client, user)
    ev = cal["events"]
    # 25 March 2026 is 5 Farvardin 1405: the month runs from 21 March to 20 April.
    page = parse_html(client.get(f"/app/{cal['route']}/view/calendar?date=2026-03-25"))
    assert page.find("h2", id="cal-title").text == "Farvardin ۱۴۰۵"
    first = page.find("td", data_date="2026-03-21")
    assert first.find("a", cls="cal-number").text == "۱" and "cal-out" not in first.attrs["class"]
    assert page.find("td", data_date="2026-04-20").find("a", cls="cal-number").text == "۳۱"
    grid = cells(page)
    # Weeks start on Saturday; 21 March 2026 is one, and 20 April a Monday.
    assert min(grid) == "2026-03-21" and max(grid) == "2026-04-24"
    assert "cal-out" in page.find("td", data_date="2026-04-21").attrs["class"]
    assert ev["farvardin"] in grid["2026-04-15"]
    assert ev["ordibehesht"] not in shown(page)  # in the Gregorian April grid, not in Farvardin's

    # A Persian reader sees the month's Persian name.
    write(ctx)
    lowcode.db.sql("UPDATE `tabUser` SET `language`='fa' WHERE `name`=%s", (user,))
    refresh(ctx)
    page = parse_html(client.get(f"/app/{cal['route']}/view/calendar?date=2026-03-25"))
    assert page.find("h2", id="cal-title").text == "فروردین ۱۴۰۵"
    assert page.find("html").attrs["dir"] == "rtl"


def test_no_events_without_read_permission(ctx, client, cal, unique):
    write(ctx)
    outsider = make_user(unique, "outsider", [f"Nobody {unique}"])
    refresh(ctx)
    headers = login(client, outsider)
    r = client.get(f"/app/{cal['route']}/view/calendar?date=2026-05-15")
    assert r.status_code == 403
    page = parse_html(r)
    assert not page.find_all("li", cls="cal-event") and f"may10 {unique}" not in page.find("main").text
    r = reschedule(client, headers, cal, cal["events"]["may10"], "2026-05-10", "2026-05-11")
    assert r.status_code == 403 and as_json(r)["exc_type"] == "PermissionError"


# -- rescheduling -----------------------------------------------------------------------------------

def test_reschedule_moves_start_and_end(ctx, client, cal):
    refresh(ctx)
    headers = login(client, cal["user"])
    dt, name = cal["doctype"], cal["events"]["may10"]
    modified = str(stored(dt, name, "modified"))
    r = reschedule(client, headers, cal, name, "2026-05-10", "2026-05-12", modified=modified)
    assert r.status_code == 200, r.content
    data = as_json(r)
    refresh(ctx)
    assert when(dt, name, "starts_on") == "2026-05-12 10:30:00"
    assert when(dt, name, "ends_on") == "2026-05-12 11:30:00"  # the end keeps the duration
    assert data["start"] == "2026-05-12 10:30:00" and data["modified"] == str(stored(dt, name, "modified"))
    assert {c[0] for v in versions(dt, name) for c in v["changed"]} == {"starts_on", "ends_on"}

    # To another hour in week/day mode: the hour changes, the minutes stay.
    r = reschedule(client, headers, cal, name, "2026-05-12", "2026-05-12", to_hour="15", modified=data["modified"])
    assert r.status_code == 200, r.content
    refresh(ctx)
    assert when(dt, name, "starts_on") == "2026-05-12 15:30:00"
    assert when(dt, name, "ends_on") == "2026-05-12 16:30:00"

    # A stale event (its version from before) is refused.
    r = reschedule(client, headers, cal, name, "2026-05-12", "2026-05-20", modified=modified)
    assert r.status_code == 409 and as_json(r)["exc_type"] == "TimestampMismatchError"

    # A multi-day event dragged from its third day moves by the days between the cells.
    span = cal["events"]["span"]
    r = reschedule(client, headers, cal, span, "2026-04-22", "2026-04-23")
    assert r.status_code == 200, r.content
    refresh(ctx)
    assert when(dt, span, "starts_on") == "2026-04-21 09:00:00"
    assert when(dt, span, "ends_on") == "2026-05-03 17:00:00"
    page = parse_html(client.get(f"/app/{cal['route']}/view/calendar?date=2026-05-15&end_field=ends_on"))
    assert span in cells(page)["2026-05-03"]


def test_reschedule_refused_changes_nothing(ctx, client, cal):
    refresh(ctx)
    headers = login(client, cal["user"])
    dt, name = cal["doctype"], cal["events"]["may31"]
    # review_on is readable but at a permission level the planner cannot write.
    page = parse_html(client.get(f"/app/{cal['route']}/view/calendar?date=2026-05-15&field=review_on"))
    assert name in cells(page)["2026-05-31"]
    r = reschedule(client, headers, cal, name, "2026-05-31", "2026-05-29", field="review_on", end_field="")
    assert r.status_code == 403
    data = as_json(r)
    assert data["exc_type"] == "PermissionError" and "Review On" in data["message"]
    # Into June a meeting needs a reason (mandatory_depends_on).
    r = reschedule(client, headers, cal, name, "2026-05-31", "2026-06-02")
    assert r.status_code == 417
    data = as_json(r)
    assert data["exc_type"] == "MandatoryError" and "Postponement Reason" in data["message"]
    # Bad input names what is wrong.
    r = reschedule(client, headers, cal, name, "2026-05-31", "31/05/2026")
    assert r.status_code == 400 and as_json(r)["field"] == "to_date"
    for hour in ("24", "9" * 5000):  # past 4300 digits int() itself fails: still a 400
        r = reschedule(client, headers, cal, name, "2026-05-31", "2026-05-30", to_hour=hour)
        assert r.status_code == 400 and as_json(r)["field"] == "to_hour", len(hour)
    r = reschedule(client, headers, cal, name, "2026-05-31", "2026-05-30", field="subject")
    assert r.status_code == 417 and as_json(r)["field"] == "subject"
    refresh(ctx)
    assert when(dt, name, "review_on") == "2026-05-31"
    assert when(dt, name, "starts_on") == "2026-05-31 23:00:00" and versions(dt, name) == []
