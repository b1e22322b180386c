"""The team inbox (/app/inbox): received e-mails and SMS (Communications with
``sent_or_received`` Received), newest first, and what the team does with one:

- make a Task of it for a colleague (linked to the message and to the record the
  message is about; the message is assigned to the colleague through the engine's
  ``_assign``, so "mine" and "unassigned" are index lookups; the colleague is notified);
- share it with a colleague (the engine's DocShare: readable without the role);
- link it to a Lead, Contact, Customer, Opportunity or Case when nobody matched it;
- close or reopen it; reply to it through the e-mail compose page (/app/email).

Team membership is the read permission on Communication: whoever may read
Communications (a role rule) sees the inbox, and every list goes through ``get_list``
so row rules (private messages) and shares apply in SQL. Each write takes the STORED
message and checks the user's right on it before anything is changed."""
from urllib.parse import quote, urlencode

import nh3
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext as _

import lowcode
from lowcode.assignments import assigned_subquery, read_assign, write_assign
from lowcode.context import local
from lowcode.desk.formatting import parse_date_input
from lowcode.desk.render import prefs, render
from lowcode.desk.views.collaboration import enabled_user, full_names, notify, share
from lowcode.desk.views.common import desk_view
from lowcode.exceptions import DoesNotExistError, PermissionError, ValidationError
from lowcode.meta import doctype_exists, get_meta
from lowcode.permissions import has_permission
from lowcode.utils import route_for

MEDIA = ("Email", "SMS")
STATUSES = ("Open", "Replied", "Closed")
ASSIGNED = ("all", "mine", "unassigned")
#: what an unmatched message may be linked to (Case only where service_app is installed)
LINKABLE = ("Lead", "Contact", "Customer", "Opportunity", "Case")
PAGE_SIZE = 20
LIST_FIELDS = ["name", "subject", "sender", "communication_date", "status", "seen", "communication_medium",
               "reference_doctype", "reference_name", "_assign"]


# -- the stored message and the writes -----------------------------------------------------------

def received_message(name, ptype="read"):
    """The stored received Communication ``name`` if the user may ``ptype`` it:
    404 when there is none, 403 when the user may not."""
    if not name or not lowcode.db.exists("Communication", name):
        raise DoesNotExistError(_("No message %(name)s") % {"name": repr(name)}, doctype="Communication")
    doc = lowcode.get_doc("Communication", name)
    doc.check_permission(ptype)
    if doc.sent_or_received != "Received":
        raise ValidationError(_("Communication: %(name)s is not a received message") % {"name": name},
                              field="communication")
    return doc


def make_task(communication, assigned_to, due_date=None, note=None):
    """A Task for a colleague from a received message: linked to the message
    (``communication``) and to the record it is about (or the message itself when it
    is about none); the message is assigned to them and they are notified. A colleague
    who could not read the message gets it shared, if the user may share it."""
    doc = received_message(communication)
    assignee = enabled_user(assigned_to, "assigned_to")
    if not has_permission("Task", "read", user=assignee):
        raise ValidationError(_("Assigned To: %(user)s may not read Tasks") % {"user": assignee}, field="assigned_to")
    if not has_permission("Communication", "read", doc=doc, user=assignee):
        if not has_permission("Communication", "share", doc=doc):
            raise PermissionError(_("Assigned To: %(user)s cannot read this message, and you may not share it")
                                  % {"user": assignee}, field="assigned_to", doctype="Communication")
        share(doc, assignee)
    task = lowcode.get_doc({
        "doctype": "Task", "subject": (doc.subject or doc.sender or doc.name)[:140], "assigned_to": assignee,
        "due_date": parse_date_input(due_date, prefs()) or None, "description": note or None,
        "reference_doctype": doc.reference_doctype or "Communication",
        "reference_name": doc.reference_name if doc.reference_doctype else doc.name,
        "communication": doc.name,
    }).insert()
    write_assign("Communication", doc.name, read_assign("Communication", doc.name) + [assignee])
    notify(assignee, "Assignment", _("New task from a message: %(subject)s") % {"subject": task.subject}, task)
    return task


def share_message(communication, user):
    """Share the message with a colleague (read); they are notified."""
    return share(received_message(communication), user)


