"""/portal: the customer's self-service pages (outside the desk, see lowcode/web/pages.py).

Who: a portal user (service_app/portal_users.py) sees the records of the customers their
contact is linked to. Cases and replies are read through the engine's permission hooks
(service_app/permissions.py: the Customer role's row rule), so a guessed name is simply
not found; quotations, which the Customer role has no DocPerm for, are read here with an
explicit filter on those customers. Anything not theirs answers 404, never 403, so
the answer does not even tell whether the name exists.

Pages: home (counts, recent cases, pending surveys, links), my cases (search, status),
a case (its public timeline: the description and the Case Replies; internal Comments
are never shown) with a reply form, a new complaint with attachments, my quotations
(read-only, PDF), plus the invitation and sign-up pages reached without a login."""
from urllib.parse import quote

from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.utils.translation import gettext, gettext_lazy as _  # _: lazy labels, found by the extractor

import lowcode
from lowcode import auth
from lowcode.api.files import check_upload, safe_name, save_file
from lowcode.context import local
from lowcode.exceptions import DoesNotExistError, LowcodeError, TooManyRequestsError, ValidationError
from lowcode.web.pages import render_web, visitor_language

from service_app.cases import create_case
from service_app.surveys import pending_for_customer
from service_app.permissions import is_portal_customer, portal_customers
from service_app.portal_users import accept, invitation_for, request_signup
from service_app.webform import HONEYPOT, PERSON_FIELDS, STAMP, as_html, clean, spam_guard, stamp


STATUSES = ("Open", "In Progress", "Waiting on Customer", "Resolved", "Closed")
PAGE = 20
MAX_FILES = 5
CASE_FIELDS = ["name", "subject", "status", "creation", "modified"]


def page(request, path):
    parts = [p for p in path.split("/") if p]
    head = parts[0] if parts else ""
    if head == "invite" and len(parts) == 2:
        return invite_view(request, parts[1])
    if head == "signup" and len(parts) == 1:
        return signup_view(request)
    if local.user == "Guest":
        if not parts:
            return render_web(request, "service_app/portal_welcome.html")
        return HttpResponseRedirect("/login?redirect-to=" + quote(request.path))
    customers = portal_customers(local.user) if is_portal_customer(local.user) else []
    if not customers:
        # A staff user, or a login no contact names (any more): nothing here is theirs.
        return render_web(request, "service_app/portal_none.html", status=200 if not parts else 404)
    read_only = not parts or head == "quotations" or (head == "cases" and len(parts) == 1)
    if read_only and request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if not parts:
        return home(request, customers)
    if head == "cases" and len(parts) == 1:
        return cases_view(request)
    if head == "cases" and parts[1:] == ["new"]:
        return new_case_view(request, customers)
    if head == "cases" and len(parts) == 2:
        return case_view(request, parts[1])
    if head == "quotations" and len(parts) == 1:
        return quotations_view(request, customers)
    if head == "quotations" and len(parts) in (2, 3) and parts[2:] in ([], ["pdf"]):
        return quotation_view(request, customers, parts[1], pdf=len(parts) == 3)
    raise Http404(path)


def _render(request, template, status=200, **context):
    context.setdefault("section", None)  # which of the portal's links is highlighted
    return render_web(request, template, status=status, **context)


def _get_or_post_only(request):
    if request.method not in ("GET", "HEAD", "POST"):
        raise Http404()


# -- home and cases --------------------------------------------------------------------------

def home(request, customers):
    counts = {r["status"]: r["count"] for r in lowcode.get_list(
        "Case", fields=["status", "count(*) as count"], group_by="status", order_by=None, limit_page_length=0)}
    recent = lowcode.get_list("Case", fields=CASE_FIELDS, order_by="modified desc", limit_page_length=5)
    surveys = [s for customer in customers for s in pending_for_customer(customer)]
    quotations = len(_quotations(customers))
    return _render(request, "service_app/portal_home.html", section="home", counts=counts, statuses=STATUSES,
                   recent=recent, surveys=surveys, quotations=quotations)


