"""Personal data on request (crm_app/privacy.py): export_contact_data returns the
contact and what mentions them; erase_contact_data removes their e-mail and phone from
the contact, the call logs, messages and leads that mention them and the customer
copies made at conversion, scrubs them from those records' version history, and drops
the contact's. Export needs export permission; erasure is for System Managers and CRM
Admins with delete permission on the contact."""
import json

import pytest

import lowcode

from crm_app.privacy import ERASED, erase_contact_data, export_contact_data
from crm_app.tests.helpers import as_user, make_customer, make_lead, make_user, unique_mobile


@pytest.fixture
def person(ctx, unique):
    """A contact of a customer, with the activities and leads that mention them."""
    email = f"shirin.{unique}@example.com"
    mobile = unique_mobile()
    customer = make_customer(f"Privacy Co {unique}").name
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Shirin", "last_name": "Nouri",
                               "designation": "Buyer", "email_id": email, "mobile_no": mobile,
                               "consent_email": 1, "consent_sms": 1,
                               "links": [{"link_doctype": "Customer", "link_name": customer}]}).insert()
    contact.designation = "Head of purchasing"       # a change: the version history now holds data
    contact.save()
    call = lowcode.get_doc({"doctype": "Call Log", "phone": mobile, "notes": "asked for a quote"}).insert()
    call_by_ref = lowcode.get_doc({"doctype": "Call Log", "phone": "09121234567", "reference_doctype": "Contact",
                                   "reference_name": contact.name}).insert()
    sent = lowcode.get_doc({"doctype": "Communication", "subject": f"Quote {unique}", "sender": email,
                            "recipients": "sales@example.com"}).insert()
    received = lowcode.get_doc({"doctype": "Communication", "subject": f"Reply {unique}", "sender": "sales@example.com",
                                "recipients": f"boss@example.com, {email}"}).insert()
    lead = make_lead(first_name="Shirin", last_name="Nouri", email_id=email, mobile_no=mobile)
    other_call = lowcode.get_doc({"doctype": "Call Log", "phone": unique_mobile()}).insert()
    return {"email": email, "mobile": mobile, "customer": customer, "contact": contact.name, "call": call.name,
            "call_by_ref": call_by_ref.name, "sent": sent.name, "received": received.name, "lead": lead.name,
            "other_call": other_call.name}


def test_export_contact_data(ctx, person):
    data = export_contact_data(person["contact"])
    assert data["contact"]["name"] == person["contact"]
    assert data["contact"]["email_id"] == person["email"] and data["contact"]["mobile_no"] == person["mobile"]
    assert data["contact"]["links"][0]["link_name"] == person["customer"]
    calls = {r["name"] for r in data["activities"]["Call Log"]}
    assert {person["call"], person["call_by_ref"]} <= calls and person["other_call"] not in calls
    messages = {r["name"] for r in data["activities"]["Communication"]}
    assert {person["sent"], person["received"]} <= messages
    assert [r["name"] for r in data["leads"]] == [person["lead"]]
    json.dumps(data, default=str)  # serialisable as the API answers it


def test_export_lists_every_lead_erasure_would_reach(ctx, person):
    """A lead with the e-mail in other case or the mobile typed another way is the same
    person's: erasure scrubs it, so export must show it."""
    mobile = person["mobile"]
    retyped = make_lead(first_name="Shirin", email_id=f"other.{person['email']}",
                        mobile_no="+98 " + mobile[1:4] + " " + mobile[4:7] + " " + mobile[7:])
    shouting = make_lead(first_name="Shirin", email_id=person["email"].upper())
    stranger = make_lead(first_name="Shirin")
    leads = {r["name"] for r in export_contact_data(person["contact"])["leads"]}
    assert leads == {person["lead"], retyped.name, shouting.name} and stranger.name not in leads
    erase_contact_data(person["contact"])
    assert {lowcode.db.get_value("Lead", n, "lead_name") for n in leads} == {ERASED}


def test_export_needs_export_permission(ctx, person, unique):
    nobody = make_user(unique, "noexport", roles=())
    with as_user(nobody):
        with pytest.raises(lowcode.PermissionError):
            export_contact_data(person["contact"])
    marketing = make_user(unique, "marketing", roles=("Marketing User",))
    with as_user(marketing):
        assert export_contact_data(person["contact"])["contact"]["name"] == person["contact"]


