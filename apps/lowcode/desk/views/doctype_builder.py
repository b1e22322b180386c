"""/app/doctype-builder (new) and /app/doctype-builder/<name> (edit): build a custom
DocType on one page: its fields (the Customize Form editor), permission rules,
naming and a few options. It is saved as a DocType document, whose controller checks
the definition and creates the table, so list, form, report and API work at once."""
import re
from urllib.parse import quote

from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _

from ... import customize
from ...document import get_doc
from ...exceptions import DoesNotExistError, InvalidFieldError, LowcodeError, ValidationError
from ...fields import registry, types_where
from ...meta import CHILD_FIELDS, STANDARD_FIELDS, HIDDEN_FIELDS
from ...query import get_all
from ...utils import route_for, scrub
from ..render import render
from .customize import admin_view, editor_context, editor_rows, read_field_rows, redisplay_rows, undo
from .permission_manager import grid_context, read_rules

NAMING_CHOICES = ("hash", "field", "series", "autoincrement", "prompt")
_SERIES_RE = re.compile(r"^[A-Za-z0-9_\-/ .{}]+\.#+$")  # a prefix, then .#####
_NOT_DEFINITION = frozenset(STANDARD_FIELDS + CHILD_FIELDS + HIDDEN_FIELDS + ("doctype",))
DEFAULT_RULE = {"role": "System Manager", "permlevel": 0, "if_owner": 0, "read": 1, "write": 1, "create": 1,
                "delete": 1, "report": 1, "export": 1, "import": 1, "share": 1, "print": 1, "email": 1}


def naming_of(autoname, naming_rule=""):
    """(choice, naming field, series pattern) of a definition's autoname."""
    autoname = autoname or ""
    if autoname.startswith("field:"):
        return "field", autoname[6:], ""
    if autoname == "autoincrement" or naming_rule == "Autoincrement":
        return "autoincrement", "", ""
    if autoname == "prompt" or naming_rule == "Set by user":
        return "prompt", "", ""
    if "#" in autoname:
        return "series", "", autoname
    return "hash", "", ""


def autoname_for(choice, field, series):
    """(autoname, naming_rule) for the naming the admin chose."""
    if choice == "field":
        if not field:
            raise ValidationError(_("Naming: choose the field whose value names each document"), field="naming_field")
        return f"field:{field}", "By fieldname"
    if choice == "series":
        series = (series or "").strip()
        if not series:
            raise ValidationError(_("Naming: give the series a prefix, like TASK-.#####"), field="naming_series")
        if "#" not in series:
            series = series.rstrip(".") + ".#####"
        if not _SERIES_RE.match(series):
            raise ValidationError(_("Naming: %(series)s is not a series; write a prefix and end with .#####, "
                                    "like TASK-.#####") % {"series": series}, field="naming_series")
        return series, "Expression"
    if choice == "autoincrement":
        return "autoincrement", "Autoincrement"
    if choice == "prompt":
        return "prompt", "Set by user"
    if choice == "hash":
        return "hash", "Random"
    raise ValidationError(_("Naming: choose how documents are named"), field="naming")


def fields_from_rows(rows, existing):
    """DocField definitions from the editor's rows. A field that exists keeps the
    properties the editor does not show (unique, bold, ...)."""
    out = []
    for i, row in enumerate(rows, start=1):
        if row.get("__delete"):
            continue
        if row["is_new"]:
            fieldtype = row.get("fieldtype") or ""
            if fieldtype not in registry:
                raise InvalidFieldError(_("Row %(row)s: choose a field type") % {"row": i}, field="fieldtype")
            fieldname = row["fieldname"] or scrub(row.get("label") or "")
            if not fieldname and fieldtype in types_where("layout"):
                fieldname = f"{scrub(fieldtype)}_{i}"
            if not fieldname:
                raise InvalidFieldError(_("Row %(row)s: give the new field a label or a fieldname") % {"row": i},
                                        field="label")
            df = {"fieldname": fieldname, "fieldtype": fieldtype}
        else:
            base = existing.get(row["fieldname"])
            if base is None:
                raise InvalidFieldError(_("Row %(row)s: there is no field %(field)s")
                                        % {"row": i, "field": row["fieldname"]}, field=row["fieldname"])
            df = {k: v for k, v in base.items() if k not in _NOT_DEFINITION and v not in (None, "")}
        for prop in customize.FIELD_PROPERTIES:
            if prop not in row:
                continue
            value = customize.normalise(prop, row[prop])
            if value in (None, "", 0):
                df.pop(prop, None)
            else:
                df[prop] = value
        out.append(df)
    return out


