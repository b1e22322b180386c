"""Announcements (the organisation's information centre): news, events, new products and
procedures on the desk's home page for the roles they target, with read receipts.

- Targeting: an Announcement's ``roles`` (Has Role rows, Frappe's pattern for Page and
  Report); none means everyone. Who may read one is a row rule (``conditions`` in SQL for
  lists, counts and REST; ``permission`` per document): a targeted role, its author, or a
  see-all role (crm_app/permissions.py).
- Home: ``home_panel`` (the engine's ``home_panels`` hook) lists the published ones of
  today targeted at the user's roles, newest first, unread ones marked.
- Receipts: opening one on the home page POSTs to /app/announcement-read/<name>, which
  records an Announcement Read (one per announcement and user: its name is the pair); a
  GET of the same page lists who read it (and who not yet) to its author and CRM Admins,
  and the announcement's form shows "Read by N of M targeted users" on its timeline.
"""
import datetime

import nh3
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext as _
from markupsafe import Markup

import lowcode
from lowcode.context import local
from lowcode.desk.render import prefs, render
from lowcode.desk.views.common import desk_view, open_doc
from lowcode.exceptions import PermissionError
from lowcode.utils import now_datetime

from crm_app.permissions import SEE_ALL_ROLES

TIMELINE_READERS = 50  # the latest readers on the form's timeline; the receipts page lists them all
TARGETS = "SELECT 1 FROM `tabHas Role` r WHERE r.`parenttype`='Announcement' AND r.`parent`=`tabAnnouncement`.`name`"


# -- who may read an announcement --------------------------------------------------------------------

def conditions(user, doctype):
    """Rows of Announcement the user may read: untargeted, targeted at one of their roles,
    or their own."""
    roles = sorted(lowcode.get_roles(user))
    if set(roles) & SEE_ALL_ROLES:
        return None
    marks = ", ".join(["%s"] * len(roles))
    return (f"(`tabAnnouncement`.`owner`=%s OR NOT EXISTS ({TARGETS}) "
            f"OR EXISTS ({TARGETS} AND r.`role` IN ({marks})))", [user, *roles])


def permission(doc, ptype=None, user=None):
    """One announcement (the stored one when it is written): the same rule as ``conditions``."""
    user = user or local.user
    roles = lowcode.get_roles(user)
    if doc.is_new() or roles & SEE_ALL_ROLES or doc.owner == user:
        return None
    targets = {row.role for row in doc.get("roles") or []}
    return None if not targets or targets & roles else False


def may_see_receipts(doc, user=None):
    user = user or local.user
    return doc.owner == user or bool(lowcode.get_roles(user) & SEE_ALL_ROLES)


# -- the home page -----------------------------------------------------------------------------------

def current(user=None, limit=20):
    """Published announcements of today targeted at the user's roles (or at everyone),
    newest first, each with ``read`` (whether the user has opened it). The row rule is
    applied by get_list; targeting is checked again so the see-all roles' home shows
    only what is meant for them."""
    user = user or local.user
    today = datetime.date.today()
    rows = lowcode.get_list("Announcement", fields=["name", "title", "category", "publish_from", "publish_until",
                                                    "content", "creation"],
                            filters=[["is_published", "=", 1]], order_by="creation desc", limit_page_length=200,
                            user=user)
    rows = [r for r in rows if _str_date(r["publish_from"]) <= today.isoformat()
            and (not r["publish_until"] or _str_date(r["publish_until"]) >= today.isoformat())]
    if not rows:
        return []
    names = [r["name"] for r in rows]
    marks = ", ".join(["%s"] * len(names))
    targets = {}
    for parent, role in local.db.sql(f"SELECT `parent`, `role` FROM `tabHas Role` WHERE `parenttype`='Announcement' "
                                     f"AND `parent` IN ({marks})", names):
        targets.setdefault(parent, set()).add(role)
    read = set(local.db.sql(f"SELECT `announcement` FROM `tabAnnouncement Read` WHERE `user`=%s "
                            f"AND `announcement` IN ({marks})", [user, *names], pluck=True))
    roles = lowcode.get_roles(user)
    out = []
    for r in rows:
        if r["name"] in targets and not targets[r["name"]] & roles:
            continue
        out.append(dict(r, content=Markup(nh3.clean(r["content"] or "")), read=r["name"] in read))
    out.sort(key=lambda r: (_str_date(r["publish_from"]), str(r["creation"])), reverse=True)
    return out[:limit]


