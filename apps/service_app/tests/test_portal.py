"""The customer portal: invitation and approved sign-up, Website Users kept out of the
desk and the generic API, complaints with attachments, replies through the workflow,
quotations, and isolation: a contact of one customer guessing names and URLs of
another's records gets 404/403 and sees nothing of them in lists, counts or search."""
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

import lowcode
from lowcode.workflow import apply_workflow

from crm_app.tests.helpers import PASSWORD, as_user, make_product, make_quotation, refresh, write
from lowcode.tests.desk_helpers import login
from service_app.cases import create_case
from service_app.portal_users import accept, approve_request, invite
from service_app.tests.helpers import make_agent, make_contact, make_customer, tag


class Portal:
    """A customer with a portal user (a contact who accepted an invitation)."""

    def __init__(self, customer=None):
        self.customer = customer or make_customer().name
        self.contact = make_contact(self.customer).name
        _, token = invite(self.contact)
        self.user = accept(token, PASSWORD, PASSWORD)


def portal_case(portal, subject=None, **values):
    return create_case(subject or f"Broken {tag()}", channel="Portal", customer=portal.customer,
                       contact=portal.contact, raised_by=portal.user, ignore_permissions=True, **values)


def private_file(case_name, content=b"secret plans"):
    from lowcode.api.files import save_file
    return save_file(f"plan-{tag()}.txt", content, private=True, attached_to_doctype="Case",
                     attached_to_name=case_name)


def one(ctx, sql, *values):
    rows = ctx.db.sql(sql, values, pluck=True)
    return rows[0] if rows else None


def sent_quotation(customer, product, qty=1, rate=10):
    return apply_workflow(make_quotation(customer, [{"product": product, "qty": qty, "rate": rate}]), "Send")


def html(response):
    return response.content.decode("utf-8")


# -- sign-up ------------------------------------------------------------------------------------

