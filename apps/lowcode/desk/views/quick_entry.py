"""Quick entry (Frappe's): a new record from a small dialog instead of the full form.

A DocType with ``quick_entry`` opens, from its list's "New" and from the "+ Create a new
<DocType>" entry of Link fields, a dialog with its mandatory fields and those marked
``allow_in_quick_entry`` (the fields the user may write). As in Frappe, a DocType with a
mandatory Table field, or without any field to ask, opens the full form instead.

GET /app/<route>/__quick[?field=value&__text=typed] is the dialog (an HTML fragment the
desk's quick_entry.js shows); POST inserts through Document.insert (create permission,
validation, hooks), answering JSON {name, title, url, notices} or, on an error, the dialog
again with the field marked and nothing written (the request rolls back)."""
from urllib.parse import quote

from django.http import HttpResponseRedirect, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

from ... import document as documents
from ...context import local
from ...exceptions import LowcodeError
from ...fields import registry, types_where
from ...meta import get_meta
from ...permissions import has_permission
from ...utils import route_for
from ..formatting import parse_input
from ..render import prefs, render
from .common import desk_view, doctype_for_route, open_doc
from .form import _editable_levels, form_notices



def asks_name(meta):
    return meta.autoname == "prompt" or meta.naming_rule == "Set by user"


def quick_fields(meta, doc=None):
    """The dialog's fields, in form order: mandatory or ``allow_in_quick_entry``, not
    read-only, at a level the user may write on a new record."""
    levels = _editable_levels(doc or documents.new_doc(meta.name), meta.name)
    no_value = types_where("layout") | types_where("table") | types_where("read_only")
    return [df for df in meta.fields
            # fields that hold no value of their own (layout, tables) and read-only ones are never asked
            if (df.reqd or df.get("allow_in_quick_entry")) and df.fieldtype not in no_value
            and not df.read_only and int(df.permlevel or 0) in levels
            and not (df.hidden and not df.reqd)]


def is_quick_entry(meta):
    """Frappe's rule: the flag, no mandatory child table, and something to ask."""
    if not int(meta.definition.get("quick_entry") or 0) or meta.istable or meta.issingle:
        return False
    if any(df.reqd for df in meta.table_fields):
        return False
    return bool(quick_fields(meta) or asks_name(meta))


def create_link(doctype):
    """How a Link field to ``doctype`` offers "+ Create a new <DocType>": None when the
    user may not create one, else the dialog's URL (``quick``) or the full form's."""
    if local.user == "Guest" or not has_permission(doctype, "create"):
        return None
    meta = get_meta(doctype)
    route = route_for(doctype)
    quick = is_quick_entry(meta)
    return {"url": f"/app/{route}/__quick" if quick else f"/app/{route}/new", "quick": quick}


def _text_field(meta, fields):
    """Where the text typed in a Link field goes: the title field if asked, else the first
    mandatory Data field."""
    names = {df.fieldname: df for df in fields}
    title = meta.get_title_field()
    if title in names and names[title].fieldtype in ("Data", "Small Text"):
        return title
    return next((df.fieldname for df in fields if df.fieldtype == "Data" and df.reqd), None)


def _dialog(doc, meta, route, fields, error=None, error_field=None, status=200):
    shown = {df.fieldname for df in fields} | ({"__newname"} if asks_name(meta) else set())
    return render("quick_entry.html", status=status, doc=doc, meta=meta, route=route, fields=fields,
                  ask_name=asks_name(meta), error=error,
                  error_field=error_field if error_field in shown else None)


@desk_view
def quick_entry(request, route):
    doctype = doctype_for_route(route)
    meta = get_meta(doctype)
    doc = open_doc(doctype, None)  # a 403 unless the user may create one
    if not is_quick_entry(meta):
        return HttpResponseRedirect(f"/app/{route}/new")
    fields = quick_fields(meta, doc)
    if request.method == "GET":
        for key, value in request.GET.items():  # ?customer=X prefills, as /new does
            if key in {df.fieldname for df in fields}:
                doc.set(key, value)
        target = _text_field(meta, fields)
        if request.GET.get("__text") and target and not doc.get(target):
            doc.set(target, request.GET["__text"])
        return _dialog(doc, meta, route, fields)
    p = prefs()
    for df in fields:
        if df.fieldname in request.POST:
            # what does not parse is kept as typed: the field's own check refuses it by name
            doc.set(df.fieldname, parse_input(request.POST.get(df.fieldname), df, p) or None)
        elif registry[df.fieldtype].absent_input is not None:  # an unchecked checkbox
            doc.set(df.fieldname, registry[df.fieldtype].absent_input)
    if asks_name(meta) and request.POST.get("__newname"):
        doc.set("__newname", request.POST["__newname"])
    try:
        doc.insert()
    except LowcodeError as e:
        local.db.rollback()
        local.db.begin()
        return _dialog(doc, meta, route, fields, error=e.message, error_field=e.field, status=e.http_status)
    with translation.override(prefs().lang):
        message = _("%(doctype)s saved:") % {"doctype": _(doctype)}
    return JsonResponse({"name": doc.name, "title": str(doc.get_title() or doc.name), "message": message,
                         "url": f"/app/{route_for(doctype)}/{quote(doc.name, safe='')}",
                         "notices": form_notices(doc)}, json_dumps_params={"ensure_ascii": False})
