"""/app/<doctype-route>/<name> and /new: one document's form.

The form posts plain fields (``fieldname``) and child rows (``table-<i>-fieldname``);
values pass through the user's calendar and digits (formatting.parse_input), then
through Document.save like any API write, so validation, permissions, hooks,
workflows and versions all apply. ``depends_on`` and its siblings are evaluated on
the server for the browser too (``__depends``), so both sides agree."""
import json

from django.http import HttpResponseRedirect, JsonResponse

from ... import document as documents, params
from ...context import local
from ...exceptions import LowcodeError, PermissionError
from ...expressions import evaluate
from ...fields import registry
from ...meta import get_meta
from ...permissions import get_permlevels, get_roles, has_permission
from ...utils import route_for
from ...versions import get_versions
from ...workflow import apply_workflow, get_transitions, get_workflow
from ..badges import link_targets, marked, own_badge
from ..link_titles import is_user_field, link_titles, user_names
from ..record_nav import neighbours
from ..formatting import parse_input
from ..layout import form_layout
from ..render import prefs, render
from .common import app_page, desk_view, doctype_for_route, open_doc


def field_states(doc, meta):
    """{fieldname: {"hidden", "reqd", "read_only"}} from the *_depends_on expressions."""
    states = {}
    for df in meta.fields:
        if not (df.depends_on or df.mandatory_depends_on or df.read_only_depends_on):
            continue
        try:
            states[df.fieldname] = {
                "hidden": bool(df.depends_on) and not evaluate(df.depends_on, doc),
                "reqd": bool(df.reqd) or (bool(df.mandatory_depends_on) and evaluate(df.mandatory_depends_on, doc)),
                "read_only": bool(df.read_only) or (bool(df.read_only_depends_on)
                                                     and evaluate(df.read_only_depends_on, doc)),
            }
        except LowcodeError:
            states[df.fieldname] = {"hidden": False, "reqd": bool(df.reqd), "read_only": bool(df.read_only)}
    return states


def _editable_levels(doc, doctype):
    if doc.is_new():
        return get_permlevels(doctype, "write") | ({0} if has_permission(doctype, "create") else set())
    return get_permlevels(doctype, "write", doc=doc) if has_permission(doctype, "write", doc=doc) else set()


def apply_form(doc, meta, post, writable_levels):
    """Copy posted values onto the document, field by field, only where the user may
    write; child tables are replaced by the posted rows."""
    p = prefs()
    for df in meta.data_fields:
        ftype = registry[df.fieldtype]
        if int(df.permlevel or 0) not in writable_levels or df.read_only or ftype.read_only:
            continue
        if df.fieldname in post:
            doc.set(df.fieldname, parse_input(post.get(df.fieldname), df, p) or None)
        elif ftype.absent_input is not None:  # an unchecked checkbox
            doc.set(df.fieldname, ftype.absent_input)
    for tf in meta.table_fields:
        if int(tf.permlevel or 0) not in writable_levels or f"{tf.fieldname}-rows" not in post:
            continue
        child = get_meta(tf.options)
        rows = []
        for i in sorted({int(k.split("-")[1]) for k in post if k.startswith(tf.fieldname + "-")
                         and k.split("-")[1].isdecimal()}):
            prefix = f"{tf.fieldname}-{i}-"
            if post.get(prefix + "__delete"):
                continue
            row = {"name": post.get(prefix + "name") or None}
            for cdf in child.data_fields:
                if prefix + cdf.fieldname in post:
                    row[cdf.fieldname] = parse_input(post.get(prefix + cdf.fieldname), cdf, p) or None
                elif registry[cdf.fieldtype].absent_input is not None:  # an unchecked checkbox
                    row[cdf.fieldname] = registry[cdf.fieldtype].absent_input
            if any(v not in (None, "", 0) for k, v in row.items() if k != "name"):
                rows.append(row)
        doc.set(tf.fieldname, rows)


def _readable(meta, data):
    """A version's changes as the timeline says them: each [label, old, new, is_select,
    fieldname], so the template shows the field's label and a Select's values in the user's
    words (and _name_users finds the user fields)."""
    changed = []
    for field, old, new in data.get("changed") or []:
        df = meta.get_field(field)
        changed.append([(df.label if df is not None else None) or field, old, new,
                        df is not None and registry[df.fieldtype].option_list, field])
    return dict(data, changed=changed)


def timeline(doc):
    if doc.is_new():
        return []
    items = [{"when": v["creation"], "who": v["owner"], "kind": "version", "data": _readable(doc.meta, v["data"])}
             for v in get_versions(doc.doctype, doc.name)]
    for c in local.db.sql("SELECT `comment_type`, `content`, `owner`, `creation` FROM `tabComment` "
                          "WHERE `reference_doctype`=%s AND `reference_name`=%s", (doc.doctype, doc.name),
                          as_dict=True):
        items.append({"when": c["creation"], "who": c["owner"], "kind": c["comment_type"], "content": c["content"]})
    items.append({"when": doc.creation, "who": doc.owner, "kind": "created"})
    # Frappe's hook: apps add what happened around a document ({doctype or "*": [fn(doctype, name)]}),
    # items {"when", "who", "kind", "content", "url"}, read with the user's permissions.
    from ...apps import get_attr, get_hooks
    hooks = get_hooks("additional_timeline_content", {})
    seen = set()  # a record two apps both show (e.g. a Communication) appears once
    for path in list(hooks.get("*", [])) + list(hooks.get(doc.doctype, [])):
        for item in get_attr(path)(doc.doctype, doc.name):
            if item.get("url") and item["url"] in seen:
                continue
            seen.add(item.get("url"))
            items.append(item)
    _name_users(doc, items)
    return sorted(items, key=lambda i: str(i["when"]), reverse=True)


