"""/app/<doctype-route>/view/calendar: a DocType's documents on a month, week or day
grid by one of their date fields (optionally spanning to an end field).

The grid follows the user's calendar: a Jalali user's month runs from the 1st to the
last day of the Jalali month (jdatetime does the arithmetic) and weeks start on
Saturday. Events are read through the permission-checked query layer with the list
view's filters. Rescheduling (``/view/calendar/move``) shifts the dates and saves
the document the way the form does (validation, permissions and permission levels,
hooks, versions, the stale-write check with the event's ``modified``)."""
import datetime
from urllib.parse import urlencode

import jdatetime
from django.http import JsonResponse
from django.utils.dates import MONTHS, WEEKDAYS, WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from ... import document as documents
from ... import query
from ...context import local
from ...exceptions import BadRequest, InvalidFieldError, LowcodeError, PermissionError, ValidationError
from ...fields import registry, types_where
from ...meta import get_meta
from ...permissions import has_permission, permitted_fieldnames
from ..formatting import format_date
from ..render import prefs, render
from .common import desk_view, doctype_for_route
from .form import field_states
from .kanban import filter_bar, in_user_language, view_filters
from .listview import OTHER_VIEWS

MODES = ("month", "week", "day")
EVENT_LIMIT = 500
VIEW_PARAMS = ("field", "end_field", "mode", "date")
ONE_DAY = datetime.timedelta(days=1)
# The days a calendar shows: the month grid, its navigation and the Jalali calendar
# (from 622) all stay inside Python's dates (years 1 to 9999) for any day in this range.
FIRST_DAY, LAST_DAY = datetime.date(1000, 1, 1), datetime.date(9998, 12, 31)


# -- fields ------------------------------------------------------------------------------------

def date_fields(meta):
    readable = set(permitted_fieldnames(meta.name))
    return [df for df in meta.data_fields if df.fieldtype in types_where("dated") and df.fieldname in readable
            and not df.hidden]


def pick_fields(fields, start, end):
    """(start field, end field or None) from the request, or the defaults: the first
    date field shown in the list view, else the first date field; no end field."""
    by_name = {df.fieldname: df for df in fields}
    start_df = by_name.get(start) or next((df for df in fields if df.in_list_view), None) or \
        (fields[0] if fields else None)
    end_df = by_name.get(end)
    if end_df is not None and start_df is not None and end_df.fieldname == start_df.fieldname:
        end_df = None
    return start_df, end_df


def as_datetime(value, df):
    """A stored date or datetime (text on SQLite, objects on MariaDB) -> datetime."""
    if value in (None, ""):
        return None
    return datetime.datetime.fromisoformat(registry[df.fieldtype].coerce(value, df))


def to_field_value(moment, df):
    return registry[df.fieldtype].from_object(moment)  # a Date keeps the day, a Datetime the moment


# -- the grid ----------------------------------------------------------------------------------

def first_weekday(p):
    """Python weekday (Monday 0) a week starts on: Saturday in Iran, Sunday in Israel,
    Monday (ISO 8601) elsewhere."""
    if p.jalali or p.lang == "fa":
        return 5
    return 6 if p.lang == "he" else 0


def month_bounds(day, p):
    """First and last Gregorian day of the month holding ``day``, in the user's calendar."""
    if p.jalali:
        j = jdatetime.date.fromgregorian(date=day)
        first = jdatetime.date(j.year, j.month, 1).togregorian()
        following = jdatetime.date(j.year + (j.month == 12), j.month % 12 + 1, 1).togregorian()
    else:
        first = day.replace(day=1)
        following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following - ONE_DAY


def visible_range(mode, day, p):
    """(first, last) day of the month/week/day shown, and (grid start, grid end): a
    month grid is whole weeks, so it shows the edges of the neighbouring months."""
    ws = first_weekday(p)
    if mode == "day":
        return day, day, day, day
    if mode == "week":
        start = day - datetime.timedelta(days=(day.weekday() - ws) % 7)
        return start, start + 6 * ONE_DAY, start, start + 6 * ONE_DAY
    first, last = month_bounds(day, p)
    grid_start = first - datetime.timedelta(days=(first.weekday() - ws) % 7)
    grid_end = last + datetime.timedelta(days=(ws + 6 - last.weekday()) % 7)
    return first, last, grid_start, grid_end


