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
permissions as well (e.g. the service app's cases). What every party's view has (contacts,
addresses, relations, activities, files, ``party_360_sections``) is crm_app/party_360.py's."""
from django.utils import translation

import lowcode
from lowcode.apps import get_attr
from lowcode.client import doc_for_user
from lowcode.desk.render import prefs, render
from lowcode.desk.views.common import desk_view
from lowcode.permissions import permitted_fieldnames

from crm_app import party_360
from crm_app.followup import last_contacts
from crm_app.party_360 import OPEN_STAGES, rows as _rows


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
    timeline += party_360.activities([["customer", "=", customer]])
    linked = [("Customer", customer)] + [("Lead", r["name"]) for r in leads] + \
        [("Opportunity", r["name"]) for r in opps] + [("Quotation", r["name"]) for r in quotations]
    timeline += party_360.files(linked)
    timeline.sort(key=lambda item: item["when"], reverse=True)
    sections = [section for section in (get_attr(path)(customer) for path in lowcode.get_hooks("customer_360_sections"))
                if section] + party_360.sections("Customer", customer)
    return {
        "customer": doc_for_user(doc), "contacts": party_360.contacts("Customer", customer), "timeline": timeline,
        "addresses": party_360.addresses("Customer", customer), "relations": party_360.relations("Customer", customer),
        "sections": sections,
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
    with translation.override(prefs().lang):  # the sections' titles and labels in the user's language
        data = get_customer_360(name)
    return render("crm_app/customer_360.html", data=data)