def link_to_record(communication, reference_doctype, reference_name):
    """Link a message to the record it is about; the user must write the message and read the record."""
    doc = received_message(communication, "write")
    if reference_doctype not in LINKABLE or not doctype_exists(reference_doctype):
        raise ValidationError(_("Link to: choose one of %(doctypes)s") % {"doctypes": ", ".join(
            _(d) for d in LINKABLE if doctype_exists(d))}, field="reference_doctype")
    if not reference_name or not lowcode.db.exists(reference_doctype, reference_name):
        raise ValidationError(_("Record: no %(doctype)s %(name)s") % {"doctype": _(reference_doctype),
                                                                    "name": repr(reference_name or "")},
                              field="reference_name")
    if not has_permission(reference_doctype, "read", doc=lowcode.get_doc(reference_doctype, reference_name)):
        raise PermissionError(_("Record: you may not read %(doctype)s %(name)s") % {
            "doctype": _(reference_doctype), "name": reference_name}, field="reference_name",
            doctype=reference_doctype)
    doc.reference_doctype, doc.reference_name = reference_doctype, reference_name
    doc.save()
    return doc


def set_status(communication, status):
    doc = received_message(communication, "write")
    if status not in STATUSES:
        raise ValidationError(_("Status: choose one of %(statuses)s") % {
            "statuses": ", ".join(_(s) for s in STATUSES)}, field="status")
    doc.status = status
    doc.save()
    return doc


def mark_seen(communication, seen=True):
    """Read or unread for the whole team (Frappe's ``seen``). Bookkeeping like
    ``_assign``: whoever may read the message may mark it, and its modified time stays."""
    doc = received_message(communication)
    local.db.sql("UPDATE `tabCommunication` SET `seen`=%s WHERE `name`=%s", (int(bool(seen)), doc.name))


@lowcode.whitelist(methods=["POST"])
def close_message(communication: str):
    set_status(communication, "Closed")


@lowcode.whitelist(methods=["POST"])
def reopen_message(communication: str):
    set_status(communication, "Open")


# -- the list ------------------------------------------------------------------------------------

def _choice(args, key, allowed, default):
    value = args.get(key) or default
    if value not in allowed:
        raise ValidationError(_("%(param)s: choose one of %(values)s") % {"param": key, "values": ", ".join(allowed)},
                              field=key)
    return value


def inbox_filters(args, user=None):
    """get_list filters from the page's query string (each value checked by name)."""
    user = user or local.user
    filters = [["sent_or_received", "=", "Received"], ["communication_medium", "in", list(MEDIA)]]
    status = _choice(args, "status", ("", "all") + STATUSES, "Open")
    if status not in ("", "all"):
        filters.append(["status", "=", status])
    assigned = _choice(args, "assigned", ASSIGNED, "all")
    if assigned == "mine":
        sql, values = assigned_subquery(user, "Communication")
        # A user's own assignments are few: their names from the assignment table's primary key.
        filters.append(["name", "in", local.db.sql(sql, values, pluck=True) or [""]])
    elif assigned == "unassigned":
        filters.append(["_assign", "is", "not set"])
    linked = _choice(args, "linked", ("", "yes", "no"), "")
    if linked:
        filters.append(["reference_name", "is", "set" if linked == "yes" else "not set"])
    read = _choice(args, "read", ("", "unread", "read"), "")
    if read:
        filters.append(["seen", "=", 1 if read == "read" else 0])
    if args.get("account") and get_meta("Communication").has_field("email_account"):
        filters.append(["email_account", "=", args["account"]])
    return filters


def page_number(args):
    from lowcode.params import integer
    return integer(args.get("page") or 1, "page", default=1, minimum=1, maximum=100000)


def inbox_rows(args):
    """(rows, has_more) of one page."""
    number = page_number(args)
    rows = lowcode.get_list("Communication", fields=LIST_FIELDS, filters=inbox_filters(args),
                            order_by="communication_date desc", limit_start=(number - 1) * PAGE_SIZE,
                            limit_page_length=PAGE_SIZE + 1)
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def _accounts():
    if not get_meta("Communication").has_field("email_account") or not has_permission("Email Account"):
        return []
    return lowcode.get_list("Email Account", pluck="name", order_by="name asc", limit_page_length=0)


def _team():
    """Enabled desk users to pick as colleagues (a datalist; the server checks the choice)."""
    if not has_permission("User"):
        return []
    return lowcode.get_list("User", fields=["name", "full_name"], filters=[["enabled", "=", 1],
                            ["user_type", "=", "System User"], ["name", "not in", ["Administrator", "Guest"]]],
                            order_by="full_name asc", limit_page_length=500)


def _require_team():
    if not has_permission("Communication", "read"):
        raise PermissionError(_("The team inbox is for users who may read Communications"),
                              doctype="Communication")


# -- pages ---------------------------------------------------------------------------------------

@desk_view
def page(request, name=None):
    # Errors raised below speak the user's language too (render only translates the page).
    with translation.override(prefs().lang):
        return message_page(request, name) if name else inbox_page(request)