def _str_date(value):
    return str(value or "")[:10]


def home_panel(request):
    """The engine's ``home_panels`` hook: the announcements block on /app (none: no block)."""
    if request.GET.get("q"):
        return None
    items = current()
    return {"template": "crm_app/home_announcements.html", "announcements": items} if items else None


# -- read receipts -----------------------------------------------------------------------------------

def mark_read(name, user=None):
    """Record that ``user`` opened the announcement (once; the name is the pair)."""
    user = user or local.user
    if local.db.sql("SELECT 1 FROM `tabAnnouncement Read` WHERE `announcement`=%s AND `user`=%s", (name, user)):
        return False
    lowcode.get_doc({"doctype": "Announcement Read", "announcement": name, "user": user,
                     "read_on": now_datetime()}).insert(ignore_permissions=True)
    return True


def targeted_users(name):
    """Enabled desk users the announcement is meant for: with one of its roles (any when none)."""
    roles = local.db.sql("SELECT `role` FROM `tabHas Role` WHERE `parenttype`='Announcement' AND `parent`=%s",
                         (name,), pluck=True)
    sql = "SELECT `name` FROM `tabUser` WHERE `enabled`=1 AND `user_type`='System User' AND `name` NOT IN ('Guest')"
    values = []
    if roles:
        sql += (" AND `name` IN (SELECT `parent` FROM `tabHas Role` WHERE `parenttype`='User' AND `role` IN "
                f"({', '.join(['%s'] * len(roles))}))")
        values = roles
    return set(local.db.sql(sql, values, pluck=True))


def receipts(name):
    """(readers [{user, full_name, read_on}] oldest first, the users it is meant for: the
    targeted ones and whoever read it while targeted)."""
    readers = local.db.sql("SELECT r.`user`, u.`full_name`, r.`read_on` FROM `tabAnnouncement Read` r "
                           "LEFT JOIN `tabUser` u ON u.`name`=r.`user` WHERE r.`announcement`=%s "
                           "ORDER BY r.`read_on`, r.`user`", (name,), as_dict=True)
    return readers, targeted_users(name) | {r["user"] for r in readers}


@desk_view
def read_page(request, name):
    """POST: the user opened the announcement (htmx: the "read" mark; else back home).
    GET: who read it, for its author and the see-all roles."""
    if not name:
        raise Http404()
    doc = open_doc("Announcement", name)  # only an announcement the user may read
    if request.method == "POST":
        mark_read(doc.name)
        if request.headers.get("HX-Request"):
            return render("crm_app/announcement_read_mark.html")
        return HttpResponseRedirect("/app")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    if not may_see_receipts(doc):
        raise PermissionError(_("Only the author of an announcement sees who read it"), doctype="Announcement")
    readers, meant_for = receipts(doc.name)
    unread = sorted(meant_for - {r["user"] for r in readers})
    return render("crm_app/announcement_receipts.html", doc=doc, readers=readers, total=len(meant_for),
                  unread=unread)


def timeline(doctype, name):
    """The announcement's form: "Read by N of M targeted users", linking to the list."""
    doc = lowcode.get_doc("Announcement", name)
    if not may_see_receipts(doc):
        return []
    readers, meant_for = receipts(name)
    with translation.override(prefs().lang):  # the form is rendered in the user's language; items come before
        content = _("Read by %(n)s of %(m)s targeted users") % {"n": len(readers), "m": len(meant_for)}
    summary = {"when": now_datetime(), "who": "", "kind": "Read receipts", "content": content,
               "url": f"/app/announcement-read/{name}"}
    return [summary] + [{"when": r["read_on"], "who": r["full_name"] or r["user"], "kind": "Read", "content": ""}
                        for r in readers[-TIMELINE_READERS:]]
