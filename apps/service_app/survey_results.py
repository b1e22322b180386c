"""Survey results: CSAT and NPS per customer, agent, category, product or month, and
"effort vs satisfaction" (hours spent on the case against its scores) per customer.

- CSAT: the mean of the responses' CSAT (each the mean of its rating answers, 1-5) and
  the share of responses scoring 4 or more ("satisfied", in %).
- NPS: % promoters (9-10) minus % detractors (0-6) among the responses with an NPS
  answer, from -100 to 100.
Figures are SQL aggregates through lowcode.query, so the row rules below apply: Support
Managers, CRM Admins and System Managers see every response, a Support Agent only the
responses about their own cases (agent = them); invitations follow the same rule.
Hours are the case's total_hours when the survey was answered (Survey
Response.hours_spent), so effort logged afterwards does not count."""
import datetime

import lowcode
from lowcode import query, whitelist
from lowcode.context import local
from lowcode.desk.render import render
from lowcode.desk.views.common import date_param, desk_view
from lowcode.exceptions import ValidationError
from lowcode.permissions import OrParts

SEE_ALL_ROLES = {"Support Manager", "CRM Admin", "System Manager", "Administrator"}
GROUPINGS = ("customer", "agent", "category", "product", "period")
DOCTYPE = "Survey Response"


def response_conditions(user, doctype=DOCTYPE):
    if lowcode.get_roles(user) & SEE_ALL_ROLES:
        return None
    return OrParts([(f"`tab{doctype}`.`agent`=%s", [user])])


def response_permission(doc, ptype=None, user=None):
    user = user or local.user
    if lowcode.get_roles(user) & SEE_ALL_ROLES or doc.is_new() or doc.get("agent") == user:
        return None
    return False


def _filters(from_date, to_date, customer=None, survey=None):
    filters = []
    for name, value, op, suffix in (("from_date", from_date, ">=", ""), ("to_date", to_date, "<=", " 23:59:59")):
        if value in (None, ""):
            continue
        try:
            day = datetime.date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            raise ValidationError(f"{name} is not a date (YYYY-MM-DD): {value!r}", field=name) from None
        filters.append(["submitted_on", op, day + suffix])
    if customer:
        filters.append(["customer", "=", customer])
    if survey:
        filters.append(["survey", "=", survey])
    return filters


def _counts(field, filters, extra, fields):
    rows = query.get_list(DOCTYPE, fields=[field] + fields, filters=filters + extra, group_by=field,
                          limit_page_length=0, order_by=None)
    return {r[field]: r for r in rows}


def _pct(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


@whitelist(methods=["GET"])
def scores(group_by="period", from_date=None, to_date=None, survey=None, customer=None):
    """One row per value of ``group_by`` (customer, agent, category, product or period,
    the month as YYYY-MM), of one ``survey`` or all, one ``customer`` or all: responses, csat (mean), csat_satisfied_pct (% of 4-5),
    nps_answers, promoters, detractors, nps; sorted by that value."""
    if group_by not in GROUPINGS:
        raise ValidationError(f"group_by must be one of {', '.join(GROUPINGS)}: {group_by!r}", field="group_by")
    filters = _filters(from_date, to_date, customer, survey)
    base = _counts(group_by, filters, [], ["count(name) as responses", "avg(csat) as csat",
                                           "count(csat) as rated", "count(nps) as nps_answers"])
    satisfied = _counts(group_by, filters, [["csat", ">=", 4]], ["count(name) as n"])
    promoters = _counts(group_by, filters, [["nps", ">=", 9]], ["count(name) as n"])
    detractors = _counts(group_by, filters, [["nps", "<=", 6]], ["count(name) as n"])
    out = []
    for key in sorted(base, key=lambda k: (k is None, str(k or ""))):
        row = base[key]
        p, d = (promoters.get(key) or {}).get("n", 0), (detractors.get(key) or {}).get("n", 0)
        out.append({
            group_by: key, "responses": row["responses"],
            "csat": round(float(row["csat"]), 2) if row["csat"] is not None else None,
            "csat_satisfied_pct": _pct((satisfied.get(key) or {}).get("n", 0), row["rated"]),
            "nps_answers": row["nps_answers"], "promoters": p, "detractors": d,
            "nps": round(_pct(p, row["nps_answers"]) - _pct(d, row["nps_answers"]), 1) if row["nps_answers"] else None,
        })
    return out


def customer_scores(customer):
    """A customer's figures over all time (the scores row grouped by customer), or None
    when they answered no survey: for the customer's 360° view."""
    rows = scores("customer", customer=customer)
    return rows[0] if rows else None


@whitelist(methods=["GET"])
def effort_vs_satisfaction(customer=None, from_date=None, to_date=None, survey=None):
    """Per customer: responses, hours spent on their surveyed cases (total and mean per
    case) against their mean CSAT and NPS score, most hours first."""
    rows = query.get_list(DOCTYPE, fields=["customer", "count(name) as responses", "sum(hours_spent) as hours",
                                           "avg(hours_spent) as hours_per_case", "avg(csat) as csat",
                                           "avg(nps) as nps_score"],
                          filters=_filters(from_date, to_date, customer, survey), group_by="customer",
                          limit_page_length=0, order_by=None)
    out = [{"customer": r["customer"], "responses": r["responses"],
            **{k: round(float(r[k]), 2) if r[k] is not None else None
               for k in ("hours", "hours_per_case", "csat", "nps_score")}} for r in rows]
    return sorted(out, key=lambda r: (-(r["hours"] or 0), str(r["customer"] or "")))


@desk_view
def page(request, name):
    """/app/survey-results[/<survey>]: the scores grouped as chosen, for a period (and
    one survey, from the path or ?survey=), and effort vs satisfaction per customer."""
    group_by = request.GET.get("group_by") or "period"
    from_date, to_date = date_param(request, "from"), date_param(request, "to")
    survey = request.GET.get("survey") or name or ""
    rows = scores(group_by, from_date, to_date, survey)
    effort = effort_vs_satisfaction(from_date=from_date, to_date=to_date, survey=survey)
    return render("service_app/survey_results.html", group_by=group_by, groupings=GROUPINGS, rows=rows,
                  effort=effort, from_date=from_date, to_date=to_date, survey=survey)
