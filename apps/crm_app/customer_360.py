"""The 360° view of a customer: every lead, opportunity, quotation, activity,
communication and document linked to it, in time order, with totals (won revenue,
open pipeline, last contact). Everything is read through lowcode.get_list, so a
user sees only what they may read (private activities included)."""
import lowcode
from lowcode.desk.render import render
from lowcode.desk.views.common import desk_view

from crm_app.followup import last_contacts

OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
ACTIVITIES = (("Call Log", "started_at", "phone"), ("Event", "starts_on", "subject"), ("Task", "due_date", "subject"),
              ("Note", "creation", "title"), ("Communication", "communication_date", "subject"))


@lowcode.whitelist()
def get_customer_360(customer: str):
    doc = lowcode.get_doc("Customer", customer)
    doc.check_permission("read")
    leads = lowcode.get_list("Lead", fields=["name", "lead_name", "status", "creation"],
                             or_filters=[["customer", "=", customer], ["name", "=", doc.lead or ""]],
                             limit_page_length=0)
    opps = lowcode.get_list("Opportunity", fields=["name", "title", "sales_stage", "opportunity_amount", "won_amount",
                                                   "creation", "closed_on"],
                            filters=[["opportunity_from", "=", "Customer"], ["party_name", "=", customer]],
                            limit_page_length=0)
    quotations = lowcode.get_list("Quotation", fields=["name", "status", "grand_total", "transaction_date", "creation"],
                                  filters=[["quotation_to", "=", "Customer"], ["party_name", "=", customer]],
                                  limit_page_length=0)
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
        for a in lowcode.get_list(doctype, fields=["name", when_field, title_field],
                                  filters=[["customer", "=", customer]], limit_page_length=500,
                                  order_by=f"{when_field} desc"):
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
    contacts = lowcode.get_list("Contact", fields=["name", "full_name", "email_id", "mobile_no"],
                                filters=[["Dynamic Link", "link_doctype", "=", "Customer"],
                                         ["Dynamic Link", "link_name", "=", customer]], limit_page_length=0)
    return {
        "customer": doc.as_dict(), "contacts": contacts, "timeline": timeline,
        "totals": {
            "won_revenue": round(sum(float(o["won_amount"] or 0) for o in opps if o["sales_stage"] == "Won"), 2),
            "open_pipeline": round(sum(float(o["opportunity_amount"] or 0) for o in opps
                                       if o["sales_stage"] in OPEN_STAGES), 2),
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