def cases_view(request):
    status = request.GET.get("status") or ""
    q = (request.GET.get("q") or "").strip()[:140]
    try:
        start = max(0, int(request.GET.get("start") or 0))
    except ValueError:
        raise ValidationError(gettext("start must be a whole number"), field="start")
    filters = []
    if status:
        if status not in STATUSES:
            raise ValidationError(gettext("Unknown status"), field="status")
        filters.append(["status", "=", status])
    if q:
        filters.append(["subject", "like", f"%{q}%"])
    rows = lowcode.get_list("Case", fields=CASE_FIELDS, filters=filters, order_by="modified desc",
                            limit_start=start, limit_page_length=PAGE + 1)
    total = lowcode.get_count("Case", filters=filters)
    return _render(request, "service_app/portal_cases.html", section="cases", cases=rows[:PAGE], total=total,
                   more=len(rows) > PAGE, start=start, page=PAGE, status_filter=status, q=q, statuses=STATUSES)


def _case_or_404(name):
    """The case if the user may read it; else 404, whether it exists or not."""
    if not name or len(name) > 140 or not local.db.exists("Case", name):
        raise Http404(name)
    case = lowcode.get_doc("Case", name)
    if not lowcode.has_permission("Case", "read", doc=case):
        raise Http404(name)
    return case


def _uploads(request):
    files = [f for f in request.FILES.getlist("files") if f.name]
    if len(files) > MAX_FILES:
        raise ValidationError(gettext("Attach at most %(n)s files") % {"n": MAX_FILES}, field="files")
    for f in files:
        check_upload(safe_name(f.name), f.size)  # before reading any of them
    return files


def _attach(files, case_name):
    for f in files:
        save_file(f.name, f.read(), private=True, attached_to_doctype="Case", attached_to_name=case_name)


def _my_contact(customer):
    rows = local.db.sql("SELECT c.`name` FROM `tabContact` c JOIN `tabDynamic Link` l ON l.`parent`=c.`name` "
                        "AND l.`parenttype`='Contact' AND l.`link_doctype`='Customer' AND l.`link_name`=%s "
                        "WHERE c.`user`=%s ORDER BY c.`creation` LIMIT 1", (customer, local.user), pluck=True)
    return rows[0] if rows else None


def new_case_view(request, customers):
    _get_or_post_only(request)
    values, error, field = {"customer": customers[0]}, None, None
    if request.method == "POST":
        values = {k: (request.POST.get(k) or "").strip() for k in ("subject", "description", "customer")}
        try:
            customer = values["customer"] or customers[0]
            if customer not in customers:
                raise ValidationError(gettext("Choose one of your customers"), field="customer")
            if not values["subject"]:
                raise ValidationError(gettext("Subject is required"), field="subject")
            if len(values["subject"]) > 140:
                raise ValidationError(gettext("The subject is too long (at most 140 characters)"), field="subject")
            if not values["description"]:
                raise ValidationError(gettext("Describe the problem"), field="description")
            files = _uploads(request)
            case = create_case(values["subject"], channel="Portal", description=as_html(values["description"]),
                               customer=customer, contact=_my_contact(customer), raised_by=local.user)
            _attach(files, case.name)
            return HttpResponseRedirect(f"/portal/cases/{quote(case.name)}?created=1")
        except LowcodeError as e:
            error, field = e.message, getattr(e, "field", None)
            status = e.http_status
        return _render(request, "service_app/portal_new_case.html", section="new", values=values,
                       customers=_customer_names(customers), error=error, error_field=field, status=status,
                       max_files=MAX_FILES)
    return _render(request, "service_app/portal_new_case.html", section="new", values=values,
                   customers=_customer_names(customers), max_files=MAX_FILES)


def _customer_names(customers):
    rows = local.db.sql(f"SELECT `name`, `customer_name` FROM `tabCustomer` WHERE `name` IN "
                        f"({', '.join(['%s'] * len(customers))})", customers)
    return sorted(rows, key=lambda r: r[1] or r[0])