def test_erase_contact_data(ctx, person):
    assert lowcode.get_count("Version", filters={"ref_doctype": "Contact", "docname": person["contact"]}) >= 1
    assert erase_contact_data(person["contact"]) == person["contact"]

    contact = lowcode.get_doc("Contact", person["contact"])
    assert contact.first_name == ERASED and not contact.last_name
    assert not contact.email_id and not contact.mobile_no and not contact.phone and not contact.designation
    assert (contact.consent_email, contact.consent_sms, contact.consent_call) == (0, 0, 0)
    assert contact.is_erased == 1
    assert contact.links[0].link_name == person["customer"]      # the record keeps its shape

    assert lowcode.db.get_value("Call Log", person["call"], "phone") == ERASED
    assert lowcode.db.get_value("Call Log", person["call"], "notes") == "asked for a quote"
    assert lowcode.db.get_value("Call Log", person["other_call"], "phone") != ERASED
    assert lowcode.db.get_value("Communication", person["sent"], "sender") == ERASED
    lead = lowcode.get_doc("Lead", person["lead"])
    assert lead.first_name == ERASED and lead.lead_name == ERASED
    assert not lead.email_id and not lead.mobile_no and not lead.last_name

    assert lowcode.get_count("Version", filters={"ref_doctype": "Contact", "docname": person["contact"]}) == 0


def test_erasure_leaves_the_email_nowhere_in_messages(ctx, person):
    """A message the person received names them among the recipients; the export finds
    it, so the erasure must clear it too."""
    erase_contact_data(person["contact"])
    recipients = lowcode.db.get_value("Communication", person["received"], "recipients")
    assert person["email"] not in recipients, f"the erased address is still a recipient: {recipients!r}"
    assert "boss@example.com" in recipients


def test_erasure_finds_the_email_in_messages_in_any_case(ctx, person):
    """An address retyped in capitals is the same address (on both engines)."""
    shouted = person["email"].upper()
    msg = lowcode.get_doc({"doctype": "Communication", "subject": f"From {shouted}", "sender": shouted,
                           "recipients": f"Boss@Example.com, {shouted}",
                           "content": f"<p>Call {person['mobile']} or write to {shouted}</p>"}).insert()
    erase_contact_data(person["contact"])
    row = lowcode.get_all("Communication", filters={"name": msg.name},
                          fields=["sender", "recipients", "subject", "content"])[0]
    assert row["sender"] == ERASED and row["recipients"] == f"Boss@Example.com, {ERASED}"
    assert row["subject"] == f"From {ERASED}" and row["content"] == f"<p>Call {ERASED} or write to {ERASED}</p>"


def test_erasure_reaches_incoming_mail_copies(ctx, person):
    """Incoming mail keeps the address in more places: a message's cc, the raw text of
    mail that could not be imported, and the record of the address bouncing."""
    from lowcode.channels import bounces
    cc = lowcode.get_doc({"doctype": "Communication", "subject": "cc", "sender": "a@example.com",
                          "sent_or_received": "Received", "cc": f"x@example.com, {person['email']}"}).insert()
    kept = lowcode.get_doc({"doctype": "Unhandled Email", "reason": "no sender address",
                            "raw": f"To: {person['email'].upper()}\r\n\r\nhello"}).insert()
    bounces.record(person["email"], "5.1.1", "550 no such user")
    assert bounces.is_invalid_email(person["email"])
    export = export_contact_data(person["contact"])
    assert cc.name in [r["name"] for r in export["activities"]["Communication"]]
    erase_contact_data(person["contact"])
    assert lowcode.db.get_value("Communication", cc.name, "cc") == f"x@example.com, {ERASED}"
    assert person["email"].lower() not in lowcode.db.get_value("Unhandled Email", kept.name, "raw").lower()
    assert not lowcode.db.exists("Email Bounce", person["email"])


def test_erasure_leaves_no_trace_in_lead_versions(ctx, person):
    """A lead's history that recorded the person's e-mail is personal data as well."""
    lead = lowcode.get_doc("Lead", person["lead"])
    lead.email_id = "typo@example.com"
    lead.save()
    lead.email_id = person["email"]
    lead.save()
    erase_contact_data(person["contact"])
    for data in lowcode.get_all("Version", filters={"ref_doctype": "Lead", "docname": person["lead"]},
                                pluck="data"):
        assert person["email"] not in data, "the erased e-mail stays in the lead's version history"


def test_erasure_is_for_system_managers_and_crm_admins(ctx, person, unique):
    """Erasure reaches records the caller may not read (it must, to be complete), so
    only the data-protection roles may run it; a Sales Manager, who may delete
    contacts, may not, and nothing changes."""
    for roles in (("Sales User",), ("Sales Manager",)):
        with as_user(make_user(unique, "noerase", roles=roles)):
            with pytest.raises(lowcode.PermissionError):
                erase_contact_data(person["contact"])
    assert lowcode.db.get_value("Contact", person["contact"], "email_id") == person["email"]
    assert lowcode.db.get_value("Call Log", person["call"], "phone") == person["mobile"]
    assert lowcode.db.get_value("Lead", person["lead"], "email_id") == person["email"]
    assert lowcode.get_count("Version", filters={"ref_doctype": "Contact", "docname": person["contact"]}) >= 1
    with as_user(make_user(unique, "dpo", roles=("CRM Admin",))):
        erase_contact_data(person["contact"])
    assert lowcode.db.get_value("Contact", person["contact"], "is_erased") == 1