def day_number(day, p):
    return jdatetime.date.fromgregorian(date=day).day if p.jalali else day.day


def month_title(day, p):
    """(month name, year) in the user's calendar. Jalali month names are proper nouns:
    jdatetime's Persian names for Persian readers, its transliterations otherwise."""
    if p.jalali:
        j = jdatetime.date.fromgregorian(date=day)
        names = jdatetime.date.j_months_fa if p.lang == "fa" else jdatetime.date.j_months_en
        return names[j.month - 1], j.year
    return MONTHS[day.month], day.year


def navigation(mode, day, first, last):
    """The dates the previous / next buttons go to."""
    if mode == "month":
        return first - ONE_DAY, last + ONE_DAY
    step = datetime.timedelta(days=7 if mode == "week" else 1)
    return day - step, day + step


# -- events ------------------------------------------------------------------------------------

def load_events(doctype, meta, start_df, end_df, low, high, filters):
    """Rows whose start (or start..end span) falls in [low, high]; one more than
    EVENT_LIMIT tells the page that some were left out."""
    start = start_df.fieldname
    title = meta.get_title_field()
    fields = list(dict.fromkeys(["name", "modified", title, start] + ([end_df.fieldname] if end_df else [])))
    upper = high.isoformat() + (" 23:59:59" if registry[start_df.fieldtype].timed else "")
    if end_df is None:
        where, either = [[start, "between", [low.isoformat(), high.isoformat()]]], None
    else:
        # Overlap: starts before the range ends, and ends (or, without an end, starts)
        # after it begins.
        where = [[start, "<=", upper]]
        either = [[end_df.fieldname, ">=", low.isoformat()], [start, ">=", low.isoformat()]]
    return query.get_list(doctype, fields=fields, filters=filters + where, or_filters=either,
                          order_by=f"{start} asc", limit_page_length=EVENT_LIMIT + 1)


def to_event(row, meta, start_df, end_df):
    start = as_datetime(row[start_df.fieldname], start_df)
    end = as_datetime(row[end_df.fieldname], end_df) if end_df else None
    timed = registry[start_df.fieldtype].timed
    last_day = end.date() if end and end >= start else start.date()
    if end and registry[end_df.fieldtype].timed and end.time() == datetime.time() and last_day > start.date():
        last_day -= ONE_DAY  # ending at midnight does not occupy the next day
    return {"name": row["name"], "title": row.get(meta.get_title_field()) or row["name"],
            "modified": str(row["modified"]), "start": start, "first_day": start.date(), "last_day": last_day,
            "hour": start.hour if timed else None, "time": start.strftime("%H:%M") if timed else None}


def build_days(grid_start, grid_end, first, last, events, p):
    """The grid's days, each with the events on it. In week and day mode a timed event
    sits in its start hour on its first day; the days it continues into, and events
    without a time, sit in the day's all-day row."""
    today = datetime.date.today()
    days, by_date = [], {}
    day = grid_start
    while day <= grid_end:
        cell = {"date": day, "iso": day.isoformat(), "number": day_number(day, p), "in_range": first <= day <= last,
                "today": day == today, "weekday": day.weekday(), "events": [], "all_day": [], "hours": {}}
        days.append(cell)
        by_date[day] = cell
        day += ONE_DAY
    for ev in events:
        day = max(ev["first_day"], grid_start)
        while day <= min(ev["last_day"], grid_end):
            cell = by_date[day]
            starts_here = day == ev["first_day"]
            cell["events"].append(dict(ev, starts_here=starts_here))
            if ev["hour"] is not None and starts_here:
                cell["hours"].setdefault(ev["hour"], []).append(dict(ev, starts_here=True))
            else:
                cell["all_day"].append(dict(ev, starts_here=starts_here))
            day += ONE_DAY
    return days


