"""/app/permission-manager?doctype=<DocType>: the Role Permission Manager. Shows the
rules in force (the app's DocPerms, or the Custom DocPerms that replace them) and
saves the edited grid as Custom DocPerm rows; "Reset" goes back to the app's rules.
A change applies to every user on their next request (the metadata version moves)."""
from urllib.parse import urlencode

from django.http import HttpResponseRedirect

from ... import customize
from ...exceptions import BadRequest, LowcodeError
from ...query import get_all
from ..render import render
from .customize import admin_view, undo


def read_rules(post):
    """The posted grid: a hidden ``rule`` input per row holding its key, then
    ``r-<key>-role``, ``r-<key>-permlevel`` and one checkbox per action."""
    rules = []
    for key in post.getlist("rule"):
        if not key.isdigit():
            raise BadRequest(f"bad rule key {key!r}")
        p = f"r-{key}-"
        if post.get(p + "__delete"):
            continue
        rule = {"key": key, "role": (post.get(p + "role") or "").strip(),
                "permlevel": (post.get(p + "permlevel") or "0").strip(),
                "if_owner": 1 if post.get(p + "if_owner") else 0}
        for action in customize.PERM_ACTIONS:
            rule[action] = 1 if post.get(p + action) else 0
        rules.append(rule)
    return rules


def grid_context(rules, is_submittable):
    """What the rule grid template needs (shared with the DocType builder)."""
    actions = [a for a in customize.PERM_ACTIONS if is_submittable or a not in customize.SUBMIT_ACTIONS]
    blank = {"key": "__key__", "role": "", "permlevel": 0, "if_owner": 0, **{a: 0 for a in customize.PERM_ACTIONS}}
    for i, rule in enumerate(rules, start=1):
        rule.setdefault("key", str(i))
    return {"rules": rules, "actions": actions, "blank_rule": blank,
            "roles": get_all("Role", pluck="name", order_by="name asc")}


def permission_doctypes():
    return [n for n in get_all("DocType", filters={"istable": 0}, pluck="name", order_by="name asc")
            if n not in customize.BOOTSTRAP_DOCTYPES]


@admin_view
def permission_manager(request):
    doctype = (request.GET.get("doctype") or request.POST.get("doctype") or "").strip()
    ctx = dict(doctype=doctype, doctypes=permission_doctypes(), saved=request.GET.get("saved"),
               error=None, show=False, **grid_context([], False))
    if not doctype:
        return render("permission_manager.html", **ctx)
    try:
        meta = customize.check_permission_doctype(doctype)
    except LowcodeError as e:
        return render("permission_manager.html", status=e.http_status, **dict(ctx, error=e.message))
    ctx.update(show=True, meta=meta, levels=sorted({int(df.permlevel or 0) for df in meta.fields} - {0}))
    if request.method == "POST":
        rules = read_rules(request.POST)
        try:
            if request.POST.get("_action") == "reset":
                customize.reset_permission_rules(doctype)
            else:
                customize.set_permission_rules(doctype, rules)
        except LowcodeError as e:
            undo()
            return render("permission_manager.html", status=e.http_status,
                          **dict(ctx, error=e.message, custom=customize.has_custom_permissions(doctype),
                                 **grid_context(rules, meta.is_submittable)))
        saved = "reset" if request.POST.get("_action") == "reset" else "1"
        return HttpResponseRedirect("/app/permission-manager?" + urlencode({"doctype": doctype, "saved": saved}))
    return render("permission_manager.html", custom=customize.has_custom_permissions(doctype),
                  **dict(ctx, **grid_context(customize.get_permission_rules(doctype), meta.is_submittable)))
