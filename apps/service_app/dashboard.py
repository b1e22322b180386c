"""/app/service-dashboard: the service figures (service_app.reports) as cards, charts and
tables over the period chosen (default: the last 30 days), each viewer over the cases
they may read. Figures are kept a minute (reports.CACHE_SECONDS); the page says so."""
import datetime

from lowcode.desk.formatting import month_label
from lowcode.desk.render import prefs, render, translate as _
from lowcode.desk.views.common import date_param, desk_view

from service_app import reports


def _weekdays():
    return (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))


def _ages():
    return (_("< 1 day"), _("1-3 days"), _("3-7 days"), _("7-30 days"), _("> 30 days"))


def _chart(kind, name, labels, values):
    return {"type": kind, "name": name, "labels": [str(label) for label in labels], "values": values}


@desk_view
def page(request, name=None):
    today = datetime.date.today()
    to_date = date_param(request, "to", today.isoformat())
    from_date = date_param(request, "from", (today - datetime.timedelta(days=30)).isoformat())
    figures = reports.cached_figures(from_date, to_date)
    opened, period, sat = figures["open"], figures["period"], figures["satisfaction"]
    for m in sat["by_month"]:  # "Bahman 1404" / "Jan 2026", in the user's calendar and digits
        m["label"] = month_label(m["month"], prefs())
    charts = {
        "status": _chart("bar", _("Cases"), [_(s["status"]) for s in opened["by_status"]],
                         [s["count"] for s in opened["by_status"]]),
        "priority": _chart("pie", _("Cases"), [p["priority"] or "–" for p in opened["by_priority"]],
                           [p["count"] for p in opened["by_priority"]]),
        "age": _chart("bar", _("Cases"), _ages(), [a["count"] for a in opened["age"]]),
        "csat": _chart("line", "CSAT", [m["label"] for m in sat["by_month"]],
                       [m["csat"] or 0 for m in sat["by_month"]]),
        "nps": _chart("line", "NPS", [m["label"] for m in sat["by_month"]], [m["nps"] or 0 for m in sat["by_month"]]),
        "hours": _chart("bar", _("Cases"), [f"{h['hour']:02d}" for h in period["by_hour"]],
                        [h["count"] for h in period["by_hour"]]),
        "weekdays": _chart("bar", _("Cases"), _weekdays(),
                           [w["count"] for w in period["by_weekday"]]),
    }
    return render("service_app/service_dashboard.html", from_date=from_date, to_date=to_date, opened=opened,
                  crisis=figures["crisis"], period=period, sat=sat, charts=charts,
                  cache_seconds=reports.CACHE_SECONDS)
