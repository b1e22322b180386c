"""/app/sales-dashboard: the sales reports as charts and tables, for the period chosen
(default: the last 90 days). Figures come from crm_app.reports, whose docstring says
whose records each role's figures cover; the period applies alike to leads, deals,
costs and tasks, each by its business date."""
import datetime

from lowcode import _
from lowcode.desk.formatting import month_label
from lowcode.desk.link_titles import user_names
from lowcode.desk.render import prefs, render
from lowcode.desk.views.common import date_param, desk_view

from crm_app import reports


def _chart(kind, name, labels, values):
    return {"type": kind, "name": name, "labels": [str(label) for label in labels], "values": values}


@desk_view
def page(request, name):
    today = datetime.date.today()
    to_date = date_param(request, "to", today.isoformat())
    from_date = date_param(request, "from", (today - datetime.timedelta(days=90)).isoformat())
    funnel = reports.sales_funnel(from_date, to_date)
    sources = reports.source_roi(from_date, to_date)
    people = reports.salesperson_performance(from_date, to_date)
    pipeline = reports.weighted_pipeline()
    forecast = reports.sales_forecast(group_by="month")  # forward-looking: its own months, not the period
    lost = reports.lost_reasons(from_date, to_date)
    competitors = reports.competitor_analysis(from_date, to_date)
    activity = reports.activity_metrics(from_date, to_date)
    punctuality = reports.task_punctuality(from_date, to_date)
    months = sorted({p["month"] for p in pipeline})
    names = user_names([p["user"] for p in people + punctuality])  # salespeople by name, one query
    charts = {
        "funnel": _chart("bar", "Count", [s["stage"] for s in funnel["stages"]], [s["count"] for s in funnel["stages"]]),
        # a Sales User's figures carry no costs (see crm_app.reports): their revenue per source instead
        "sources": _chart("bar", "ROI %", [s["source"] for s in sources], [s["roi_percent"] or 0 for s in sources])
        if any(s["cost"] is not None for s in sources) else
        _chart("bar", "Revenue", [s["source"] for s in sources], [s["revenue"] for s in sources]),
        "people": _chart("bar", "Revenue", [names.get(p["user"], p["user"]) for p in people], [p["revenue"] for p in people]),
        "pipeline": _chart("bar", "Weighted", [month_label(m, prefs()) if m != "unscheduled" else _("Unscheduled")
                                               for m in months],
                           [round(sum(p["weighted"] for p in pipeline if p["month"] == m), 2) for m in months]),
        "lost": _chart("pie", "Lost", [r["lost_reason"] for r in lost], [r["count"] for r in lost]),
        "competitors": _chart("bar", "Opportunities", [c["competitor"] for c in competitors],
                              [c["opportunities"] for c in competitors]),
        "calls": _chart("line", "Calls", [f"{h['hour']:02d}:00" for h in activity["by_hour"]],
                        [h["calls"] for h in activity["by_hour"]]),
    }
    return render("crm_app/sales_dashboard.html", from_date=from_date, to_date=to_date, funnel=funnel,
                  sources=sources, people=people, pipeline=pipeline, lost=lost, competitors=competitors,
                  activity=activity, punctuality=punctuality, forecast=forecast, charts=charts)
