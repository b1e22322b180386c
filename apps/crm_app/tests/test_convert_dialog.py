"""The lead conversion dialog (crm_app/convert_page.py, conversion.convert_lead) and the
duplicate warning while typing (crm_app/matching.possible_duplicates), over HTTP on both
engines: suggestions per match kind with what they matched on, only records the user
may read; a lead matching a customer is refused unless the user chose; converting with
an existing customer and contact links the opportunity to the contact and makes no
customer; "create new" makes one; bad input is refused naming the field with nothing
written; the duplicate check is a GET that finds leads and customers by e-mail, mobile
(however typed, Persian digits too) and company."""
import re

import lowcode
from lowcode.tests.desk_helpers import login

from crm_app.tests.helpers import (as_user, body, make_customer, make_lead, make_territory, make_user, ok, qualify,
                                   refresh, tag, token, unique_mobile)

HX = {"HTTP_HX_REQUEST": "true"}
CONVERT = "/api/method/crm_app.conversion.convert_lead"
DUPLICATES = "/api/method/crm_app.matching.possible_duplicates"


def text(response):
    return response.content.decode()


def matched(html, name):
    """The match kinds the dialog shows for the record ``name`` (None when not offered)."""
    m = re.search(rf'value="{re.escape(name)}".*?data-matched="([^"]*)"', html, re.S)
    return m and m.group(1).split()


def lead_state(name):
    return tuple(lowcode.db.sql("SELECT `status`, `customer`, `opportunity` FROM `tabLead` WHERE `name`=%s",
                                (name,))[0])


def make_contact(first_name, last_name="Tester", customer=None, **values):
    data = {"doctype": "Contact", "first_name": first_name, "last_name": last_name, **values}
    if customer:
        data["links"] = [{"link_doctype": "Customer", "link_name": customer}]
    return lowcode.get_doc(data).insert().name


def _lead_with_matches(u):
    """A qualified lead and, for each kind, a customer and a contact matching it on that only."""
    mobile, phone = unique_mobile(), unique_mobile("0935")
    lead = qualify(make_lead(first_name=f"Ava{u}", last_name="Moradi", company_name=f"Acme {u}",
                             email_id=f"ava.{u}@acme.example", mobile_no=mobile, phone=phone, tax_id=f"TX{u}"))
    customers = {"tax_id": make_customer(f"Tax Co {u}", tax_id=f"TX{u}").name,
                 "email": make_customer(f"Mail Co {u}", email_id=f"ava.{u}@acme.example").name,
                 "mobile": make_customer(f"Mobile Co {u}", mobile_no="+98 " + mobile[1:]).name,
                 "name": make_customer(f"Acme {u}").name}
    contacts = {"email": make_contact(f"Mail{u}", email_id=f"ava.{u}@acme.example"),
                "mobile": make_contact(f"Mob{u}", mobile_no=mobile),
                "phone": make_contact(f"Ph{u}", phone=phone),
                "name": make_contact(f"Ava{u}", "Moradi")}
    return lead, customers, contacts


def test_dialog_suggests_customers_and_contacts_with_what_matched(ctx, client, unique):
    lead, customers, contacts = _lead_with_matches(unique)
    login(ctx, client, "Administrator")
    form = text(client.get(f"/app/lead/{lead.name}"))
    assert f'href="/app/convert-lead/{lead.name}"' in form and "crm_app/lead_form.js" in form
    page = client.get(f"/app/convert-lead/{lead.name}", **HX)
    assert page.status_code == 200
    html = text(page)
    assert "<html" not in html  # the dialog's form alone, for the modal
    for kind, name in customers.items():
        assert matched(html, name) == [kind], (kind, matched(html, name))
    for kind, name in contacts.items():
        assert matched(html, name) == [kind], (kind, matched(html, name))
    assert 'value="__new"' in html and "matched on tax id" in html
    assert 'name="opportunity_owner"' in html and 'name="opportunity_amount"' in html
    assert "<html" in text(client.get(f"/app/convert-lead/{lead.name}"))  # a page without script


