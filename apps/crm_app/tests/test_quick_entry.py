"""Quick entry dialogs (lowcode/desk/views/quick_entry.py) on the CRM's DocTypes, and the
assignment notice of crm_app/assignment.py, over HTTP on both engines: the dialog asks
only the mandatory and ``allow_in_quick_entry`` fields, a save inserts through the normal
path, bad input is refused naming the field with nothing written, a user who may not
create gets no "+ Create" and a 403; an assignment rule leaves a record with the
salesperson who created it unless the rule says otherwise, and tells the saving user
who got the record and why."""
import json
import re

import lowcode
from lowcode.desk.views.quick_entry import is_quick_entry
from lowcode.meta import Meta, get_meta
from lowcode.tests.desk_helpers import login

from crm_app.tests.helpers import make_territory, make_user, refresh


def text(response):
    return response.content.decode()


def inputs(html):
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', html))


def invalid(html, control_id):
    return re.search(rf'<[^>]*class="[^"]*is-invalid[^"]*"[^>]*id="{control_id}"', html) is not None


def customers_named(ctx, name):
    refresh(ctx)
    return lowcode.get_all("Customer", filters={"customer_name": name}, fields=["name", "owner", "customer_type"])


def test_the_dialog_asks_the_mandatory_and_quick_entry_fields_only(ctx, client, unique):
    rep = make_user(unique, "rep")
    login(ctx, client, rep)
    listing = text(client.get("/app/customer"))
    assert 'data-quick-entry="/app/customer/__quick"' in listing  # "New" opens the dialog
    dialog = client.get("/app/customer/__quick?__text=Acme")
    assert dialog.status_code == 200
    html = text(dialog)
    fields = inputs(html) - {"csrf_token"}
    assert {"customer_name", "customer_type", "customer_group", "territory", "email_id", "mobile_no"} == fields
    assert 'id="qe-f-customer_name" name="customer_name" value="Acme"' in html  # what was typed in the Link field
    assert 'data-edit-full-form' in html and 'data-full-form="/app/customer/new"' in html
    lead = inputs(text(client.get("/app/lead/__quick"))) - {"csrf_token"}
    assert {"first_name", "last_name", "email_id", "mobile_no"} <= lead and not lead & {"job_title", "tax_id", "city"}
    # Frappe's rule: a mandatory child table (or no quick_entry) means the full form.
    customer = get_meta("Customer").definition
    table = {"fieldname": "rows", "fieldtype": "Table", "options": "Assignment Rule User", "label": "Rows"}
    assert is_quick_entry(Meta(dict(customer, fields=customer["fields"] + [table])))
    assert not is_quick_entry(Meta(dict(customer, fields=customer["fields"] + [dict(table, reqd=1)])))
    assert not is_quick_entry(Meta(dict(customer, quick_entry=0)))
    assert client.get("/app/territory/__quick").status_code == 403  # a Sales User may not create one
    manager = make_user(unique, "manager", roles=("Sales Manager",))
    login(ctx, client, manager)
    full = client.get("/app/territory/__quick")  # no quick_entry: the full form
    assert full.status_code == 302 and full["Location"] == "/app/territory/new"
    assert 'data-create="/app/territory/new" data-create-quick="0"' in text(client.get("/app/lead/new"))
    assert 'data-quick-entry' not in text(client.get("/app/territory"))


def test_save_creates_the_record_through_the_normal_insert(ctx, client, unique):
    rep = make_user(unique, "rep")
    csrf = login(ctx, client, rep)
    name = f"Quick Co {unique}"
    saved = client.post("/app/customer/__quick", {"csrf_token": csrf, "customer_name": name,
                                                 "customer_type": "Individual"})
    assert saved.status_code == 200, text(saved)
    data = json.loads(saved.content)
    [row] = customers_named(ctx, name)
    assert (data["name"], data["title"], data["url"]) == (row["name"], name, f"/app/customer/{row['name']}")
    assert (row["owner"], row["customer_type"]) == (rep, "Individual")
    assert "saved" in data["message"]


def test_bad_input_names_the_field_and_writes_nothing(ctx, client, unique):
    rep = make_user(unique, "rep")
    csrf = login(ctx, client, rep)
    missing = client.post("/app/customer/__quick", {"csrf_token": csrf, "email_id": f"x-{unique}@example.com"})
    assert missing.status_code == 417, text(missing)
    html = text(missing)
    assert invalid(html, "qe-f-customer_name") and f"x-{unique}@example.com" in html  # typed text stays
    name = f"Bad Type {unique}"
    wrong = client.post("/app/customer/__quick", {"csrf_token": csrf, "customer_name": name,
                                                 "customer_type": "Nonsense"})
    assert 400 <= wrong.status_code < 500 and invalid(text(wrong), "qe-f-customer_type"), text(wrong)
    no_token = client.post("/app/customer/__quick", {"customer_name": name})
    assert no_token.status_code == 400
    assert not customers_named(ctx, name)


def test_no_create_offer_nor_save_without_create_permission(ctx, client, unique):
    marketer = make_user(unique, "marketer", roles=("Marketing User",))
    csrf = login(ctx, client, marketer)
    task_form = text(client.get("/app/task/new"))
    assert 'data-link="Customer"' in task_form and "/app/customer/__quick" not in task_form
    assert client.get("/app/customer/__quick").status_code == 403
    name = f"Forbidden {unique}"
    assert client.post("/app/customer/__quick", {"csrf_token": csrf, "customer_name": name}).status_code == 403
    assert not customers_named(ctx, name)
    rep = make_user(unique, "rep")
    login(ctx, client, rep)
    offer = text(client.get("/app/task/new"))
    assert 'data-create="/app/customer/__quick" data-create-quick="1"' in offer
    assert 'data-create-label="+ Create a new Customer"' in offer