def url_with(args, **changes):
    params = {k: v for k, v in args.items() if k not in changes}
    params.update({k: v for k, v in changes.items() if v not in (None, "")})
    return "?" + urlencode(params)


# -- views ------------------------------------------------------------------------------------

def frame(args, mode, day, p):
    """The range shown and what frames the grid: title, weekday names, and the links
    to the previous and next range, today, each mode and each day."""
    first, last, grid_start, grid_end = visible_range(mode, day, p)
    prev_day, next_day = navigation(mode, day, first, last)
    month_name, year = month_title(day, p)
    ws = first_weekday(p)
    return {"mode": mode, "day": day, "first": first, "last": last, "grid_start": grid_start, "grid_end": grid_end,
            "month_name": month_name, "year": year,
            "range_label": format_date(first, p) if first == last
            else f"{format_date(first, p)} – {format_date(last, p)}",
            "weekday_names": [WEEKDAYS_ABBR[(ws + i) % 7] for i in range(7)], "weekday_abbr": WEEKDAYS_ABBR,
            "weekday_full": WEEKDAYS, "hours": range(24),
            "mode_urls": {m: url_with(args, mode=m) for m in MODES},
            "day_url": lambda iso: url_with(args, mode="day", date=iso),
            "prev_url": url_with(args, date=prev_day.isoformat()),
            "next_url": url_with(args, date=next_day.isoformat()),
            "today_url": url_with(args, date=datetime.date.today().isoformat())}


@desk_view
@in_user_language
def calendar_view(request, route):
    doctype = doctype_for_route(route)
    meta = get_meta(doctype)
    p = prefs()
    mode = request.GET.get("mode") if request.GET.get("mode") in MODES else "month"
    day = _shown_day(request.GET.get("date"), "date") if request.GET.get("date") else datetime.date.today()
    context = frame(request.GET.dict(), mode, day, p)
    context.update(meta=meta, doctype=doctype, route=route, args=request.GET, fields=[], start_field=None,
                   end_field=None, days=[], weeks=[], error=None, truncated=False, event_limit=EVENT_LIMIT,
                   standard_filters=[], filtered=False, can_create=has_permission(doctype, "create"), can_move=False)
    if not has_permission(doctype, "read"):
        context["error"] = _("You are not permitted to read %(doctype)s") % {"doctype": _(doctype)}
        return render("calendar.html", status=403, **context)
    fields = date_fields(meta)
    start_df, end_df = pick_fields(fields, request.GET.get("field"), request.GET.get("end_field"))
    context.update(fields=fields, start_field=start_df, end_field=end_df, **filter_bar(request, meta, VIEW_PARAMS))
    if start_df is None:
        context["error"] = _("%(doctype)s has no Date or Datetime field to show on a calendar") % {
            "doctype": _(doctype)}
        return render("calendar.html", **context)
    status = 200
    events = []
    try:
        rows = load_events(doctype, meta, start_df, end_df, context["grid_start"], context["grid_end"],
                           view_filters(request, meta, VIEW_PARAMS))
        context["truncated"] = len(rows) > EVENT_LIMIT
        events = [to_event(r, meta, start_df, end_df) for r in rows[:EVENT_LIMIT]]
    except LowcodeError as e:
        context["error"] = e.message
        status = e.http_status
    days = build_days(context["grid_start"], context["grid_end"], context["first"], context["last"], events, p)
    context.update(days=days, weeks=[days[i:i + 7] for i in range(0, len(days), 7)],
                   timed=registry[start_df.fieldtype].timed and mode != "month",
                   can_move=has_permission(doctype, "write"))
    return render("calendar.html", status=status, **context)


def shifted_dates(doc, start_df, end_df, shift, to_hour):
    """{fieldname: value}: the start moved by ``shift`` (and, for a Datetime, to
    ``to_hour`` keeping its minutes), the end moved by as much, so the event keeps
    its length."""
    old_start = as_datetime(doc.get(start_df.fieldname), start_df)
    if old_start is None:
        raise ValidationError(_("%(field)s is empty: there is nothing to move") % {
            "field": _(start_df.label or start_df.fieldname)}, field=start_df.fieldname)
    new_start = _moved(old_start, shift, start_df)
    if registry[start_df.fieldtype].timed and to_hour is not None:
        new_start = new_start.replace(hour=to_hour)
    changes = {start_df.fieldname: to_field_value(new_start, start_df)}
    old_end = as_datetime(doc.get(end_df.fieldname), end_df) if end_df else None
    if old_end is not None:
        changes[end_df.fieldname] = to_field_value(_moved(old_end, new_start - old_start, end_df), end_df)
    return changes