def test_suggestions_and_duplicates_only_readable(ctx, client, unique):
    """A Sales User limited to a territory by a User Permission is not offered customers
    of other territories; the duplicate check shows only leads the row rules let them read."""
    rep, colleague = make_user(unique, "rep"), make_user(unique, "colleague")
    mine, other = make_territory(f"Mine {unique}"), make_territory(f"Other {unique}")
    lowcode.get_doc({"doctype": "User Permission", "user": rep, "allow": "Territory",
                     "for_value": mine}).insert(ignore_permissions=True)
    email = f"shared.{unique}@example.com"
    visible = make_customer(f"Seen {unique}", email_id=email, territory=mine).name
    hidden = make_customer(f"Hidden {unique}", email_id=email, territory=other).name
    with as_user(colleague):
        theirs = make_lead(first_name="Their", email_id=email, territory=mine).name
    with as_user(rep):
        own = make_lead(first_name="Own", email_id=email, territory=mine).name
        lead = qualify(make_lead(first_name="Conv", email_id=email, territory=mine))
        secret = qualify(make_lead(first_name="Tax", tax_id=f"TAX{unique}", territory=mine))
    ctx.db.sql("UPDATE `tabCustomer` SET `tax_id`=%s WHERE `name`=%s", (f"TAX{unique}", hidden))
    headers = token(rep)
    login(ctx, client, rep)
    html = text(client.get(f"/app/convert-lead/{lead.name}", **HX))
    assert matched(html, visible) == ["email"]
    # a lead that matches only a customer the user may not read: refused without naming it
    refused = client.post(CONVERT, {"lead": secret.name, "create_new": "0"}, **headers)
    assert refused.status_code == 409 and "may not see" in body(refused)["message"]
    assert hidden not in text(refused) and f"Hidden {unique}" not in text(refused)
    assert matched(html, hidden) is None and f"Hidden {unique}" not in html
    found = ok(client.get(DUPLICATES, {"email_id": email.upper()}))["message"]
    names = {f["name"] for f in found}
    assert own in names and visible in names and lead.name in names
    assert theirs not in names and hidden not in names


def test_a_match_is_refused_unless_chosen_and_nothing_is_written(ctx, client, unique):
    rep = make_user(unique, "rep")
    existing = make_customer(f"Known {unique}", tax_id=f"K{unique}").name
    with as_user(rep):
        lead = qualify(make_lead(company_name=f"Other name {unique}", tax_id=f"K{unique}"))
    customers = lowcode.get_count("Customer")
    headers = token(rep)
    refresh(ctx)
    refused = client.post(CONVERT, {"lead": lead.name, "opportunity_amount": "500"}, **headers)
    assert refused.status_code == 409, text(refused)
    assert f"Known {unique}" in body(refused)["message"] and existing in body(refused)["message"]
    # the dialog's post without a choice is refused the same way, in the dialog
    csrf = login(ctx, client, rep)
    dialog = client.post(f"/app/convert-lead/{lead.name}", {"csrf_token": csrf, "customer_choice": "",
                                                            "opportunity_amount": "500"}, **HX)
    assert dialog.status_code == 409 and "data-convert-error" in text(dialog) and existing in text(dialog)
    refresh(ctx)
    assert lowcode.get_count("Customer") == customers
    assert lead_state(lead.name) == ("Qualified", None, None)


def test_convert_with_existing_customer_and_contact(ctx, client, unique):
    rep = make_user(unique, "rep")
    owner = make_user(unique, "owner")
    customer = make_customer(f"Acme {unique}").name
    contact = make_contact(f"Pat{unique}", email_id=f"pat.{unique}@acme.example")  # of no customer yet
    with as_user(rep):
        lead = qualify(make_lead(company_name=f"Acme {unique}", lead_owner=rep))
    customers = lowcode.get_count("Customer")
    csrf = login(ctx, client, rep)
    done = client.post(f"/app/convert-lead/{lead.name}", {
        "csrf_token": csrf, "customer_choice": customer, "contact_choice": contact, "opportunity_amount": "12,500",
        "expected_closing": "2031-05-30", "opportunity_owner": owner}, **HX)
    assert done.status_code == 200, text(done)[:800]
    opportunity = done["HX-Redirect"].rsplit("/", 1)[1]
    refresh(ctx)
    assert lowcode.get_count("Customer") == customers
    opp = lowcode.get_doc("Opportunity", opportunity)
    assert (opp.party_name, opp.contact, opp.opportunity_owner) == (customer, contact, owner)
    assert (float(opp.opportunity_amount), str(opp.expected_closing)) == (12500.0, "2031-05-30")
    assert lead_state(lead.name) == ("Converted", customer, opportunity)
    links = lowcode.get_doc("Contact", contact).links
    assert [(l.link_doctype, l.link_name) for l in links] == [("Customer", customer)]