def _rule(ctx, unique, territory, users, **values):
    lowcode.get_doc(dict({"doctype": "Assignment Rule", "rule_name": f"Quick rule {unique}", "document_type": "Lead",
                          "condition": f"doc.territory == '{territory}'", "assign_field": "lead_owner",
                          "users": [{"user": u} for u in users]}, **values)).insert()


def _lead_owner(ctx, first_name):
    refresh(ctx)
    [row] = lowcode.get_all("Lead", filters={"first_name": first_name}, fields=["name", "lead_owner", "_assign"])
    return row


def test_the_creator_keeps_the_record_and_is_told_why(ctx, client, unique):
    territory = make_territory(f"Quick {unique}")
    rep, other = make_user(unique, "rep"), make_user(unique, "other")
    _rule(ctx, unique, territory, [other, rep])  # round robin would pick `other` first
    csrf = login(ctx, client, rep)
    saved = client.post("/app/lead/new", {"csrf_token": csrf, "first_name": f"Mine {unique}", "territory": territory})
    assert saved.status_code == 302 and saved["Location"].endswith("?notice=1"), text(saved)
    row = _lead_owner(ctx, f"Mine {unique}")
    assert row["lead_owner"] == rep and json.loads(row["_assign"]) == [rep]
    assert not lowcode.get_all("Notification Log", filters={"document_name": row["name"], "type": "Assignment"})
    form = text(client.get(saved["Location"]))
    assert f"Assigned to Rep Tester by rule Quick rule {unique} (the creator keeps the record)" in form
    # The round robin's turn was not used up by the creator.
    assert lowcode.db.get_value("Assignment Rule", f"Quick rule {unique}", "last_user") is None
    # Through the quick entry dialog, the notice comes with the toast.
    quick = client.post("/app/lead/__quick", {"csrf_token": csrf, "first_name": f"Quick {unique}",
                                             "territory": territory, "naming_series": "LEAD-.YYYY.-",
                                             "status": "New"})
    assert quick.status_code == 200, text(quick)
    assert json.loads(quick.content)["notices"] == [
        f"Assigned to Rep Tester by rule Quick rule {unique} (the creator keeps the record)"]
    # In the user's language.
    ctx.db.commit()
    ctx.db.begin()
    lowcode.db.sql("UPDATE `tabUser` SET `language`='fa' WHERE `name`=%s", (rep,))
    refresh(ctx)
    assert f"با قاعدهٔ Quick rule {unique} به Rep Tester واگذار شد" in text(client.get(saved["Location"]))
    # Another user's later view of the record shows no notice that is not theirs.
    login(ctx, client, other)
    assert "Assigned to" not in text(client.get(saved["Location"]))


def test_a_rule_that_reassigns_takes_the_record_and_says_so(ctx, client, unique):
    territory = make_territory(f"Quick re {unique}")
    rep, other = make_user(unique, "rep"), make_user(unique, "other")
    _rule(ctx, unique, territory, [other, rep], reassign_creator_records=1)
    csrf = login(ctx, client, rep)
    saved = client.post("/app/lead/new", {"csrf_token": csrf, "first_name": f"Theirs {unique}",
                                          "territory": territory})
    assert saved.status_code == 302, text(saved)
    lead = _lead_owner(ctx, f"Theirs {unique}")
    assert lead["lead_owner"] == other
    # The assignee gets the usual assignment notification.
    assert lowcode.get_all("Notification Log", filters={"for_user": other, "type": "Assignment",
                                                        "document_name": lead["name"]}, pluck="from_user") == [rep]
    form = client.get(saved["Location"])  # the rep still reads the lead they created
    assert form.status_code == 200
    assert f"Assigned to Other Tester by rule Quick rule {unique} (round robin)" in text(form)
    assert lowcode.db.get_value("Assignment Rule", f"Quick rule {unique}", "last_user") == other


def test_a_rule_based_on_a_field_assigns_the_user_it_names(ctx, client, unique):
    import pytest
    from lowcode.exceptions import ValidationError
    territory = make_territory(f"Quick field {unique}")
    rep, other = make_user(unique, "rep"), make_user(unique, "other")
    with pytest.raises(ValidationError) as refused:
        _rule(ctx, unique, territory, [rep], rule="Based on Field", field="no_such_field", assign_field=None)
    assert refused.value.field == "field"
    _rule(ctx, unique, territory, [rep], rule="Based on Field", field="lead_owner", assign_field=None)
    csrf = login(ctx, client, rep)
    saved = client.post("/app/lead/new", {"csrf_token": csrf, "first_name": f"Field {unique}",
                                          "territory": territory, "lead_owner": other})
    assert saved.status_code == 302 and saved["Location"].endswith("?notice=1"), text(saved)
    assert json.loads(_lead_owner(ctx, f"Field {unique}")["_assign"]) == [other]
    form = client.get(saved["Location"])
    assert f"Assigned to Other Tester by rule Quick rule {unique} (based on field)" in text(form)