def _moved(moment, shift, df):
    """``moment`` + ``shift``, refused (naming the field) outside the calendar's days."""
    try:
        moved = moment + shift
    except OverflowError:
        moved = None
    if moved is None or not FIRST_DAY <= moved.date() <= LAST_DAY:
        raise ValidationError(_("%(what)s must be between %(first)s and %(last)s") % {
            "what": _(df.label or df.fieldname), "first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            field=df.fieldname)
    return moved


def _iso_day(value, what):
    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        raise BadRequest(_("%(what)s must be a date as YYYY-MM-DD, got %(value)r") % {"what": what, "value": value},
                         field=what)


def _shown_day(value, what):
    day = _iso_day(value, what)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadRequest(_("%(what)s must be between %(first)s and %(last)s") % {
            "what": what, "first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}, field=what)
    return day


@in_user_language
def reschedule(request, route):
    """POST name, field, [end_field], from_date, to_date, [to_hour], modified: move an
    event by the days between the cell it left and the cell it was dropped on (so a
    multi-day event moves as a whole), to the dropped hour for a Datetime field; the
    end moves with the start. Answers {name, start, end, modified}, or an error as
    JSON {exc_type, message} with its HTTP status."""
    if local.user == "Guest":
        raise PermissionError(_("Log in to reschedule"))  # Guest: 403, as Frappe answers
    if request.method != "POST":
        raise BadRequest(_("Rescheduling needs a POST request"))
    doctype = doctype_for_route(route)
    meta = get_meta(doctype)
    post = request.POST
    if not post.get("name"):
        raise BadRequest(_("Which document to move is missing (name)"), field="name")
    shift = _shown_day(post.get("to_date"), "to_date") - _shown_day(post.get("from_date"), "from_date")
    to_hour = post.get("to_hour")
    # At most two digits after leading zeros, checked before int(), which fails past 4300.
    if to_hour not in (None, "") and not (to_hour.isdecimal() and len(to_hour.lstrip("0")) <= 2
                                          and 0 <= int(to_hour) <= 23):
        raise BadRequest(_("to_hour must be a whole hour from 0 to 23"), field="to_hour")
    doc = documents.get_doc(doctype, post["name"])
    doc.check_permission("read")
    doc.check_permission("write")
    fields = {df.fieldname: df for df in date_fields(meta)}
    start_df = fields.get(post.get("field"))
    end_df = fields.get(post.get("end_field")) if post.get("end_field") else None
    for key, df in (("field", start_df), ("end_field", end_df)):
        if df is None and (key == "field" or post.get(key)):
            raise InvalidFieldError(_("%(doctype)s has no date field %(field)s") % {
                "doctype": doctype, "field": post.get(key)}, field=post.get(key))
    if post.get("modified"):
        doc.modified = post["modified"]  # the event's version: refuse if someone saved since
    changes = shifted_dates(doc, start_df, end_df, shift, int(to_hour) if to_hour else None)
    states = field_states(doc, meta)
    for fieldname, value in changes.items():
        df = meta.get_field(fieldname)
        if df.read_only or states.get(fieldname, {}).get("read_only"):
            raise ValidationError(_("%(field)s is read-only") % {"field": _(df.label or fieldname)}, field=fieldname)
        doc.set(fieldname, value)
    doc.save()
    modified = query.get_value(doctype, doc.name, "modified")
    return JsonResponse({"name": doc.name, "start": doc.get(start_df.fieldname),
                         "end": doc.get(end_df.fieldname) if end_df else None,
                         "modified": str(modified or doc.modified)}, json_dumps_params={"ensure_ascii": False})


OTHER_VIEWS["calendar"] = calendar_view