def test_erasure_removes_the_copies_on_the_customer_and_in_history(ctx, unique):
    """Conversion copied the person's e-mail and mobile onto the customer; the customer's
    and the lead's history recorded them; a message's text quotes the address. Values
    that are the organisation's own stay."""
    from crm_app.conversion import convert_lead
    from crm_app.tests.helpers import qualify
    email, mobile = f"Parisa.{unique}@Example.com", unique_mobile()
    lead = qualify(make_lead(first_name="Parisa", email_id=email, mobile_no=mobile, company_name=f"Copy Co {unique}"))
    customer = convert_lead(lead.name)["customer"]
    doc = lowcode.get_doc("Customer", customer)
    doc.website = "https://copy.example.com"
    doc.mobile_no = "+98 " + mobile[1:4] + " " + mobile[4:7] + " " + mobile[7:]   # retyped: the same number
    doc.save()
    other = make_customer(f"Other {unique}", email_id=f"office.{unique}@example.com")
    note = lowcode.get_doc({"doctype": "Communication", "subject": "Forwarded",
                            "content": f"<p>Please write to {email} about the offer</p>"}).insert()
    contact = lowcode.get_all("Contact", filters=[["Dynamic Link", "link_name", "=", customer]], pluck="name")[0]

    erase_contact_data(contact)

    copy = lowcode.get_doc("Customer", customer)
    assert not copy.email_id and not copy.mobile_no and not copy.mobile_e164
    assert copy.customer_name == f"Copy Co {unique}" and copy.website == "https://copy.example.com"
    assert lowcode.db.get_value("Customer", other.name, "email_id") == f"office.{unique}@example.com"
    content = lowcode.db.get_value("Communication", note.name, "content")
    assert email not in content and ERASED in content
    for doctype, name in (("Customer", customer), ("Lead", lead.name)):
        for data in lowcode.get_all("Version", filters={"ref_doctype": doctype, "docname": name}, pluck="data"):
            assert email not in data and mobile not in data and doc.mobile_no not in data, (doctype, data)
    assert lowcode.get_count("Version", filters={"ref_doctype": "Customer", "docname": customer}) >= 1


def test_erasure_reaches_the_mobile_on_a_customer_made_before_it_was_normalised(ctx, unique):
    """A customer made before mobile_e164 existed has none until migrate fills it;
    erasure (and conversion) find a customer's mobile by it."""
    from lowcode import installer
    mobile = unique_mobile()
    customer = make_customer(f"Older Co {unique}", mobile_no=mobile).name
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Older", "mobile_no": mobile,
                               "links": [{"link_doctype": "Customer", "link_name": customer}]}).insert()
    lowcode.db.sql("UPDATE `tabCustomer` SET `mobile_e164`=NULL WHERE `name`=%s", (customer,))  # as it was
    installer.migrate()
    assert lowcode.db.get_value("Customer", customer, "mobile_e164") == "+98" + mobile[1:]
    erase_contact_data(contact.name)
    assert not lowcode.db.get_value("Customer", customer, "mobile_no")


def test_erase_over_http_needs_post(ctx, client, person, unique):
    from crm_app.tests.helpers import refresh, token
    manager = make_user(unique, "httperase", roles=("CRM Admin",))
    auth = token(manager)
    refresh(ctx)
    url = "/api/method/crm_app.privacy.erase_contact_data"
    assert client.get(url, {"contact": person["contact"]}, **auth).status_code == 403
    response = client.post(url, data=json.dumps({"contact": person["contact"]}), content_type="application/json",
                           **auth)
    assert response.status_code == 200, response.content[:300]
    refresh(ctx)
    assert lowcode.db.get_value("Contact", person["contact"], "is_erased") == 1


def test_erase_action_is_shown_only_to_erasers(ctx, client, person, unique):
    """The form's "Erase personal data" button follows the action's ``roles``: a Sales
    Manager (who may read and delete contacts, but not erase) does not get it, nor can
    they run it as a form action; a CRM Admin and the Administrator get it."""
    from crm_app.privacy import ERASERS
    from crm_app.tests.helpers import refresh, token
    from lowcode.apps import get_hooks
    from lowcode.desk.views.form import form_actions
    erase = next(a for a in get_hooks("form_actions", {})["Contact"] if a["label"] == "Erase personal data")
    assert set(erase["roles"]) == set(ERASERS)                    # the button and the check agree
    assert "Erase personal data" in [a["label"] for a in form_actions(lowcode.get_doc("Contact", person["contact"]))]
    manager = token(make_user(unique, "formmgr", roles=("Sales Manager",)))
    admin = token(make_user(unique, "formadmin", roles=("CRM Admin",)))
    refresh(ctx)
    url = f"/app/contact/{person['contact']}"
    response = client.get(url, **manager)
    assert response.status_code == 200, response.content[:300]
    html = response.content.decode()
    assert "Export personal data" in html                        # actions without roles stay
    assert "Erase personal data" not in html
    response = client.get(url, **admin)
    assert response.status_code == 200, response.content[:300]
    assert "Erase personal data" in response.content.decode()
