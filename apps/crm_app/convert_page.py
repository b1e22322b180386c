"""The lead conversion dialog: /app/convert-lead/<lead> (the Lead form's "Convert to
customer" opens it in a modal, crm_app/public/lead_form.js; without script it is a page).

It suggests the customers and contacts the user may read that match the lead (tax id,
e-mail, mobile/phone, name: crm_app/matching.py), each with what it matched on, as
radio choices beside "create new", and asks the deal's amount, expected close date and
owner (the lead owner by default). The post goes to conversion.convert_lead, which
decides everything again on the stored lead; an error is shown in the dialog on the
field it names and nothing is written."""
from urllib.parse import quote

from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect

from lowcode.context import local
from lowcode.desk.formatting import parse_input
from lowcode.desk.render import prefs, render
from lowcode.desk.views.common import open_doc
from lowcode.exceptions import LowcodeError
from lowcode.meta import get_meta

from crm_app.conversion import convert_lead
from crm_app.matching import conversion_matches, kind_label

DEAL_FIELDS = ("opportunity_amount", "expected_closing", "opportunity_owner")
NEW = "__new"  # the radio value of "create new"


def matched_on(kinds):
    """"e-mail, mobile": what a suggestion matched on, in the page's language."""
    return ", ".join(kind_label(k) for k in kinds)


def _deal_fields():
    meta = get_meta("Opportunity")
    return [(f, meta.get_field(f)) for f in DEAL_FIELDS]


def _render(lead, fragment, values, error=None, error_field=None, status=200):
    matches = conversion_matches(lead)
    customers, contacts = matches.of("Customer"), matches.of("Contact")
    values.setdefault("customer_choice", customers[0]["name"] if customers else "")
    values.setdefault("contact_choice", contacts[0]["name"] if contacts else "")
    return render("crm_app/convert_lead.html" if fragment else "crm_app/convert_lead_page.html", status=status,
                  lead=lead, customers=customers,
                  contacts=contacts, fields=_deal_fields(), values=values, error=error, error_field=error_field,
                  new=NEW, matched_on=matched_on, action=f"/app/convert-lead/{quote(lead.name)}")


def page(request, name=None):
    """GET: the dialog (only its form for htmx); POST: convert, then go to the opportunity."""
    if not name:
        return HttpResponseRedirect("/app/lead")
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    lead = open_doc("Lead", name)  # the stored lead, if the user may read it
    fragment = bool(request.headers.get("HX-Request"))
    if request.method == "GET":
        return _render(lead, fragment, {"opportunity_owner": lead.lead_owner})
    post, p = request.POST, prefs()
    values = {f: parse_input(post.get(f), df, p) or None for f, df in _deal_fields()}
    customer, contact = post.get("customer_choice") or "", post.get("contact_choice") or ""
    try:
        result = convert_lead(lead.name, customer=None if customer == NEW else customer or None,
                              contact=None if contact == NEW else contact or None,
                              create_new=1 if customer == NEW else 0, **values)
    except LowcodeError as e:  # refused (also 403: no right to convert): said in the dialog
        local.db.rollback()  # nothing of the attempt stays
        local.db.begin()
        values.update(customer_choice=customer, contact_choice=contact)
        return _render(lead, fragment, values, e.message, e.field, e.http_status)
    url = f"/app/opportunity/{quote(result['opportunity'])}"
    if fragment:
        response = HttpResponse()
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)
