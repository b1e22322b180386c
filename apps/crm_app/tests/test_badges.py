"""Blocked customers and duplicate leads are marked wherever they appear: on their own
form, and beside every link to them in lists and forms (record_badges hook)."""
import lowcode
from lowcode import auth


def _login(ctx, client):
    ctx.db.commit()
    session = auth.start_session("Administrator", desk=True)
    ctx.db.commit()
    client.cookies["sid"] = session.sid


def test_blocked_customer_is_marked_on_its_form_and_on_opportunities(ctx, client, unique):
    customer = lowcode.get_doc({"doctype": "Customer", "customer_name": f"Blocked Co {unique}"}).insert()
    fine = lowcode.get_doc({"doctype": "Customer", "customer_name": f"Fine Co {unique}"}).insert()
    opp = lowcode.get_doc({"doctype": "Opportunity", "title": f"Deal {unique}", "party_name": customer.name}).insert()
    lowcode.get_doc({"doctype": "Opportunity", "title": f"Other {unique}", "party_name": fine.name}).insert()
    customer.is_blocked, customer.blocked_reason = 1, "unpaid invoices"
    customer.save()
    _login(ctx, client)
    form = client.get(f"/app/customer/{customer.name}").content.decode()
    assert 'id="record-badge"' in form and "Blocked" in form
    assert 'id="record-badge"' not in client.get(f"/app/customer/{fine.name}").content.decode()
    opp_form = client.get(f"/app/opportunity/{opp.name}").content.decode()
    assert "data-link-badge" in opp_form
    listing = client.get("/app/opportunity", {"q": unique}).content.decode()
    row_blocked = listing.split(customer.name, 1)[1].split("</td>", 1)[0]
    row_fine = listing.split(fine.name, 1)[1].split("</td>", 1)[0]
    assert "Blocked" in row_blocked and "Blocked" not in row_fine


def test_duplicate_lead_warns_on_its_form(ctx, client, unique):
    first = lowcode.get_doc({"doctype": "Lead", "first_name": "A", "email_id": f"dup-{unique}@example.com"}).insert()
    second = lowcode.get_doc({"doctype": "Lead", "first_name": "B", "email_id": f"DUP-{unique}@example.com"}).insert()
    _login(ctx, client)
    html = client.get(f"/app/lead/{second.name}").content.decode()
    assert 'id="record-badge"' in html and "Possible duplicate" in html
    assert "Merge into the earlier lead" in html
    assert 'id="record-badge"' not in client.get(f"/app/lead/{first.name}").content.decode()
