"""/app/customize-form?doctype=<DocType>: a System Manager adds custom fields, changes
field properties and reorders fields; every change is stored as Custom Field and
Property Setter records by lowcode.customize, which checks the whole batch first.

Also here: what every admin page shares (the System Manager check with its 403
page, and reading the field editor's rows from a form post), the confirm step that
removes a custom field, and the fixture export."""
import functools
import json

from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from urllib.parse import urlencode

from ... import customize
from ...context import local
from ...exceptions import BadRequest, LowcodeError, PermissionError
from ...fields import registry, types_where
from ...meta import clear_cache, get_meta
from ...query import get_all
from ...utils import route_for, scrub
from ..layout import starts_of
from ..render import render
from .common import desk_view

#: the editor's checkboxes, in the order they are shown
CHECK_PROPERTIES = [p for p, kind in customize.FIELD_PROPERTIES.items() if kind == "Check"]


def admin_view(fn):
    """Login required, and only System Managers (and Administrator) get past; anyone
    else sees a 403 page."""
    @desk_view
    @functools.wraps(fn)
    def wrapper(request, *args, **kwargs):
        try:
            customize.require_system_manager()
        except PermissionError:
            return forbidden(_("Only a System Manager can use this page."))
        return fn(request, *args, **kwargs)
    return wrapper


def forbidden(message):
    return render("customize_form.html", status=403, page="forbidden", message=message)


def undo():
    """After a refused write: drop the transaction and the metadata this process may
    have cached while the refused changes were in it."""
    local.db.rollback()
    local.db.begin()
    clear_cache()


# -- the field editor's rows ------------------------------------------------------------------

def fieldtypes():
    return sorted(registry)


def editor_rows(fields):
    """Editor rows for a DocType's current fields."""
    rows = []
    for i, df in enumerate(fields, start=1):
        row = {"key": str(i), "fieldname": df["fieldname"], "fieldtype": df["fieldtype"], "is_new": 0,
               "is_custom": int(df.get("is_custom_field") or 0)}
        for prop in customize.FIELD_PROPERTIES:
            value = df.get(prop)
            row[prop] = "" if value is None else value
        rows.append(row)
    return rows


def read_field_rows(post):
    """The posted rows in page order: each row has a hidden ``row`` input holding its
    key, and its inputs are named ``f-<key>-<property>``. Page order is field order,
    so dragging a row is all it takes to move a field."""
    rows = []
    for key in post.getlist("row"):
        if not key.isdigit():
            raise BadRequest(f"bad row key {key!r}")
        p = f"f-{key}-"
        row = {"key": key, "fieldname": (post.get(p + "fieldname") or "").strip(),
               "is_new": 1 if post.get(p + "is_new") else 0}
        if post.get(p + "fieldtype"):
            row["fieldtype"] = post[p + "fieldtype"]
        for prop, kind in customize.FIELD_PROPERTIES.items():
            if kind == "Check":
                row[prop] = 1 if post.get(p + prop) else 0
            elif p + prop in post:
                row[prop] = post[p + prop]
        if post.get(p + "__delete"):
            row["__delete"] = 1
        rows.append(row)
    return rows


def redisplay_rows(rows, fields):
    """Posted rows shown again after a refusal, with what the post does not carry
    (``fields``: {fieldname: definition} of the fields that exist)."""
    for row in rows:
        df = fields.get(row["fieldname"]) if not row["is_new"] else None
        if df is not None:
            row.setdefault("fieldtype", df["fieldtype"])
            row["is_custom"] = int(df.get("is_custom_field") or 0)
        row.setdefault("fieldtype", "Data")
        for prop in customize.FIELD_PROPERTIES:
            row.setdefault(prop, "")
    return rows


def layout_rows(rows):
    """The editor's rows as the form lays them out (desk/layout.py reads the same breaks):
    [{row: the Tab Break row or None, sections: [{row, columns: [{row, fields: [rows]}]}]}].
    A tab's first section and a section's first column have no break (row None)."""
    tabs = []

    def tab(row):
        tabs.append({"row": row, "sections": []})
        section(None)

    def section(row):
        tabs[-1]["sections"].append({"row": row, "columns": []})
        column(None)

    def column(row):
        tabs[-1]["sections"][-1]["columns"].append({"row": row, "fields": []})

    tab(None)
    starts = {"tab": tab, "section": section, "column": column}
    for row in rows:
        if starts_of(row.get("fieldtype")) in starts:
            starts[starts_of(row.get("fieldtype"))](row)
        else:
            tabs[-1]["sections"][-1]["columns"][-1]["fields"].append(row)
    return tabs