def _name_users(doc, items):
    """The timeline's users by name: who did it, and the old and new values of user fields
    ("changed Lead Owner from Babak to Dana"); one lookup for all of them."""
    fields = {df.fieldname for df in get_meta(doc.doctype).fields if is_user_field(df)}
    changes = [c for i in items if i["kind"] == "version" for c in (i["data"] or {}).get("changed") or []
               if c and c[-1] in fields]
    names = user_names([i.get("who") for i in items] + [v for c in changes for v in c[1:3] if isinstance(v, str)])
    for c in changes:
        c[1:3] = [names.get(v, v) if isinstance(v, str) else v for v in c[1:3]]


def form_actions(doc):
    """Buttons apps declare in hooks.py (``form_actions = {doctype: [action, ...]}``)
    whose safe condition holds now. An action either opens a ``route`` or calls a
    whitelisted ``method`` with the document's name as ``argument``. An optional
    ``roles`` list shows it only to users with one of those roles (Administrator
    always); that only spares others a button that would fail: the method still
    checks permission itself."""
    from urllib.parse import quote
    from ...apps import get_attr, get_hooks
    if doc.is_new():
        return []
    user_roles = get_roles()
    out = []
    hooks = get_hooks("form_actions", {})
    for i, action in enumerate(hooks.get(doc.doctype, []) + hooks.get("*", [])):
        if action.get("roles") and not user_roles & (set(action["roles"]) | {"Administrator"}):
            continue
        if action.get("condition"):
            try:
                if not evaluate("eval:" + action["condition"], doc):
                    continue
            except LowcodeError:
                continue
        if action.get("when") and not get_attr(action["when"])(doc):
            continue
        route = action.get("route", "")
        url = route.format(name=quote(doc.name, safe=""), doctype=quote(doc.doctype)) if "{doctype}" in route \
            else route.format(name=doc.name)
        out.append(dict(action, index=i, url=url or None))
    return out


def run_form_action(doc, index):
    """Run action ``index`` of the document's form actions; returns where to go next."""
    from ...api.method import resolve
    actions = {a["index"]: a for a in form_actions(doc)}
    action = actions.get(index)
    if action is None or not action.get("method"):
        raise PermissionError("This action is not available for the document now")
    fn = resolve(action["method"])  # whitelisted functions of installed apps only
    result = fn(**{action.get("argument", "name"): doc.name})
    if action.get("redirect") and isinstance(result, dict):
        return action["redirect"].format(**result)
    if isinstance(result, dict) and action.get("download"):
        return result
    return None


def form_scripts(doctype):
    """Scripts apps add to a DocType's form (hooks: ``doctype_js = {doctype: "app/file.js"}``,
    as Frappe's ``doctype_js``; the files are the app's public assets, see desk/assets.py)."""
    from ...apps import get_hooks
    return list(get_hooks("doctype_js", {}).get(doctype, []))


def form_notices(doc):
    """What apps tell the user about the save that just happened (hook ``form_notices =
    {doctype or "*": ["dotted.path"]}``, each ``fn(doc)`` returning texts), e.g. crm_app's
    "Assigned to ... by rule ...". They read stored data: after a save the redirect carries
    only ``?notice=1``, never the text."""
    from django.utils import translation
    from ...apps import get_attr, get_hooks
    hooks = get_hooks("form_notices", {})
    with translation.override(prefs().lang):  # in the user's language, for the form and the toast alike
        return [text for path in list(hooks.get("*", [])) + list(hooks.get(doc.doctype, []))
                for text in get_attr(path)(doc)]


def has_activity_panel(doc):
    """Whether the saved record's DocType has the activity panel apps declare in hooks.py
    (``activity_panel = {doctype: [kind, ...]}``, served by crm_app/activity_panel.py)."""
    from ...apps import get_hooks
    return not doc.is_new() and bool(get_hooks("activity_panel", {}).get(doc.doctype))


def _form_link_targets(doc, meta):
    """The records the form's Link fields name, its child rows' too (an event's participants
    show the contact's name beside the id)."""
    targets = link_targets(meta, [doc.as_dict()])
    for tf in meta.table_fields:
        targets += link_targets(get_meta(tf.options), [row.as_dict() if hasattr(row, "as_dict") else row
                                                            for row in doc.get(tf.fieldname) or []])
    return targets


