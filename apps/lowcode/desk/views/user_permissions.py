"""/app/user-permissions?user=<user>: one user's User Permissions (restrictions to
given documents, e.g. only Territory "North") in one place: list, add, remove.
Records are written and deleted through Document, so they apply at once and the
generic /app/user-permission list shows the same records."""
from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _

from ... import query
from ...document import delete_doc, get_doc
from ...exceptions import DoesNotExistError, DuplicateEntryError, LowcodeError, ValidationError
from ..render import render
from .customize import admin_view, undo

FIELDS = ["name", "allow", "for_value", "apply_to_all_doctypes", "applicable_for", "is_default"]


def restrictable_doctypes():
    return query.get_list("DocType", filters={"istable": 0, "issingle": 0}, pluck="name", order_by="name asc",
                          limit_page_length=0)


def add_user_permission(user, post):
    values = {"allow": (post.get("allow") or "").strip(), "for_value": (post.get("for_value") or "").strip(),
              "apply_to_all_doctypes": 1 if post.get("apply_to_all_doctypes") else 0,
              "applicable_for": (post.get("applicable_for") or "").strip() or None,
              "is_default": 1 if post.get("is_default") else 0}
    if values["apply_to_all_doctypes"]:
        values["applicable_for"] = None
    elif not values["applicable_for"]:
        raise ValidationError(_("Applicable For: choose the DocType the restriction applies to, "
                                "or tick Apply To All Doctypes"), field="applicable_for")
    same = {"user": user, "allow": values["allow"], "for_value": values["for_value"],
            "applicable_for": values["applicable_for"] or ["is", "not set"]}
    if values["allow"] and query.get_count("User Permission", filters=same):
        raise DuplicateEntryError(_("%(user)s already has this restriction") % {"user": user}, field="for_value")
    return get_doc(dict(values, doctype="User Permission", user=user)).insert()


def remove_user_permission(user, name):
    found = query.get_list("User Permission", filters={"name": name, "user": user}, pluck="name")
    if not found:
        raise DoesNotExistError(_("%(user)s has no such restriction") % {"user": user})
    delete_doc("User Permission", name)


@admin_view
def user_permissions(request):
    user = (request.GET.get("user") or request.POST.get("user") or "").strip()
    ctx = dict(user_name=user, doctypes=restrictable_doctypes(), rows=[], error=None, form={},
               saved=request.GET.get("saved"))
    if not user:
        return render("user_permissions.html", **ctx)
    if not query.get_count("User", filters={"name": user}):
        ctx["error"] = _("User %(user)s not found") % {"user": user}
        return render("user_permissions.html", status=404, **ctx)
    status = 200
    ctx["found"] = True
    if request.method == "POST":
        action = request.POST.get("_action")
        try:
            if action == "remove":
                remove_user_permission(user, request.POST.get("name") or "")
            else:
                add_user_permission(user, request.POST)
            return HttpResponseRedirect("/app/user-permissions?" + urlencode({"user": user, "saved": action or "add"}))
        except LowcodeError as e:
            undo()
            ctx.update(error=e.message, form=request.POST)
            status = e.http_status
    ctx["rows"] = query.get_list("User Permission", fields=FIELDS, filters={"user": user},
                                 order_by="allow asc", limit_page_length=0)
    return render("user_permissions.html", status=status, **ctx)
