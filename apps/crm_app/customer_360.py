"""The 360° view of a customer: every lead, opportunity, quotation, activity,
communication and document linked to it, in time order, with totals (won revenue,
open pipeline, last contact). Everything is read through the permission-filtered
query API (lowcode.get_list) asking only for fields at the user's permission levels,
and the customer itself is shown as the user may see it: a user sees only the rows
they may read (private activities included) and never a field above their permlevel
(a total built on such a field is None).

Other apps add sections through the ``customer_360_sections`` hook: functions
(customer) returning None (nothing the user may see) or {"key", "title", "doctype",
"columns": [{"field", "label", "fieldtype"}], "rows", "figures": [{"key", "label", "value",
"fieldtype"}]}, titles and labels in the user's language, read with the user's
permissions as well (e.g. the service app's cases)."""
import lowcode
from lowcode.apps import get_attr
from lowcode.client import doc_for_user
from lowcode.desk.render import render
from lowcode.desk.views.common import desk_view
from lowcode.meta import STANDARD_FIELDS
from lowcode.permissions import permitted_fieldnames

from crm_app.followup import last_contacts

OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
ACTIVITIES = (("Call Log", "started_at", "phone"), ("Event", "starts_on", "subject"), ("Task", "due_date", "subject"),
              ("Note", "creation", "title"), ("Communication", "communication_date", "subject"))


def _rows(doctype, fields, limit=0, **kwargs):
    """get_list of the fields the user may read among ``fields``; the others are None."""
    readable = set(permitted_fieldnames(doctype)) | set(STANDARD_FIELDS)
    rows = lowcode.get_list(doctype, fields=[f for f in fields if f in readable], limit_page_length=limit, **kwargs)
    return [{f: r.get(f) for f in fields} for r in rows], readable


def _total(rows, field, readable, keep):
    if field not in readable:
        return None
    return round(sum(float(r[field] or 0) for r in rows if keep(r)), 2)


@lowcode.whitelist()
def get_customer_360(customer: str):
    doc = lowcode.get_doc("Customer", customer)
    doc.check_permission("read")
    lead_name = doc.lead if "lead" in permitted_fieldnames("Customer", doc=doc) else None
    leads, _ = _rows("Lead", ["name", "lead_name", "status", "creation"],
                     or_filters=[["customer", "=", customer], ["name", "=", lead_name or ""]])
    opps, opp_fields = _rows("Opportunity", ["name", "title", "sales_stage", "opportunity_amount", "won_amount",
                                             "creation", "closed_on"],
                             filters=[["opportunity_from", "=", "Customer"], ["party_name", "=", customer]])
    quotations, _ = _rows("Quotation", ["name", "status", "grand_total", "transaction_date", "creation"],
                          filters=[["quotation_to", "=", "Customer"], ["party_name", "=", customer]])
    timeline = []
    for lead in leads:
        timeline.append({"when": str(lead["creation"])[:19], "doctype": "Lead", "name": lead["name"],
                         "title": lead["lead_name"], "detail": lead["status"]})
    for o in opps:
        timeline.append({"when": str(o["creation"])[:19], "doctype": "Opportunity", "name": o["name"],
                         "title": o["title"], "detail": o["sales_stage"]})
    for q in quotations:
        timeline.append({"when": str(q["creation"])[:19], "doctype": "Quotation", "name": q["name"],
                         "title": q["name"], "detail": q["status"]})
    for doctype, when_field, title_field in ACTIVITIES:
        readable = set(permitted_fieldnames(doctype)) | set(STANDARD_FIELDS)
        order = when_field if when_field in readable else "creation"
        activities, _ = _rows(doctype, ["name", when_field, title_field], filters=[["customer", "=", customer]],
                              order_by=f"{order} desc", limit=500)
        for a in activities:
            timeline.append({"when": str(a[when_field] or "")[:19], "doctype": doctype, "name": a["name"],
                             "title": a[title_field], "detail": ""})
    linked = [("Customer", customer)] + [("Lead", r["name"]) for r in leads] + \
        [("Opportunity", r["name"]) for r in opps] + [("Quotation", r["name"]) for r in quotations]
    files = []
    for doctype, name in linked:
        files += lowcode.get_all("File", fields=["file_name", "file_url", "creation"],
                                 filters={"attached_to_doctype": doctype, "attached_to_name": name})
    for f in files:
        timeline.append({"when": str(f["creation"])[:19], "doctype": "File", "name": f["file_url"],
                         "title": f["file_name"], "detail": ""})
    timeline.sort(key=lambda item: item["when"], reverse=True)
    contacts, _ = _rows("Contact", ["name", "full_name", "email_id", "mobile_no"],
                        filters=[["Dynamic Link", "link_doctype", "=", "Customer"],
                                 ["Dynamic Link", "link_name", "=", customer]])
    sections = [section for section in (get_attr(path)(customer) for path in lowcode.get_hooks("customer_360_sections"))
                if section]
    return {
        "customer": doc_for_user(doc), "contacts": contacts, "timeline": timeline, "sections": sections,
        "totals": {
            "won_revenue": _total(opps, "won_amount", opp_fields, lambda o: o["sales_stage"] == "Won"),
            "open_pipeline": _total(opps, "opportunity_amount", opp_fields, lambda o: o["sales_stage"] in OPEN_STAGES),
            "open_opportunities": sum(1 for o in opps if o["sales_stage"] in OPEN_STAGES),
            "quotations": len(quotations),
            "last_contact": last_contacts([customer]).get(customer),
        },
    }


@desk_view
def page(request, name):
    """/app/customer-360/<customer>"""
    if not name:
        from django.http import HttpResponseRedirect
        return HttpResponseRedirect("/app/customer")
    return render("crm_app/customer_360.html", data=get_customer_360(name))