def _render_form(doc, meta, route, error=None, error_field=None, status=200, nav=None, notices=()):
    doctype = meta.name
    readable = get_permlevels(doctype, "read", doc=None if doc.is_new() else doc) | {0}
    return render("form.html", status=status, doc=doc, meta=meta, route=route, tabs=form_layout(meta),
                  readable_levels=readable, writable_levels=_editable_levels(doc, doctype),
                  states=field_states(doc, meta), error=error, error_field=error_field,
                  transitions=[] if doc.is_new() else get_transitions(doc),
                  workflow=get_workflow(doctype), timeline=timeline(doc), get_meta=get_meta,
                  actions=form_actions(doc), scripts=form_scripts(doctype), activity_panel=has_activity_panel(doc), own_badge=None if doc.is_new() else own_badge(doc),
                  link_badges={} if doc.is_new() else marked(link_targets(meta, [doc.as_dict()])),
                  link_titles=link_titles(_form_link_targets(doc, meta)), nav=nav, notices=notices,
                  can_delete=not doc.is_new() and has_permission(doctype, "delete", doc=doc),
                  can_submit=meta.is_submittable and not doc.is_new() and int(doc.docstatus or 0) == 0
                  and has_permission(doctype, "submit", doc=doc),
                  can_cancel=meta.is_submittable and int(doc.docstatus or 0) == 1
                  and has_permission(doctype, "cancel", doc=doc))


@desk_view
def form_view(request, route, name):
    page = app_page(route)
    if page is not None:
        return page(request, name)
    doctype = doctype_for_route(route)
    if doctype == "Report" and name and request.method == "GET" and not request.GET.get("edit"):
        from .query_report import RUNNABLE, page_url
        if local.db.get_value("Report", name, "report_type") in RUNNABLE:
            # a Script or Query Report opens on its page, which decides who may run it
            # (views/query_report.py); its record is one "?edit=1" away, for who may read it
            return HttpResponseRedirect(page_url(name))
    meta = get_meta(doctype)
    doc = open_doc(doctype, name)
    if name is None:
        for key, value in request.GET.items():  # /new?customer=X prefills links
            if meta.has_field(key):
                doc.set(key, value)
    if request.method == "GET":
        if doctype == "Report" and name and doc.report_type == "Report Builder" and not request.GET.get("edit"):
            # A saved report opens as the report; its document is one "Edit" away.
            from .report import saved_report_url
            return HttpResponseRedirect(saved_report_url(doc.name, doc.ref_doctype))
        notices = form_notices(doc) if request.GET.get("notice") and not doc.is_new() else ()
        return _render_form(doc, meta, route, nav=neighbours(request, meta, doc), notices=notices)
    action = request.POST.get("_action", "save")
    inserted = doc.is_new()
    try:
        if action == "delete":
            documents.delete_doc(doctype, doc.name)
            return _redirect(request, f"/app/{route}", toast="deleted")
        if action.startswith("app:"):
            target = run_form_action(doc, params.integer(action[4:], "_action"))
            if isinstance(target, dict):
                response = JsonResponse(target, json_dumps_params={"ensure_ascii": False, "default": str})
                response["Content-Disposition"] = f'attachment; filename="{doctype}-{doc.name}.json"'
                return response
            return _redirect(request, target or f"/app/{route_for(doctype)}/{doc.name}")
        if action.startswith("workflow:"):
            doc.modified = request.POST.get("modified") or doc.modified
            apply_workflow(doc, action[len("workflow:"):])
        else:
            if not doc.is_new():
                doc.modified = request.POST.get("modified") or doc.modified
            apply_form(doc, meta, request.POST, _editable_levels(doc, doctype))
            if doc.is_new():
                if request.POST.get("__newname"):
                    doc.set("__newname", request.POST["__newname"])
                doc.insert()
            elif action == "submit":
                doc.submit()
            elif action == "cancel":
                doc.cancel()
            else:
                doc.save()
    except LowcodeError as e:
        local.db.rollback()
        local.db.begin()
        return _render_form(doc, meta, route, error=e.message, error_field=e.field, status=e.http_status)
    return _redirect(request, f"/app/{route_for(doctype)}/{doc.name}"
                     + ("?notice=1" if inserted and form_notices(doc) else ""), toast="saved")


def _redirect(request, url, toast=None):
    if request.headers.get("HX-Request"):
        response = JsonResponse({})
        response["HX-Redirect"] = url
    else:
        response = HttpResponseRedirect(url)
    if toast:
        # The next page's desk.js shows this toast ("saved": the words are in base.html) once.
        response.set_cookie("desk_toast", toast, max_age=30, samesite="Lax")
    return response


@desk_view
def depends(request, route, name):
    """The current form values -> which fields are hidden, mandatory or read-only now."""
    doctype = doctype_for_route(route)
    meta = get_meta(doctype)
    doc = documents.new_doc(doctype) if name == "new" else documents.get_doc(doctype, name)
    doc.check_permission("read" if name != "new" else "create")
    apply_form(doc, meta, request.POST, {int(df.permlevel or 0) for df in meta.fields})
    return JsonResponse(field_states(doc, meta), json_dumps_params={"ensure_ascii": False})


def as_json(value):
    return json.dumps(value, ensure_ascii=False, default=str)
