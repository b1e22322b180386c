"""The form's collaboration features and the notifications they leave.

- Comments (Comment of type Comment, content sanitised by nh3) on any document the
  user may read; ``@email`` or ``@Full Name`` mentions notify those users.
- Assignments: a ToDo per assignee, the user added to the document's ``_assign``,
  a notification and an "Assigned" entry in the timeline.
- Sharing one document with one user (core DocShare), for users with the ``share``
  permission on it.
- Notifications (Notification Log, each owned by its recipient) in the navbar.

The form page includes form_sidebar.html, which loads the panel from
/app/<route>/<name>/__collab; its forms post to .../__collab/<action>. Every write is
a Document insert or save; a failed action rolls back whole."""
import html as html_lib
import re
from urllib.parse import quote

import nh3
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.utils.translation import gettext as _

from ... import document as documents, query
from ...assignments import read_assign, remove_assignment, write_assign
from ...context import local
from ...exceptions import DoesNotExistError, LowcodeError, PermissionError, ValidationError
from ...permissions import has_permission
from ...utils import route_for
from ...workflow import add_comment as add_timeline_entry
from ..formatting import parse_date_input
from ..link_titles import user_name, user_names
from ..render import prefs, render
from .common import desk_view, doctype_for_route

PRIORITIES = ("Low", "Medium", "High")
_EMAIL_MENTION = re.compile(r"(?<![\w.])@([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_NAME_MENTION = re.compile(r"(?<![\w.@])@(\w+)")
_TAG = re.compile(r"<[^>]*>")


# -- users and notifications -------------------------------------------------------------------

def full_names(users):
    """{user: full name} (see link_titles.user_names, the desk's one way to name users)."""
    return user_names(list(dict.fromkeys(users)))


def full_name(user):
    return user_name(user)


def enabled_user(user, field):
    """The user's name if it is an enabled user, else a ValidationError naming the field."""
    user = (user or "").strip()
    if user.lower() != "administrator":
        user = user.lower()
    row = query.get_value("User", user, ["name", "enabled"], as_dict=True, ignore_permissions=True) if user else None
    if not row or not int(row["enabled"] or 0) or row["name"] == "Guest":
        raise ValidationError(_("%(field)s: no enabled user %(user)s") % {"field": _(field.replace("_", " ").title()),
                                                                        "user": repr(user)}, field=field)
    return row["name"]


def notify(for_user, kind, subject, doc=None, content=None, to_self=False):
    """A Notification Log for ``for_user`` (none for the user themself, unless ``to_self``:
    an alert the user set up about their own change is still theirs to see)."""
    if not for_user or (for_user == local.user and not to_self):
        return None
    return documents.get_doc({
        "doctype": "Notification Log", "for_user": for_user, "from_user": local.user, "type": kind,
        "subject": subject, "document_type": doc.doctype if doc is not None else None,
        "document_name": doc.name if doc is not None else None, "email_content": content,
    }).insert(ignore_permissions=True)


def notification_text(row, names):
    who = names.get(row.get("from_user")) or row.get("from_user") or ""
    what = f"{_(row['document_type'])} {row['document_name']}" if row.get("document_type") else ""
    kind = row.get("type")
    if kind == "Mention":
        return _("%(user)s mentioned you in %(document)s") % {"user": who, "document": what}
    if kind == "Assignment":
        return _("%(user)s assigned %(document)s to you") % {"user": who, "document": what}
    if kind == "Share":
        return _("%(user)s shared %(document)s with you") % {"user": who, "document": what}
    return row.get("subject") or ""


# -- comments and mentions ---------------------------------------------------------------------

def plain_text(content):
    """The text of (sanitised) HTML; tags become spaces, so "</p><p>" separates words."""
    return html_lib.unescape(_TAG.sub(" ", nh3.clean(content or "")))


def mentioned_users(text):
    """Enabled users named in the text as ``@email`` or ``@Full Name`` (the longest
    full name that follows the @ wins)."""
    found = []
    emails = [e.lower() for e in _EMAIL_MENTION.findall(text)]
    if emails:
        found += query.get_list("User", filters=[["name", "in", emails], ["enabled", "=", 1]], pluck="name",
                                limit_page_length=0)
    for m in _NAME_MENTION.finditer(text):
        if _EMAIL_MENTION.match(text, m.start()):
            continue
        after = text[m.start() + 1:]
        first = m.group(1).replace("%", "").replace("_", "")
        if not first:
            continue
        best = None
        for row in query.get_list("User", fields=["name", "full_name"], limit_page_length=50,
                                  filters=[["full_name", "like", first + "%"], ["enabled", "=", 1]]):
            name = (row["full_name"] or "").strip()
            ends = len(after) == len(name) or (len(after) > len(name) and not after[len(name)].isalnum())
            if name and after.lower().startswith(name.lower()) and ends and (best is None or len(name) > len(best[1])):
                best = (row["name"], name)
        if best:
            found.append(best[0])
    return list(dict.fromkeys(found))


def add_comment(doc, content):
    """Comment on a document the user may read. Returns (comment, notified users,
    mentioned users who cannot read the document and so were not notified)."""
    doc.check_permission("read")
    content = nh3.clean(content or "").strip()
    if not plain_text(content).strip():
        raise ValidationError(_("Comment: write something first"), field="content")
    comment = documents.get_doc({
        "doctype": "Comment", "comment_type": "Comment", "reference_doctype": doc.doctype,
        "reference_name": doc.name, "content": content, "comment_email": local.user,
        "comment_by": full_name(local.user)}).insert()
    notified, skipped = [], []
    for user in mentioned_users(plain_text(content)):
        if user == local.user:
            continue
        # A notification quotes the comment: only people who may read the document get one.
        if not has_permission(doc.doctype, "read", doc=doc, user=user):
            skipped.append(user)
            continue
        notify(user, "Mention", f"{full_name(local.user)} mentioned you in {doc.doctype} {doc.name}", doc,
               content=content)
        notified.append(user)
    return comment, notified, skipped


# -- assignments ---------------------------------------------------------------------------------

def open_todos(doc, user=None):
    # Read after the document's own read check: whoever may read a document may see
    # who it is assigned to.
    filters = {"reference_type": doc.doctype, "reference_name": doc.name, "status": "Open"}
    if user:
        filters["allocated_to"] = user
    return query.get_all("ToDo", filters=filters, order_by="creation asc",
                         fields=["name", "allocated_to", "date", "priority", "description", "assigned_by"])


def assign(doc, users, date=None, description=None, priority="Medium"):
    """Assign a document to users: a ToDo each, ``_assign``, a notification and a
    timeline entry. An assignee who could not read the document gets it shared
    (read) when the assigner may share it; otherwise nothing is assigned. Assigning
    needs write, as the bulk action does: row rules (the CRM's) let assignees write,
    so a reader assigning themselves would otherwise grant themselves write."""
    doc.check_permission("write")
    if priority not in PRIORITIES:
        raise ValidationError(_("Priority: choose Low, Medium or High"), field="priority")
    users = [enabled_user(u, "assign_to") for u in users if (u or "").strip()]
    if not users:
        raise ValidationError(_("Assign to: choose a user"), field="assign_to")
    me = full_name(local.user)
    done = []
    for user in dict.fromkeys(users):
        if user in read_assign(doc.doctype, doc.name):
            continue
        documents.get_doc({
            "doctype": "ToDo", "allocated_to": user, "reference_type": doc.doctype, "reference_name": doc.name,
            "description": description or f"{doc.doctype} {doc.get_title()}", "date": date or None,
            "priority": priority, "status": "Open", "assigned_by": local.user}).insert()
        write_assign(doc.doctype, doc.name, read_assign(doc.doctype, doc.name) + [user])
        fresh = documents.get_doc(doc.doctype, doc.name)  # with the new _assign, for permission hooks
        if not has_permission(doc.doctype, "read", doc=fresh, user=user):
            if not has_permission(doc.doctype, "share", doc=doc):
                raise PermissionError(_("%(user)s cannot see this document, and you may not share it")
                                      % {"user": user}, doctype=doc.doctype)
            _share_row(doc, user, read=1)
        add_timeline_entry(doc.doctype, doc.name, "Assigned", f"assigned to {full_name(user)}"
                           + (f": {description}" if description else ""))
        notify(user, "Assignment", f"{me} assigned {doc.doctype} {doc.name} to you", doc, content=description)
        done.append(user)
    return done


def unassign(doc, user):
    """Take a user off a document: their open ToDos are cancelled (the ToDo removes
    them from ``_assign`` and notes it in the timeline)."""
    doc.check_permission("read")
    todos = open_todos(doc, user)
    # Not "whoever assigned it": anyone who may read a document can make a ToDo for
    # a colleague on it, and would then take the colleague off every assignment.
    allowed = local.user in (user, "Administrator") or has_permission(doc.doctype, "write", doc=doc)
    if not allowed:
        raise PermissionError(_("Only the assignee or someone who may edit the document may remove an assignment"),
                              doctype=doc.doctype)
    for t in todos:
        todo = documents.get_doc("ToDo", t["name"])
        todo.status = "Cancelled"
        todo.save(ignore_permissions=True)  # allowed above; the ToDo may belong to someone else
    remove_assignment(doc.doctype, doc.name, user)


# -- sharing ---------------------------------------------------------------------------------------

def _share_row(doc, user, read=1, write=0, share=0):
    rows = query.get_all("DocShare", filters={"share_doctype": doc.doctype, "share_name": doc.name, "user": user},
                         pluck="name")
    values = {"read": int(bool(read)), "write": int(bool(write)), "share": int(bool(share))}
    if rows:
        row = documents.get_doc("DocShare", rows[0])
        row.update(values)
        return row.save(ignore_permissions=True)
    # DocShare's own rules admit only System Managers; the share permission on the
    # document, checked by the caller, is what allows this.
    return documents.get_doc(dict(values, doctype="DocShare", share_doctype=doc.doctype, share_name=doc.name,
                                  user=user)).insert(ignore_permissions=True)


def share(doc, user, write=0, share_too=0):
    """Share one document with one user (read, optionally write and share)."""
    if not has_permission(doc.doctype, "share", doc=doc):
        raise PermissionError(_("Not permitted: share %(doctype)s %(name)s") % {"doctype": doc.doctype,
                                                                                "name": doc.name}, doctype=doc.doctype)
    user = enabled_user(user, "share_with")
    if user == local.user:
        raise ValidationError(_("Share with: choose someone other than yourself"), field="share_with")
    if write and not has_permission(doc.doctype, "write", doc=doc):
        raise PermissionError(_("You cannot give write access that you do not have"), doctype=doc.doctype)
    _share_row(doc, user, read=1, write=write, share=share_too)
    rights = ", ".join(r for r, on in (("read", 1), ("write", write), ("share", share_too)) if on)
    add_timeline_entry(doc.doctype, doc.name, "Shared", f"shared with {full_name(user)} ({rights})")
    notify(user, "Share", f"{full_name(local.user)} shared {doc.doctype} {doc.name} with you", doc)
    return user


def unshare(doc, user):
    if not has_permission(doc.doctype, "share", doc=doc):
        raise PermissionError(_("Not permitted: share %(doctype)s %(name)s") % {"doctype": doc.doctype,
                                                                                "name": doc.name}, doctype=doc.doctype)
    rows = query.get_all("DocShare", filters={"share_doctype": doc.doctype, "share_name": doc.name, "user": user},
                         pluck="name")
    if not rows:
        raise DoesNotExistError(_("%(user)s has no share of this document") % {"user": user}, doctype="DocShare")
    for name in rows:
        documents.delete_doc("DocShare", name, ignore_permissions=True)
    add_timeline_entry(doc.doctype, doc.name, "Unshared", f"stopped sharing with {full_name(user)}")


# -- the panel on the form -------------------------------------------------------------------------

def _readable_doc(route, name):
    doc = documents.get_doc(doctype_for_route(route), name)
    doc.check_permission("read")
    return doc


def _panel(doc, route, status=200, error=None, error_field=None, notice=None, post=None):
    todos = {t["allocated_to"]: t for t in open_todos(doc)}
    assigned = list(dict.fromkeys(read_assign(doc.doctype, doc.name) + list(todos)))
    shares = query.get_all("DocShare", filters={"share_doctype": doc.doctype, "share_name": doc.name},
                           fields=["user", "read", "write", "share", "everyone"], order_by="creation asc")
    names = full_names(assigned + [s["user"] for s in shares])
    return render("form_sidebar.html", status=status, collab_panel=True, doc=doc, route=route,
                  base=f"/app/{route}/{quote(doc.name)}/__collab", assigned=assigned, todos=todos, shares=shares,
                  names=names, can_share=has_permission(doc.doctype, "share", doc=doc),
                  can_print=has_permission(doc.doctype, "print", doc=doc),
                  can_write=has_permission(doc.doctype, "write", doc=doc), error=error, error_field=error_field,
                  notice=notice, post=post or {}, priorities=PRIORITIES)


@desk_view
def panel(request, route, name):
    return _panel(_readable_doc(route, name), route)


def _do_comment(doc, post):
    _c, _notified, skipped = add_comment(doc, post.get("content"))
    if skipped:
        return _("Comment added. Not notified, as they cannot see this document: %(users)s") % {
            "users": ", ".join(skipped)}
    return None


def _do_assign(doc, post):
    date = None
    if post.get("date"):
        try:
            date = parse_date_input(post.get("date"), prefs())
        except ValueError:
            raise ValidationError(_("Due date: %(value)s is not a date") % {"value": post.get("date")}, field="date")
    assign(doc, (post.get("assign_to") or "").split(","), date=date,
           description=(post.get("description") or "").strip() or None, priority=post.get("priority") or "Medium")


def _do_unassign(doc, post):
    unassign(doc, post.get("user"))


def _do_share(doc, post):
    share(doc, post.get("share_with"), write=post.get("write") in ("1", "on"),
          share_too=post.get("share") in ("1", "on"))


def _do_unshare(doc, post):
    unshare(doc, post.get("user"))


ACTIONS = {"comment": _do_comment, "assign": _do_assign, "unassign": _do_unassign, "share": _do_share,
           "unshare": _do_unshare}


@desk_view
def act(request, route, name, action):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404()
    doc = _readable_doc(route, name)
    try:
        notice = handler(doc, request.POST)
    except LowcodeError as e:
        local.db.rollback()
        local.db.begin()
        return _panel(doc, route, status=e.http_status, error=e.message, error_field=e.field, post=request.POST)
    if notice:
        return _panel(doc, route, notice=notice)
    back = f"/app/{route}/{quote(doc.name)}"
    if request.headers.get("HX-Request"):
        response = HttpResponse("")
        response["HX-Refresh"] = "true"  # the timeline on the page shows the change
        return response
    return HttpResponseRedirect(back)


# -- notifications in the navbar -------------------------------------------------------------------

@desk_view
def notifications(request):
    rows = query.get_list("Notification Log", filters={"for_user": local.user}, order_by="creation desc",
                          fields=["name", "subject", "type", "read", "from_user", "document_type", "document_name",
                                  "creation"], limit_page_length=10)
    unread = query.get_count("Notification Log", filters={"for_user": local.user, "read": 0})
    names = full_names(r["from_user"] for r in rows)
    for r in rows:
        r["text"] = notification_text(r, names)
    return render("notifications.html", notification_panel=True, notifications=rows, unread=unread)


def _mark_read(name):
    doc = documents.get_doc("Notification Log", name)
    doc.check_permission("write")
    if not int(doc.read or 0):
        doc.read = 1
        doc.save()
    return doc


@desk_view
def open_notification(request, name):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    doc = _mark_read(name)
    if doc.document_type and doc.document_name:
        return HttpResponseRedirect(f"/app/{route_for(doc.document_type)}/{quote(doc.document_name)}")
    return HttpResponseRedirect(f"/app/notification-log/{quote(doc.name)}")


@desk_view
def mark_all_read(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    for name in query.get_list("Notification Log", filters={"for_user": local.user, "read": 0}, pluck="name",
                               limit_page_length=0):
        _mark_read(name)
    if request.headers.get("HX-Request"):
        return notifications(request)
    target = request.POST.get("next") or "/app"
    return HttpResponseRedirect(target if target.startswith("/") and not target.startswith("//") else "/app")