def editor_context(**extra):
    blank = {"key": "__key__", "fieldname": "", "fieldtype": "Data", "is_new": 1, "is_custom": 1}
    blank.update({p: "" for p in customize.FIELD_PROPERTIES})
    return dict(fieldtypes=fieldtypes(), check_properties=CHECK_PROPERTIES, blank_row=blank, layout_rows=layout_rows,
                layout_types=types_where("layout"), table_types=types_where("table"), **extra)


# -- pages --------------------------------------------------------------------------------

def customisable_doctypes():
    names = get_all("DocType", pluck="name", order_by="name asc")
    return [n for n in names if n not in customize.NOT_CUSTOMISABLE]


@admin_view
def customize_form(request):
    doctype = (request.GET.get("doctype") or request.POST.get("doctype") or "").strip()
    ctx = editor_context(page="editor", mode="customize", doctype=doctype, doctypes=customisable_doctypes(),
                         saved=request.GET.get("saved") == "1", removed=request.GET.get("removed"),
                         backup=request.GET.get("backup"), error=None, rows=[], show_editor=False)
    if not doctype:
        return render("customize_form.html", **ctx)
    try:
        meta = customize.check_customisable(doctype)
    except LowcodeError as e:
        return render("customize_form.html", status=e.http_status, **dict(ctx, error=e.message))
    ctx.update(meta=meta, route=route_for(doctype), show_editor=True)
    if request.method != "POST":
        return render("customize_form.html", **dict(ctx, rows=editor_rows(meta.fields)))
    rows = read_field_rows(request.POST)
    try:
        customize.apply_field_changes(doctype, rows)
    except LowcodeError as e:
        undo()
        meta = get_meta(doctype)
        return render("customize_form.html", status=e.http_status,
                      **dict(ctx, meta=meta, rows=redisplay_rows(rows, {f.fieldname: f for f in meta.fields}),
                             error=e.message,
                             error_field=e.field))
    return HttpResponseRedirect("/app/customize-form?" + urlencode({"doctype": doctype, "saved": 1}))


@admin_view
def remove_field(request):
    """GET asks for confirmation (showing how many values the backup will hold);
    POST with confirm=1 removes the custom field."""
    doctype = (request.GET.get("doctype") or request.POST.get("doctype") or "").strip()
    fieldname = (request.GET.get("fieldname") or request.POST.get("fieldname") or "").strip()
    back = "/app/customize-form?" + urlencode({"doctype": doctype})
    ctx = dict(page="remove", doctype=doctype, fieldname=fieldname, back=back, error=None)
    try:
        meta = customize.check_customisable(doctype)
        customize.custom_field_name(doctype, fieldname)
        df = meta.get_field(fieldname)
        ctx.update(label=df.label or fieldname, values=_count_values(meta, fieldname),
                   references=customize.field_references(meta, fieldname))
        if request.method == "POST":
            path = customize.remove_custom_field(doctype, fieldname, confirm=request.POST.get("confirm") == "1")
            return HttpResponseRedirect(back + "&" + urlencode({"removed": fieldname, "backup": _short(path)}))
    except LowcodeError as e:
        undo()
        return render("customize_form.html", status=e.http_status, **dict(ctx, error=e.message))
    return render("customize_form.html", **ctx)


def _count_values(meta, fieldname):
    if meta.issingle or fieldname not in {df.fieldname for df in meta.data_fields}:
        return 0
    return len(get_all(meta.name, filters=[[fieldname, "is", "set"]], pluck="name"))


def _short(path):
    """The backup's path inside the site folder, to show the admin where it went."""
    import os
    return os.path.relpath(path, local.site_path)


@admin_view
def export_fixtures(request):
    """The DocType's Custom Fields and Property Setters as a fixture file download."""
    doctype = (request.GET.get("doctype") or "").strip()
    records = customize.export_customisations(doctype)
    response = HttpResponse(json.dumps(records, indent=1, ensure_ascii=False, sort_keys=True, default=str) + "\n",
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{scrub(doctype)}_customisations.json"'
    return response
