"""The customer's cases in crm_app's 360° view, through its ``customer_360_sections``
hook (crm_app never imports this app): each case with its SLA state (agreement status,
the time it is due, breaches) and satisfaction scores, and figures over them.

Read through the permission-filtered query API: a user who may not read cases gets no
section, an agent only the cases their row rules show them."""
from django.utils.translation import gettext as _

import lowcode
from lowcode.meta import STANDARD_FIELDS
from lowcode.permissions import permitted_fieldnames

from service_app.routing import OPEN_STATUSES

FIELDS = ["name", "subject", "status", "priority", "agreement_status", "response_by", "resolution_by",
          "response_breached", "resolution_breached", "satisfaction_score", "nps_score", "creation"]
LIMIT = 100


def _mean(field, filters, readable):
    """The mean of a score over the customer's cases that have one (AVG skips NULLs)."""
    if field not in readable:
        return None
    value = lowcode.get_list("Case", fields=[f"avg({field}) as mean"], filters=filters, order_by=None,
                             limit_page_length=0)[0]["mean"]
    return round(float(value), 2) if value is not None else None


def case_section(customer):
    if not lowcode.has_permission("Case", "read"):
        return None
    readable = set(permitted_fieldnames("Case")) | set(STANDARD_FIELDS)
    fields = [f for f in FIELDS if f in readable]
    filters = {"customer": customer}
    rows = [{f: r.get(f) for f in FIELDS} for r in lowcode.get_list(
        "Case", fields=fields, filters=filters, order_by="creation desc", limit_page_length=LIMIT)]
    for r in rows:
        # The clock that runs now: first response until it is given, then resolution.
        r["due"] = r["response_by"] if r["agreement_status"] == "First Response Due" else \
            r["resolution_by"] if r["agreement_status"] == "Resolution Due" else None
        r["breached"] = int(bool(r["response_breached"] or r["resolution_breached"]))
    count = lowcode.get_count
    columns = [("subject", _("Subject"), "Data"), ("status", _("Status"), "Select"),
               ("priority", _("Priority"), "Link"), ("agreement_status", _("SLA"), "Select"),
               ("due", _("Due"), "Datetime"), ("breached", _("Breached"), "Check"),
               ("satisfaction_score", _("CSAT"), "Float"), ("nps_score", _("NPS"), "Int")]
    return {
        "key": "cases", "title": _("Cases"), "doctype": "Case", "rows": rows,
        "columns": [{"field": f, "label": label, "fieldtype": t} for f, label, t in columns],
        "figures": [
            {"key": "open", "label": _("Open cases"), "fieldtype": "Int",
             "value": count("Case", filters=dict(filters, status=["in", list(OPEN_STATUSES)]))},
            {"key": "breached", "label": _("SLA breached"), "fieldtype": "Int",
             "value": count("Case", filters=filters, or_filters=[["response_breached", "=", 1],
                                                                 ["resolution_breached", "=", 1]])},
            {"key": "csat", "label": _("Mean CSAT"), "fieldtype": "Float",
             "value": _mean("satisfaction_score", filters, readable)},
            {"key": "nps", "label": _("Mean NPS"), "fieldtype": "Float",
             "value": _mean("nps_score", filters, readable)},
        ],
    }