def read_definition(post, existing_fields):
    """The DocType definition the page posted (everything but the name)."""
    istable = 1 if post.get("istable") else 0
    autoname, naming_rule = autoname_for(post.get("naming") or "hash", (post.get("naming_field") or "").strip(),
                                         post.get("naming_series"))
    fields = fields_from_rows(read_field_rows(post), existing_fields)
    customize.check_fields(fields)
    rules = [{k: v for k, v in r.items() if k != "key"} for r in read_rules(post)]
    is_submittable = 0 if istable else (1 if post.get("is_submittable") else 0)
    if istable:
        rules = []  # a child table's rows follow their parent's permissions
    else:
        rules = customize.check_rules(rules, is_submittable)
    return {"module": (post.get("module") or "").strip() or "Custom", "istable": istable,
            "is_submittable": is_submittable, "track_changes": 1 if post.get("track_changes") else 0,
            "autoname": autoname, "naming_rule": naming_rule,
            "title_field": (post.get("title_field") or "").strip() or None,
            "search_fields": ", ".join(f.strip() for f in (post.get("search_fields") or "").split(",") if f.strip())
            or None, "fields": fields, "permissions": rules}


def desk_pages():
    """The /app/<page> paths the desk serves itself (customize-form, my-settings...):
    a DocType whose route is one of them would have an unreachable list."""
    from ..urls import urlpatterns
    pages = set()
    for pattern in urlpatterns:
        parts = str(pattern.pattern).split("/")
        if len(parts) > 1 and parts[0] == "app" and parts[1] and "<" not in parts[1]:
            pages.add(parts[1])
    return pages


def check_new_name(name):
    if not name:
        raise ValidationError(_("Name: give the DocType a name"), field="name")
    if route_for(name) in desk_pages():
        raise ValidationError(_("Name: %(name)s would open at /app/%(route)s, which the desk already uses; "
                                "choose another name") % {"name": name, "route": route_for(name)}, field="name")


def page_values(defn):
    naming, naming_field, naming_series = naming_of(defn.get("autoname"), defn.get("naming_rule"))
    return {"name": defn.get("name") or "", "module": defn.get("module") or "Custom",
            "istable": int(defn.get("istable") or 0), "is_submittable": int(defn.get("is_submittable") or 0),
            "track_changes": int(defn.get("track_changes") or 0), "naming": naming, "naming_field": naming_field,
            "naming_series": naming_series, "title_field": defn.get("title_field") or "",
            "search_fields": defn.get("search_fields") or ""}


def posted_values(post, name):
    """The definition inputs as posted, to show them again after a refusal."""
    flags = {key: 1 if post.get(key) else 0 for key in ("istable", "is_submittable", "track_changes")}
    texts = {key: post.get(key) or "" for key in ("module", "naming_field", "naming_series", "title_field",
                                                  "search_fields")}
    return dict(flags, **texts, name=post.get("name") or name or "", naming=post.get("naming") or "hash")


def _render(status=200, **ctx):
    return render("doctype_builder.html", status=status, **ctx)


@admin_view
def doctype_builder(request, name=None):
    try:
        doc = get_doc("DocType", name) if name else None
    except DoesNotExistError as e:
        return render("customize_form.html", status=404, page="forbidden", heading=_("Not found"), message=e.message)
    is_new = doc is None
    existing = {df.fieldname: df.as_dict() for df in (doc.fields if doc else [])}
    base = editor_context(page="editor", mode="builder", show_editor=True, is_new=is_new, error=None,
                          error_field=None, saved=request.GET.get("saved") == "1", naming_choices=NAMING_CHOICES,
                          modules=get_all("Module Def", pluck="name", order_by="name asc"),
                          custom_doctypes=get_all("DocType", filters={"custom": 1}, pluck="name", order_by="name asc"),
                          route=route_for(name) if name else None, doctype=name or "",
                          modified=doc.modified if doc is not None else None)
    if doc is not None and not int(doc.custom or 0):
        return _render(status=403, **dict(base, show_editor=False, values=page_values(doc.as_dict()),
                       error=_("%(name)s belongs to an app: change it with Customize Form instead") % {"name": name}))
    if request.method != "POST":
        if doc is None:
            values, rows, rules = page_values({}), [], [dict(DEFAULT_RULE)]
        else:
            values, rows, rules = page_values(doc.as_dict()), editor_rows(existing.values()), \
                [customize.as_rule(p.as_dict()) for p in doc.permissions]
        return _render(**dict(base, values=values, rows=rows, **grid_context(rules, True)))
    post = request.POST
    try:
        definition = read_definition(post, existing)
        if is_new:
            new_name = (post.get("name") or "").strip()
            check_new_name(new_name)
            doc = get_doc(dict(definition, doctype="DocType", name=new_name))
            doc.insert()
        else:
            doc.modified = post.get("modified") or doc.modified
            doc.update({k: v for k, v in definition.items() if k not in ("fields", "permissions")})
            doc.set("fields", definition["fields"])
            doc.set("permissions", definition["permissions"])
            doc.save()
    except LowcodeError as e:
        undo()
        return _render(status=e.http_status, **dict(base, values=posted_values(post, name), error=e.message,
                                                    rows=redisplay_rows(read_field_rows(post), existing),
                                                    modified=post.get("modified"),
                                                    error_field=e.field, **grid_context(read_rules(post), True)))
    return HttpResponseRedirect(f"/app/doctype-builder/{quote(doc.name)}?saved=1")
