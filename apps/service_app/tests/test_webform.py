"""The public web forms: a Lead or a Case from a website, guarded against spam (rate
limit per address, honeypot, time to fill), embeddable by other sites while every
other page keeps refusing frames."""
import time
import uuid

import lowcode
from lowcode.context import local

from crm_app.tests.helpers import refresh, write
from service_app.tests.helpers import tag
from service_app.webform import stamp


def address(client):
    """A fresh client address: the rate limit's counters outlive a test."""
    client.defaults["REMOTE_ADDR"] = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def form(**values):
    data = {"full_name": "Sara Karimi", "email": f"sara-{tag()}@example.com", "phone": "", "company_name": "Karimi Co",
            "message": "Please call me\nafter <b>five</b>", "form_stamp": stamp(time.time() - 20)}
    data.update(values)
    return data


def count(ctx, doctype, email):
    column = "email_id" if doctype == "Lead" else "raised_by"
    return ctx.db.sql(f"SELECT COUNT(*) FROM `tab{doctype}` WHERE `{column}`=%s", (email,))[0][0]


def test_contact_us_makes_a_lead_and_a_support_request_a_case(ctx, client):
    address(client)
    contact, support = form(), form(subject=f"Printer {tag()} jams")
    refresh(ctx)
    page = client.get("/webform/contact")
    assert page.status_code == 200 and 'name="homepage"' in page.content.decode() and 'name="form_stamp"' in \
        page.content.decode()
    assert client.post("/webform/contact", contact).status_code == 200
    assert client.post("/webform/support", support).status_code == 200
    write(ctx)
    lead = ctx.db.sql("SELECT `first_name`, `last_name`, `company_name`, `notes`, `status` FROM `tabLead` "
                      "WHERE `email_id`=%s", (contact["email"],), as_dict=True)
    assert len(lead) == 1 and (lead[0]["first_name"], lead[0]["last_name"]) == ("Sara", "Karimi")
    assert "&lt;b&gt;" in lead[0]["notes"] and "<b>" not in lead[0]["notes"]
    case = ctx.db.sql("SELECT `subject`, `channel`, `status`, `description` FROM `tabCase` WHERE `raised_by`=%s",
                      (support["email"],), as_dict=True)
    assert len(case) == 1 and (case[0]["subject"], case[0]["channel"], case[0]["status"]) == \
        (support["subject"], "Web Form", "Open")
    assert "Karimi Co" in case[0]["description"]


def test_a_bad_field_is_named_and_nothing_is_written(ctx, client):
    address(client)
    bad_email, no_message = form(email="not-an-address"), form(message="  ")
    no_stamp = form()
    no_stamp.pop("form_stamp")
    forged = form(form_stamp=f"{int(time.time()) - 20}:forged")
    refresh(ctx)
    response = client.post("/webform/contact", bad_email)
    assert response.status_code == 417 and 'is-invalid" type="email" id="f-email"' in response.content.decode()
    assert client.post("/webform/contact", no_message).status_code == 417
    assert client.post("/webform/contact", no_stamp).status_code == 417
    assert client.post("/webform/contact", forged).status_code == 417
    assert client.get("/webform/nosuchform").status_code == 404
    write(ctx)
    assert count(ctx, "Lead", bad_email["email"]) == 0 and count(ctx, "Lead", no_stamp["email"]) == 0
    assert count(ctx, "Lead", forged["email"]) == 0


def test_honeypot_and_too_fast_posts_are_thanked_and_dropped(ctx, client):
    address(client)
    bot, hasty = form(homepage="http://spam.example"), form(form_stamp=stamp())
    refresh(ctx)
    for data in (bot, hasty):
        response = client.post("/webform/contact", data)
        assert response.status_code == 200 and 'role="status"' in response.content.decode()
    write(ctx)
    assert count(ctx, "Lead", bot["email"]) == 0 and count(ctx, "Lead", hasty["email"]) == 0


def test_rate_limit_per_address(ctx, client):
    address(client)
    limit = int(local.conf.get("webform_rate_limit") or 5)
    posts = [form() for _ in range(limit + 1)]
    refresh(ctx)
    statuses = [client.post("/webform/contact", data).status_code for data in posts]
    assert statuses == [200] * limit + [429]
    address(client)  # another address is not held back
    assert client.post("/webform/contact", form(form_stamp=posts[0]["form_stamp"])).status_code == 200
    write(ctx)
    assert count(ctx, "Lead", posts[-1]["email"]) == 0 and count(ctx, "Lead", posts[0]["email"]) == 1


def test_only_the_web_form_may_be_framed_by_other_sites(ctx, client):
    refresh(ctx)
    framed = client.get("/webform/quote")
    assert "frame-ancestors *" in framed["Content-Security-Policy"] and "X-Frame-Options" not in framed
    for path in ("/portal", "/login", "/portal/signup"):
        response = client.get(path)
        assert response["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in \
            response["Content-Security-Policy"], path