def inbox_page(request):
    _require_team()
    args = request.GET
    rows, has_more = inbox_rows(args)
    number = page_number(args)
    query = {k: args.get(k) for k in ("status", "assigned", "linked", "read", "account") if args.get(k)}
    names = full_names(u for r in rows for u in _assignees(r))
    for r in rows:
        r["assignees"] = [names.get(u, u) for u in _assignees(r)]
    return render("crm_app/inbox.html", rows=rows, page=number, has_more=has_more,
                  prev_url="?" + urlencode(dict(query, page=number - 1)) if number > 1 else None,
                  next_url="?" + urlencode(dict(query, page=number + 1)) if has_more else None,
                  args={"status": args.get("status") or "Open", "assigned": args.get("assigned") or "all",
                        "linked": args.get("linked") or "", "read": args.get("read") or "",
                        "account": args.get("account") or ""},
                  statuses=STATUSES, accounts=_accounts())


def _assignees(row):
    import json
    try:
        return [u for u in json.loads(row.get("_assign") or "[]") if isinstance(u, str)]
    except ValueError:
        return []


ACTIONS = {
    "task": lambda doc, post: make_task(doc.name, post.get("assigned_to"), post.get("due_date"), post.get("note")),
    "share": lambda doc, post: share_message(doc.name, post.get("share_with")),
    "link": lambda doc, post: link_to_record(doc.name, post.get("reference_doctype"), post.get("reference_name")),
    "status": lambda doc, post: set_status(doc.name, post.get("status")),
    "seen": lambda doc, post: mark_seen(doc.name, post.get("seen", "1") == "1"),
}


def message_page(request, name):
    """One message: its text, its tasks, and the forms acting on it (each a POST)."""
    doc = received_message(name)
    error = field = None
    status = 200
    post = {}
    if request.method == "POST":
        post = request.POST
        action = post.get("action")
        if action not in ACTIONS:
            raise ValidationError(_("action: choose one of %(actions)s") % {"actions": ", ".join(ACTIONS)},
                                  field="action")
        try:
            ACTIONS[action](doc, post)
        except ValidationError as e:
            # Shown again with the error; the non-2xx status rolls back anything written.
            error, field, status = e.message, e.field, e.http_status
        else:
            if action == "seen":  # marked read on opening (htmx), or unread: back to the list
                return HttpResponse(status=204) if request.headers.get("HX-Request") else \
                    HttpResponseRedirect("/app/inbox")
            return HttpResponseRedirect(f"/app/inbox/{doc.name}?done={action}")
        doc = lowcode.get_doc("Communication", doc.name)
    tasks = lowcode.get_list("Task", fields=["name", "subject", "assigned_to", "due_date", "status"],
                             filters={"communication": doc.name}, order_by="creation desc",
                             limit_page_length=50) if has_permission("Task") else []
    linkable = [d for d in LINKABLE if doctype_exists(d) and has_permission(d)]
    return render("crm_app/inbox_message.html", status=status, doc=doc, content=nh3.clean(doc.content or ""),
                  tasks=tasks, names=full_names([t["assigned_to"] for t in tasks] + read_assign(
                      "Communication", doc.name)), assignees=read_assign("Communication", doc.name),
                  team=_team(), linkable=linkable, error=error, field=field, done=request.GET.get("done"), post=post,
                  reference_url=f"/app/{route_for(doc.reference_doctype)}/{quote(doc.reference_name, safe='')}"
                  if doc.reference_doctype and doc.reference_name else None,
                  can_write=has_permission("Communication", "write", doc=doc),
                  can_share=has_permission("Communication", "share", doc=doc),
                  can_task=has_permission("Task", "create"), statuses=STATUSES,
                  reply_url=f"/app/email?{urlencode({'doctype': 'Communication', 'name': doc.name})}"
                  if doc.communication_medium == "Email" and has_permission("Communication", "email", doc=doc)
                  else None)


# -- timelines -----------------------------------------------------------------------------------

def timeline(doctype, name):
    """``additional_timeline_content``: the tasks made from messages, on the message's
    form and on the form of the record the message is about."""
    if not doctype_exists("Task") or not has_permission("Task"):
        return []
    if doctype == "Communication":
        filters = {"communication": name}
    else:
        filters = [["reference_doctype", "=", doctype], ["reference_name", "=", name], ["communication", "is", "set"]]
    rows = lowcode.get_list("Task", fields=["name", "owner", "creation", "subject", "assigned_to", "status"],
                            filters=filters, order_by="creation desc", limit_page_length=200)
    return [{"when": r["creation"], "who": r["owner"], "kind": "Task",
             "content": " · ".join(x for x in (r["subject"], r["assigned_to"], _(r["status"] or "")) if x),
             "url": f"/app/task/{r['name']}"} for r in rows]