def test_an_invitation_link_works_once_under_the_password_policy(ctx, client, unique):
    agent = make_agent(unique)
    customer = make_customer().name
    contact = make_contact(customer)
    csrf = login(ctx, client, agent)
    page = client.post(f"/app/portal-invite/{contact.name}", {"csrf_token": csrf})
    assert page.status_code == 200, html(page)[:500]
    link = re.search(r'value="(http[^"]+/portal/invite/([^"]+))"', html(page))
    assert link, html(page)[:2000]
    token = link.group(2)
    write(ctx)
    stored = ctx.db.sql("SELECT `token_hash` FROM `tabPortal Invitation` WHERE `contact`=%s", (contact.name,),
                        pluck=True)
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64  # a digest, not the token
    refresh(ctx)
    client.cookies.pop("sid")
    assert client.get(f"/portal/invite/{token}").status_code == 200
    weak = client.post(f"/portal/invite/{token}", {"password": "123", "confirm": "123"})
    assert weak.status_code == 417 and 'id="f-password"' in html(weak) and "is-invalid" in html(weak)
    assert not ctx.db.exists("User", contact.email_id)  # nothing written
    differ = client.post(f"/portal/invite/{token}", {"password": PASSWORD, "confirm": PASSWORD + "x"})
    assert differ.status_code == 417 and not ctx.db.exists("User", contact.email_id)
    done = client.post(f"/portal/invite/{token}", {"password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/portal"
    assert client.get("/portal").status_code == 200
    write(ctx)
    user = lowcode.get_doc("User", contact.email_id)
    assert user.user_type == "Website User" and [r.role for r in user.roles] == ["Customer"]
    assert ctx.db.get_value("Contact", contact.name, "user") == user.name
    refresh(ctx)
    client.cookies.pop("sid")
    again = client.post(f"/portal/invite/{token}", {"password": PASSWORD, "confirm": PASSWORD})
    assert again.status_code == 404
    assert client.get(f"/portal/invite/{token[:-2]}xx").status_code == 404


def test_only_support_staff_invite_and_never_a_staff_login(ctx, unique):
    customer = make_customer().name
    sales = lowcode.get_doc("User", make_agent(unique, "sales", roles=("Sales User",)))
    with as_user(sales.name), pytest.raises(lowcode.PermissionError):
        invite(make_contact(customer).name)
    staff = make_contact(customer, email=make_agent(unique, "staff"))
    with pytest.raises(lowcode.ValidationError) as err:
        invite(staff.name)  # the link would set a desk user's password
    assert err.value.field == "email_id"


def test_a_sign_up_request_is_approved_by_a_support_manager(ctx, client, unique):
    from service_app.webform import stamp
    import time
    email = f"asker-{tag()}@example.com"
    manager = make_agent(unique, "manager", roles=("Support Manager",))
    client.defaults["REMOTE_ADDR"] = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    form = {"full_name": "Dana Levi", "email": email.upper(), "company_name": "Levi Ltd",
            "form_stamp": stamp(time.time() - 30)}
    bot = dict(form, email=f"bot-{tag()}@example.com", homepage="http://spam.example")
    refresh(ctx)
    assert client.post("/portal/signup", form).status_code == 200
    assert client.post("/portal/signup", bot).status_code == 200
    write(ctx)
    assert one(ctx, "SELECT COUNT(*) FROM `tabPortal Sign-up Request` WHERE `email`=%s", bot["email"]) == 0
    req = lowcode.get_doc("Portal Sign-up Request",
                          one(ctx, "SELECT `name` FROM `tabPortal Sign-up Request` WHERE `email`=%s", email))
    assert req.status == "Pending"
    assert one(ctx, "SELECT COUNT(*) FROM `tabNotification Log` WHERE `for_user`=%s AND `document_name`=%s",
               manager, req.name) == 1
    agent = make_agent(unique)
    with as_user(agent), pytest.raises(lowcode.PermissionError):
        approve_request(req.name)
    with pytest.raises(lowcode.ValidationError) as err:
        approve_request(req.name)  # no customer chosen yet
    assert err.value.field == "customer"
    req.customer = make_customer().name
    req.save()
    with as_user(manager):
        result = approve_request(req.name)
        _, token = invite(result["contact"])
    user = accept(token, PASSWORD, PASSWORD)
    with as_user(user):
        from service_app.permissions import portal_customers
        assert portal_customers(user) == [req.customer]


# -- the desk and the API are closed to Website Users ---------------------------------------------

def test_website_users_never_reach_the_desk_nor_the_generic_api(ctx, client):
    portal = Portal()
    refresh(ctx)
    # The engine's login form lands a Website User on the portal.
    client.get("/login")
    form = client.post("/login", {"usr": portal.user, "pwd": PASSWORD,
                                  "login_token": client.cookies["login_token"].value})
    assert form.status_code == 302 and form["Location"] == "/portal"
    for path in ("/app", "/app/case", "/app/user", f"/app/contact/{portal.contact}", "/printview?doctype=Case&name=x"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/portal", path
    for path in ("/api/resource/Case", "/api/resource/User", "/api/resource/Comment", "/api/resource/File",
                 f"/api/resource/Contact/{portal.contact}", "/api/method/frappe.client.get_list?doctype=User",
                 "/api/method/frappe.client.get_count?doctype=Case", "/api/openapi.json",
                 "/api/method/frappe.desk.search.search_link?doctype=Customer&txt=a"):
        assert client.get(path).status_code == 403, path
    me = client.get("/api/method/frappe.auth.get_logged_user")
    assert me.status_code == 200 and me.json()["message"] == portal.user
    client.cookies.pop("sid")
    api = client.post("/api/method/login", {"usr": portal.user, "pwd": PASSWORD})
    assert api.json()["home_page"] == "/portal"


# -- complaints, replies, attachments ---------------------------------------------------------------

def test_a_complaint_with_attachments_and_the_reply_round(ctx, client, unique):
    portal = Portal()
    colleague_contact = make_contact(portal.customer)
    _, token = invite(colleague_contact.name)
    colleague = accept(token, PASSWORD, PASSWORD)
    other = Portal()
    csrf = login(ctx, client, portal.user)
    subject = f"Router {tag()} keeps rebooting"
    response = client.post("/portal/cases/new", {
        "csrf_token": csrf, "subject": subject, "description": "Since <b>Monday</b>\nevery hour",
        "files": [SimpleUploadedFile("photo.txt", b"log lines"), SimpleUploadedFile("b.txt", b"more")]})
    assert response.status_code == 302, html(response)[:1000]
    write(ctx)
    name = one(ctx, "SELECT `name` FROM `tabCase` WHERE `subject`=%s", subject)
    case = lowcode.get_doc("Case", name)
    assert (case.channel, case.customer, case.contact, case.raised_by, case.status) == \
        ("Portal", portal.customer, portal.contact, portal.user, "Open")
    assert "&lt;b&gt;" in case.description  # typed text, escaped
    files = ctx.db.sql("SELECT `file_url`, `is_private` FROM `tabFile` WHERE `attached_to_doctype`='Case' "
                       "AND `attached_to_name`=%s", (name,), as_dict=True)
    assert len(files) == 2 and all(f["is_private"] for f in files)
    # The agent answers and waits on the customer; an internal note stays internal.
    agent = make_agent(unique)
    case.assigned_to = agent
    case.save()
    with as_user(agent):
        lowcode.get_doc({"doctype": "Case Reply", "case": name, "content": "Which firmware do you run?"}).insert()
        apply_workflow(lowcode.get_doc("Case", name), "Start")
        apply_workflow(lowcode.get_doc("Case", name), "Wait on Customer")
        lowcode.get_doc({"doctype": "Comment", "comment_type": "Comment", "reference_doctype": "Case",
                         "reference_name": name, "content": "internal: customer is grumpy"}).insert(
            ignore_permissions=True)
    refresh(ctx)
    page = html(client.get(f"/portal/cases/{name}"))
    assert "Which firmware do you run?" in page and "grumpy" not in page and files[0]["file_url"] in page
    reply = client.post(f"/portal/cases/{name}", {"csrf_token": csrf, "content": "Version 2.1"})
    assert reply.status_code == 302
    write(ctx)
    assert ctx.db.get_value("Case", name, "status") == "In Progress"  # through the workflow
    mine = lowcode.get_all("Case Reply", filters={"case": name, "from_customer": 1}, fields=["sent_by"])
    assert [r["sent_by"] for r in mine] == [portal.user]
    # the agent hears of the reply (besides the notice of the case's assignment)
    assert lowcode.get_all("Notification Log", filters={"for_user": agent, "document_name": name,
                                                        "from_user": portal.user}, fields=["from_user"]) == \
        [{"from_user": portal.user}]
    refresh(ctx)
    # Attachments: the customer's contacts and staff download them, nobody else.
    url = files[0]["file_url"]
    assert client.get(url).status_code == 200
    login(ctx, client, colleague)
    assert client.get(url).status_code == 200
    login(ctx, client, agent)
    assert client.get(url).status_code == 200
    desk_reply = client.get(f"/app/case-reply/new?case={name}")  # the Case form's "Reply to the customer"
    assert desk_reply.status_code == 200 and name in html(desk_reply)
    login(ctx, client, other.user)
    assert client.get(url).status_code in (403, 404)


def test_complaint_errors_name_the_field_and_write_nothing(ctx, client):
    portal = Portal()
    stranger = make_customer().name
    csrf = login(ctx, client, portal.user)
    before = ctx.db.sql("SELECT COUNT(*) FROM `tabCase`")[0][0]
    no_subject = client.post("/portal/cases/new", {"csrf_token": csrf, "subject": "", "description": "x"})
    assert no_subject.status_code == 417 and 'is-invalid" id="f-subject"' in html(no_subject)
    bad_file = client.post("/portal/cases/new", {"csrf_token": csrf, "subject": "s", "description": "d",
                                                 "files": [SimpleUploadedFile("run.html", b"<script>")]})
    assert bad_file.status_code == 417
    too_many = client.post("/portal/cases/new", {"csrf_token": csrf, "subject": "s", "description": "d",
                                                 "files": [SimpleUploadedFile(f"{i}.txt", b"x") for i in range(6)]})
    assert too_many.status_code == 417 and "is-invalid" in html(too_many)
    not_mine = client.post("/portal/cases/new", {"csrf_token": csrf, "subject": "s", "description": "d",
                                                 "customer": stranger})
    assert not_mine.status_code == 417
    no_csrf = client.post("/portal/cases/new", {"subject": "s", "description": "d"})
    assert no_csrf.status_code == 400  # CSRFTokenError
    write(ctx)
    assert ctx.db.sql("SELECT COUNT(*) FROM `tabCase`")[0][0] == before


# -- isolation by guessing ------------------------------------------------------------------------------

def test_a_contact_guessing_another_customers_records_gets_nothing(ctx, client):
    mine, theirs = Portal(), Portal()
    my_case = portal_case(mine, f"Mine {tag()}")
    secret = f"Secret {tag()}"
    their_case = portal_case(theirs, secret)
    lowcode.get_doc({"doctype": "Case Reply", "case": their_case.name, "content": "their reply"}).insert()
    their_file = private_file(their_case.name)
    product = make_product()
    their_quote = sent_quotation(theirs.customer, product)
    my_quote = sent_quotation(mine.customer, product, qty=2)
    draft = make_quotation(mine.customer, [{"product": product, "qty": 1, "rate": 10}])
    # In the engine: lists, counts and documents through the permission hooks.
    with as_user(mine.user):
        assert [c["name"] for c in lowcode.get_list("Case", limit_page_length=0)] == [my_case.name]
        assert lowcode.get_count("Case") == 1
        assert lowcode.get_count("Case Reply", filters={"case": their_case.name}) == 0
        assert not lowcode.has_permission("Case", "read", doc=their_case)
        with pytest.raises(lowcode.PermissionError):
            create_case("Posing", channel="Portal", customer=theirs.customer)
    csrf = login(ctx, client, mine.user)
    n = their_case.name
    for path in (f"/portal/cases/{n}", f"/portal/cases/{n}x", f"/portal/quotations/{their_quote.name}",
                 f"/portal/quotations/{their_quote.name}/pdf", f"/portal/quotations/{draft.name}",
                 f"/portal/cases/{n}/../{n}"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/portal/cases/{n}", {"csrf_token": csrf, "content": "sneaky"}).status_code == 404
    assert client.get(their_file.file_url).status_code in (403, 404)
    printed = client.get(f"/printview?doctype=Quotation&name={their_quote.name}")
    assert printed.status_code == 302 and printed["Location"] == "/portal"
    for path in (f"/api/resource/Case/{n}", f"/api/resource/File/{their_file.name}",
                 f"/api/method/frappe.client.get?doctype=Case&name={n}",
                 f"/api/method/frappe.client.get_value?doctype=Case&filters={n}&fieldname=subject",
                 f"/api/method/frappe.client.set_value?doctype=Case&name={n}&fieldname=subject&value=x",
                 f"/api/method/frappe.utils.print_format.download_pdf?doctype=Quotation&name={their_quote.name}",
                 f"/api/method/service_app.portal_users.reject_request?name=x",
                 f"/api/method/frappe.desk.reportview.get?doctype=Case&fields=[\"subject\"]"):
        assert client.get(path).status_code == 403, path
    listing = html(client.get(f"/portal/cases?q={secret}"))
    assert n not in listing and secret not in listing.replace(f'value="{secret}"', "")  # only the search box
    assert 'id="case-total">(0)' in listing
    every = html(client.get("/portal/cases"))
    assert my_case.name in every and n not in every
    home = html(client.get("/portal"))
    assert n not in home and 'data-status="Open">1<' in home
    quotes = html(client.get("/portal/quotations"))
    assert my_quote.name in quotes and their_quote.name not in quotes and draft.name not in quotes
    write(ctx)
    assert not one(ctx, "SELECT `name` FROM `tabCase Reply` WHERE `case`=%s AND `content` LIKE %s", n, "%sneaky%")
    assert ctx.db.get_value("Case", n, "subject") == secret


def test_my_quotation_is_shown_read_only_with_its_pdf(ctx, client):
    portal = Portal()
    product = make_product(rate=250)
    quote = sent_quotation(portal.customer, product, qty=2, rate=250)
    csrf = login(ctx, client, portal.user)
    page = client.get(f"/portal/quotations/{quote.name}")
    assert page.status_code == 200 and product in html(page)
    pdf = client.get(f"/portal/quotations/{quote.name}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert client.post(f"/portal/quotations/{quote.name}", {"csrf_token": csrf}).status_code == 405


def test_portal_pages_speak_persian_right_to_left_with_jalali_dates(ctx, client):
    import jdatetime
    portal = Portal()
    case = portal_case(portal)
    lowcode.set_value("User", portal.user, "calendar", "Jalali")
    login(ctx, client, portal.user)
    page = html(client.get("/portal/cases?lang=fa"))
    assert 'dir="rtl"' in page and "bootstrap.rtl" in page and "پرونده‌های من" in page
    import datetime
    created = datetime.datetime.fromisoformat(str(case.modified))
    jalali_year = str(jdatetime.date.fromgregorian(date=created.date()).year)
    persian = jalali_year.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert jalali_year in page or persian in page  # the user chose the Jalali calendar


def test_guests_are_sent_to_the_login(ctx, client):
    refresh(ctx)
    assert client.get("/portal").status_code == 200
    response = client.get("/portal/cases")
    assert response.status_code == 302 and response["Location"] == "/login?redirect-to=/portal/cases"