def case_view(request, name):
    _get_or_post_only(request)
    case = _case_or_404(name)
    error, field, status = None, None, 200
    if request.method == "POST":
        try:
            if case.status == "Closed":
                raise ValidationError(gettext("This case is closed: register a new complaint instead"),
                                      field="content")
            content = (request.POST.get("content") or "").strip()
            if not content:
                raise ValidationError(gettext("Write your reply"), field="content")
            files = _uploads(request)
            lowcode.get_doc({"doctype": "Case Reply", "case": case.name, "content": as_html(content)}).insert()
            _attach(files, case.name)
            return HttpResponseRedirect(f"/portal/cases/{quote(case.name)}#replies")
        except LowcodeError as e:
            error, field, status = e.message, getattr(e, "field", None), e.http_status
    replies = lowcode.get_list("Case Reply", fields=["name", "content", "from_customer", "sent_by", "creation"],
                               filters={"case": case.name}, order_by="creation asc", limit_page_length=0)
    senders = dict(local.db.sql(
        f"SELECT `name`, `full_name` FROM `tabUser` WHERE `name` IN ({', '.join(['%s'] * len(replies))})",
        [r["sent_by"] for r in replies])) if replies else {}
    attachments = local.db.sql("SELECT `file_name`, `file_url`, `file_size` FROM `tabFile` "
                               "WHERE `attached_to_doctype`='Case' AND `attached_to_name`=%s ORDER BY `creation`",
                               (case.name,), as_dict=True)
    return _render(request, "service_app/portal_case.html", section="cases", case=case, replies=replies,
                   senders=senders, attachments=attachments, error=error, error_field=field, status=status,
                   created=request.GET.get("created") == "1", max_files=MAX_FILES)


# -- quotations ---------------------------------------------------------------------------------

def _quotations(customers, name=None):
    """Quotations sent to the customers (never drafts), newest first."""
    marks = ", ".join(["%s"] * len(customers))
    sql = ("SELECT `name`, `transaction_date`, `valid_till`, `status`, `grand_total`, `currency` FROM `tabQuotation` "
           f"WHERE `quotation_to`='Customer' AND `party_name` IN ({marks}) AND `status`<>'Draft' AND `docstatus`<2")
    values = list(customers)
    if name is not None:
        sql += " AND `name`=%s"
        values.append(name)
    return local.db.sql(sql + " ORDER BY `transaction_date` DESC, `name` DESC", values, as_dict=True)


def quotations_view(request, customers):
    return _render(request, "service_app/portal_quotations.html", section="quotations",
                   quotations=_quotations(customers))


def quotation_view(request, customers, name, pdf=False):
    if not name or len(name) > 140 or not _quotations(customers, name):
        raise Http404(name)
    doc = lowcode.get_doc("Quotation", name)
    if pdf:
        from lowcode import printing
        from lowcode.desk.views.printview import print_page, resolve_format
        lang = visitor_language(request)
        html = print_page(doc, resolve_format("Quotation", None), lang, lang in ("fa", "he"), pdf=True)
        response = HttpResponse(printing.html_to_pdf(html.content.decode("utf-8")), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{quote(doc.name)}.pdf"'
        return response
    return _render(request, "service_app/portal_quotation.html", section="quotations", doc=doc)


# -- without a login: accepting an invitation, asking to sign up -----------------------------------

def invite_view(request, token):
    _get_or_post_only(request)
    try:
        invitation = invitation_for(token)
    except DoesNotExistError as e:
        return _render(request, "service_app/portal_message.html", status=404, message=e.message)
    error, field, status = None, None, 200
    if request.method == "POST":
        try:
            user = accept(token, request.POST.get("password") or "", request.POST.get("confirm") or "",
                          language=visitor_language(request))
            session = auth.start_session(user, ip=request.META.get("REMOTE_ADDR"), desk=True)
            response = HttpResponseRedirect("/portal")
            response.set_cookie("sid", session.sid, max_age=auth.SESSION_DAYS * 86400, httponly=True,
                                samesite="Lax", secure=request.is_secure())
            return response
        except LowcodeError as e:
            error, field, status = e.message, getattr(e, "field", None), e.http_status
    return _render(request, "service_app/portal_invite_accept.html", status=status, email=invitation.email,
                   error=error, error_field=field)


SIGNUP_FIELDS = PERSON_FIELDS + [("message", _("Anything we should know?"), False, 2000, "textarea")]


def signup_view(request):
    _get_or_post_only(request)
    values, error, field, status, done = {}, None, None, 200, False
    if request.method == "POST":
        values = {f[0]: request.POST.get(f[0]) or "" for f in SIGNUP_FIELDS}
        try:
            if not spam_guard(request, "signup"):
                request_signup(**clean(SIGNUP_FIELDS, request.POST))
            done = True
        except (ValidationError, TooManyRequestsError) as e:
            error, field, status = e.message, getattr(e, "field", None), e.http_status
    return _render(request, "service_app/portal_signup.html", status=status, values=values, error=error,
                   error_field=field, done=done, fields=SIGNUP_FIELDS, stamp=stamp(), honeypot=HONEYPOT,
                   stamp_field=STAMP)