def test_create_new_although_a_customer_matches(ctx, client, unique):
    rep = make_user(unique, "rep")
    existing = make_customer(f"Twin {unique}").name
    with as_user(rep):
        lead = qualify(make_lead(first_name=f"New{unique}", company_name=f"Twin {unique}", lead_owner=rep))
    headers = token(rep)
    refresh(ctx)
    result = ok(client.post(CONVERT, {"lead": lead.name, "create_new": "1"}, **headers))["message"]
    refresh(ctx)
    assert result["customer"] != existing
    assert lowcode.get_count("Customer", filters={"customer_name": f"Twin {unique}"}) == 2
    opp = lowcode.get_doc("Opportunity", result["opportunity"])
    assert opp.contact == result["contact"] and opp.opportunity_owner == rep
    assert lowcode.db.get_value("Contact", result["contact"], "first_name") == f"New{unique}"


def test_bad_input_is_refused_naming_the_field(ctx, client, unique):
    rep = make_user(unique, "rep")
    with as_user(rep):
        lead = qualify(make_lead(company_name=f"Solo {unique}"))
    other = make_user(unique, "other")
    headers, others = token(rep), token(other)
    refresh(ctx)
    counts = (lowcode.get_count("Customer"), lowcode.get_count("Opportunity"), lowcode.get_count("Contact"))
    for data, field, status in (({"opportunity_amount": "abc"}, "opportunity_amount", 417),
                                ({"expected_closing": "someday"}, "expected_closing", 417),
                                ({"opportunity_owner": "nobody@example.com"}, "opportunity_owner", 417),
                                ({"customer": f"NO-SUCH-{tag()}"}, "customer", 417),
                                ({"create_new": "maybe"}, "create_new", 400)):
        answer = client.post(CONVERT, dict(data, lead=lead.name), **headers)
        assert answer.status_code == status, (data, answer.status_code, text(answer)[:300])
        assert field in text(answer), (field, text(answer)[:300])
    csrf = login(ctx, client, rep)
    dialog = client.post(f"/app/convert-lead/{lead.name}", {"csrf_token": csrf, "opportunity_amount": "abc"}, **HX)
    assert dialog.status_code == 417
    assert re.search(r'class="[^"]*is-invalid[^"]*" id="f-opportunity_amount"', text(dialog))
    refresh(ctx)
    assert (lowcode.get_count("Customer"), lowcode.get_count("Opportunity"), lowcode.get_count("Contact")) == counts
    assert lowcode.db.get_value("Lead", lead.name, "status") == "Qualified"
    # a user who may not write the lead
    assert client.post(CONVERT, {"lead": lead.name}, **others).status_code == 403
    assert lead_state(lead.name) == ("Qualified", None, None)


def test_duplicate_check_finds_leads_and_customers_while_typing(ctx, client, unique):
    mobile = unique_mobile()
    lead = make_lead(first_name="Dara", last_name="Sadeghi", company_name=f"Typing Co {unique}", mobile_no=mobile)
    customer = make_customer(f"Typing Co {unique}", email_id=f"office.{unique}@typing.example").name
    headers = token("Administrator")
    login(ctx, client, "Administrator")
    persian = "".join("۰۱۲۳۴۵۶۷۸۹"[int(d)] for d in mobile)
    found = ok(client.get(DUPLICATES, {"mobile_no": persian[:4] + " " + persian[4:]}))["message"]
    assert [(f["doctype"], f["name"], f["matched"]) for f in found] == [("Lead", lead.name, ["mobile"])]
    assert found[0]["title"] == "Dara Sadeghi" and found[0]["url"] == f"/app/lead/{lead.name}"
    assert "Possible duplicate" in found[0]["before"] and "mobile" in found[0]["after"]
    found = ok(client.get(DUPLICATES, {"email_id": f"OFFICE.{unique}@typing.example"}))["message"]
    assert [(f["doctype"], f["name"], f["matched"]) for f in found] == [("Customer", customer, ["email"])]
    # the company alone matches the customer; a lead needs the same person too (the default rule)
    found = ok(client.get(DUPLICATES, {"company_name": f"Typing Co {unique}"}))["message"]
    assert [(f["doctype"], f["name"]) for f in found] == [("Customer", customer)]
    found = ok(client.get(DUPLICATES, {"company_name": f"Typing Co {unique}", "first_name": "Dara",
                                       "last_name": "Sadeghi"}))["message"]
    assert {(f["doctype"], f["name"]) for f in found} == {("Customer", customer), ("Lead", lead.name)}
    # the lead being edited is not its own duplicate; nothing typed, nothing found
    assert ok(client.get(DUPLICATES, {"mobile_no": mobile, "lead": lead.name}))["message"] == []
    assert ok(client.get(DUPLICATES, {}))["message"] == []
    assert client.get(DUPLICATES, {"email_id": "x" * 500}).status_code == 400
    posted = client.post(DUPLICATES, {"mobile_no": mobile}, **headers)
    assert posted.status_code == 403 and "GET" in body(posted)["message"]  # a GET only: it never writes


def test_the_dialog_works_as_a_page_without_script(ctx, client, unique):
    rep = make_user(unique, "rep")
    with as_user(rep):
        lead = qualify(make_lead(first_name=f"Page{unique}", company_name=f"Page Co {unique}"))
    csrf = login(ctx, client, rep)
    page = text(client.get(f"/app/convert-lead/{lead.name}"))
    assert "<html" in page and 'data-no-match' in page and 'name="customer_choice"' not in page
    done = client.post(f"/app/convert-lead/{lead.name}", {"csrf_token": csrf, "opportunity_amount": "۱۲۰۰"})
    assert done.status_code == 302 and done["Location"].startswith("/app/opportunity/")
    refresh(ctx)
    opportunity = done["Location"].rsplit("/", 1)[1]
    assert float(lowcode.db.get_value("Opportunity", opportunity, "opportunity_amount")) == 1200
    assert lead_state(lead.name)[0] == "Converted"
    # without the CSRF token nothing happens
    assert client.post(f"/app/convert-lead/{lead.name}", {}).status_code == 400


PROBED = {"Lead": ["email_id", "mobile_e164", "phone_e164", "company_name"],
          "Customer": ["email_id", "mobile_e164", "customer_name", "tax_id"],
          "Contact": ["email_id", "mobile_e164", "phone_e164", "full_name"]}


def test_every_probe_is_answered_from_an_index(ctx):
    """The matching columns are indexed and the probes' SQL (an equality IN list, first
    made first) searches that index: no scan of a million leads per key typed."""
    for doctype, columns in PROBED.items():
        for column in columns:
            sql = (f"SELECT `name` FROM `tab{doctype}` WHERE `tab{doctype}`.`{column}` IN (%s, %s) "
                   f"ORDER BY `tab{doctype}`.`creation` ASC LIMIT 5 OFFSET 0")  # as get_list writes it
            if ctx.db.db_type == "sqlite":
                plan = " | ".join(r[3] for r in ctx.db.sql("EXPLAIN QUERY PLAN " + sql, ("a", "b")))
                assert "SEARCH" in plan and column in plan, (doctype, column, plan)
            else:
                rows = ctx.db.sql("EXPLAIN " + sql, ("a", "b"), as_dict=True)
                keys = (rows[0]["possible_keys"] or "") + "," + (rows[0]["key"] or "")
                assert column in keys, (doctype, column, rows)
