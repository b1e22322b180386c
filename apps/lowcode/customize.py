"""Customising DocTypes at runtime, as a System Manager does from the browser.

Every change is stored only as Custom Field, Property Setter and Custom DocPerm
records, so an app upgrade never loses it. The functions here take a whole batch of
changes, check all of it against the DocType definition it would produce, and only
then write, so bad input leaves nothing behind:

- ``apply_field_changes``: add custom fields, change field properties and field order;
- ``remove_custom_field``: delete a custom field after backing up its values (the
  column itself stays: the schema never drops columns);
- ``export_customisations``: the Custom Fields and Property Setters of a DocType in
  Frappe's fixture format;
- ``get_permission_rules`` / ``set_permission_rules`` / ``reset_permission_rules``:
  a DocType's role permissions, stored as Custom DocPerm rows.
"""
import datetime
import json
import os

from . import only_for, schema
from .context import local
from .document import delete_doc, get_doc, load_doc
from .exceptions import DoesNotExistError, InvalidFieldError, PermissionError, ValidationError
from .expressions import evaluate
from .fields import registry, types_where
from .meta import (BOOTSTRAP_DOCTYPES, RESERVED_FIELDNAMES, Meta, clear_cache, doctype_exists,
                   get_known_doctypes, get_meta, validate_definition)
from .query import get_all
from .utils import scrub

#: field properties the editor changes, with the property_type their Property Setter records
FIELD_PROPERTIES = {
    "label": "Data", "options": "Small Text", "default": "Small Text", "description": "Small Text",
    "reqd": "Check", "hidden": "Check", "read_only": "Check", "in_list_view": "Check",
    "in_standard_filter": "Check", "depends_on": "Code", "mandatory_depends_on": "Code",
    "read_only_depends_on": "Code", "length": "Int", "permlevel": "Int",
    "allow_in_quick_entry": "Check",  # Frappe's: asked in the quick entry dialog (desk/views/quick_entry.py)
}
EXPRESSION_PROPERTIES = ("depends_on", "mandatory_depends_on", "read_only_depends_on")
#: the permission columns the Role Permission Manager edits, in Frappe's order
PERM_ACTIONS = ("read", "write", "create", "delete", "submit", "cancel", "amend", "report", "export",
                "import", "share", "print", "email")
SUBMIT_ACTIONS = ("submit", "cancel", "amend")
#: the engine's own DocTypes: customising them could break the metadata everything reads
NOT_CUSTOMISABLE = frozenset(BOOTSTRAP_DOCTYPES + ("Role", "Has Role", "Installed App", "DocShare"))
_FIXTURE_DROP = ("owner", "creation", "modified", "modified_by", "docstatus", "idx")


def require_system_manager():
    only_for("System Manager")


def check_customisable(doctype):
    require_system_manager()
    if not doctype or not doctype_exists(doctype):
        raise DoesNotExistError(f"DocType {doctype!r} not found", doctype=doctype)
    if doctype in NOT_CUSTOMISABLE:
        raise PermissionError(f"{doctype} is part of the engine and cannot be customised", doctype=doctype)
    return get_meta(doctype)


# -- values ---------------------------------------------------------------------------------

def normalise(prop, value):
    """A property value in one canonical form, so unchanged values compare equal."""
    kind = FIELD_PROPERTIES[prop]
    if kind == "Check":
        return _flag(value)
    if kind == "Int":
        if value in (None, ""):
            return 0  # unset: level 0, the type's own length
        try:
            return int(str(value).strip())
        except ValueError:
            raise InvalidFieldError(f"{prop} must be a whole number, got {value!r}", field=prop)
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n")
    if prop == "options":
        # Keep a leading blank line: it is the empty choice of a Select.
        return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")
    return text.strip()


def _field_label(df):
    return df.get("label") or df.get("fieldname")


# -- fields: plan, check, write -------------------------------------------------------------

class FieldPlan:
    """What a batch of field changes will write, worked out before anything is written."""

    def __init__(self, doctype):
        self.doctype = doctype
        self.new_fields = []     # Custom Field values, in their final order
        self.custom_updates = {}  # fieldname -> {prop: value} of existing Custom Fields
        self.setters = {}        # fieldname -> {prop: value} of standard fields
        self.order = []          # every fieldname, in the final order
        self.definition = None   # the DocType definition the batch produces


def plan_field_changes(meta, rows):
    """Rows are the editor's fields in their new order: existing fields by ``fieldname``
    with the properties to set, new ones with ``is_new`` (and fieldtype, label, ...).
    Returns a FieldPlan, or raises naming the row and field at fault."""
    current = {f.fieldname: f for f in meta.fields}
    plan = FieldPlan(meta.name)
    finals = {}  # fieldname -> the field's final properties
    touched = set()
    for i, row in enumerate(rows, start=1):
        if int(row.get("is_new") or 0):
            df = _plan_new_field(meta, row, i, current, finals)
            plan.new_fields.append(df)
            touched.add(df["fieldname"])
        else:
            fieldname = (row.get("fieldname") or "").strip()
            df = current.get(fieldname)
            if df is None:
                raise InvalidFieldError(f"row {i}: {meta.name} has no field {fieldname!r}", field=fieldname)
            if fieldname in finals:
                raise InvalidFieldError(f"row {i}: field {fieldname!r} appears twice", field=fieldname)
            if row.get("fieldtype") and row["fieldtype"] != df.fieldtype:
                raise InvalidFieldError(f"row {i}: the type of the existing field {_field_label(df)!r} cannot "
                                        "change; add a new field instead", field=fieldname)
            df = dict(df)
            changes = {}
            for prop in FIELD_PROPERTIES:
                if prop not in row:
                    continue
                value = _checked_value(prop, row[prop], i, fieldname)
                if value != normalise(prop, df.get(prop)):
                    changes[prop] = value
                    df[prop] = value
            if changes:
                touched.add(fieldname)
                target = plan.custom_updates if df.get("is_custom_field") else plan.setters
                target[fieldname] = changes
        finals[df["fieldname"]] = df
    # Fields the rows leave out keep their place after the ones given.
    for fieldname, df in current.items():
        finals.setdefault(fieldname, dict(df))
    plan.order = list(finals)
    new_names = {df["fieldname"] for df in plan.new_fields}
    previous = None
    for fieldname in plan.order:
        df = finals[fieldname]
        if fieldname in new_names:
            df["insert_after"] = previous
        elif df.get("is_custom_field") and (df.get("insert_after") or None) != previous:
            # As Frappe's Customize Form: a custom field that moved follows its new
            # predecessor, so it keeps its place even without the field_order setter.
            plan.custom_updates.setdefault(fieldname, {})["insert_after"] = previous
        previous = fieldname
    definition = meta.as_dict()
    definition["fields"] = [{k: v for k, v in finals[f].items() if k != "insert_after"} for f in plan.order]
    plan.definition = definition
    _check_definition(meta, definition, touched)
    return plan


def _checked_value(prop, value, row_number, fieldname):
    try:
        return normalise(prop, value)
    except InvalidFieldError as e:
        raise InvalidFieldError(f"row {row_number}: field {fieldname!r}: {e.message}", field=fieldname)


def _plan_new_field(meta, row, i, current, finals):
    fieldtype = (row.get("fieldtype") or "").strip()
    if fieldtype not in registry:
        raise InvalidFieldError(f"row {i}: choose a field type for the new field"
                                + (f" ({fieldtype!r} is not one)" if fieldtype else ""), field="fieldtype")
    label = normalise("label", row.get("label"))
    typed = (row.get("fieldname") or "").strip()
    fieldname = typed or scrub(label)
    if not fieldname:
        if fieldtype not in types_where("layout"):
            raise InvalidFieldError(f"row {i}: give the new {fieldtype} field a label or a fieldname",
                                    field="label")
        fieldname = _free_name(scrub(fieldtype), current, finals)
    if fieldname in RESERVED_FIELDNAMES:
        raise InvalidFieldError(f"row {i}: fieldname {fieldname!r} is reserved; choose another", field=fieldname)
    if fieldname in current or fieldname in finals:
        raise InvalidFieldError(f"row {i}: {meta.name} already has a field {fieldname!r}", field=fieldname)
    if not fieldname.startswith("custom_"):
        # As in Frappe: custom fieldnames never collide with fields an app adds later.
        fieldname = ("custom_" + fieldname)[:64]
        if fieldname in current or fieldname in finals:
            raise InvalidFieldError(f"row {i}: {meta.name} already has a field {fieldname!r}", field=fieldname)
    df = {"fieldname": fieldname, "fieldtype": fieldtype, "is_custom_field": 1}
    for prop in FIELD_PROPERTIES:
        if prop in row:
            value = _checked_value(prop, row[prop], i, fieldname)
            if value not in (None, "", 0):
                df[prop] = value
    return df


def _free_name(base, current, finals):
    n = 1
    while f"{base}_{n}" in current or f"{base}_{n}" in finals or f"custom_{base}_{n}" in current \
            or f"custom_{base}_{n}" in finals:
        n += 1
    return f"{base}_{n}"


def _check_definition(meta, definition, touched):
    """The checks the engine makes on any definition, plus check_fields on the fields
    this batch touches."""
    validate_definition(definition, get_known_doctypes(), source=meta.name)
    check_fields([df for df in definition["fields"] if df.get("fieldname") in touched])


def check_fields(fields):
    """What the editor refuses beyond validate_definition, as Frappe's Customize Form
    does: a hidden mandatory field with no default (nobody could fill it), a mandatory
    layout field, and conditions that cannot be read."""
    for df in fields:
        label = _field_label(df)
        if int(df.get("reqd") or 0) and int(df.get("hidden") or 0) and df.get("default") in (None, ""):
            raise ValidationError(f"{label}: a mandatory field cannot be hidden unless it has a default",
                                  field=df["fieldname"])
        if df.get("fieldtype") in types_where("layout") and int(df.get("reqd") or 0):
            raise ValidationError(f"{label}: a {df['fieldtype']} cannot be mandatory", field=df["fieldname"])
        for prop in EXPRESSION_PROPERTIES:
            if df.get(prop):
                _check_expression(df[prop], label, prop, df["fieldname"])


def _check_expression(expression, label, prop, fieldname):
    """Refuse an expression that cannot be read; one that merely fails on an empty
    document (a comparison with None) is fine."""
    from simpleeval import InvalidExpression
    try:
        evaluate(expression, {})
    except ValidationError as e:
        if isinstance(e.__context__, (SyntaxError, InvalidExpression)):
            raise ValidationError(f"{label}: {prop} {expression!r} is not a valid expression", field=fieldname)


def apply_field_changes(doctype, rows):
    """Check, then write a batch of field changes (see plan_field_changes). Returns the
    plan. Runs in the caller's transaction; on error nothing of the batch is written."""
    meta = check_customisable(doctype)
    plan = plan_field_changes(meta, rows)
    if not (plan.new_fields or plan.custom_updates or plan.setters) \
            and plan.order == [f.fieldname for f in meta.fields]:
        return plan  # nothing changed: no write, no metadata version bump
    # Columns and indexes first, for the whole batch: on MariaDB DDL commits at once,
    # so doing it before any record is written keeps the records in one transaction.
    schema.sync_table(Meta(plan.definition))
    for df in plan.new_fields:
        doc = get_doc(dict({k: v for k, v in df.items() if k != "is_custom_field"},
                           doctype="Custom Field", dt=doctype))
        doc.flags.keep_fieldname = True
        doc.insert()
    for fieldname, changes in plan.custom_updates.items():
        name = get_all("Custom Field", filters={"dt": doctype, "fieldname": fieldname}, pluck="name")[0]
        doc = load_doc("Custom Field", name)
        doc.update(changes)
        doc.save()
    if plan.setters:
        standard = _standard_fields(doctype)
        for fieldname, changes in plan.setters.items():
            _set_properties(doctype, fieldname, changes, standard.get(fieldname, {}))
    _set_field_order(doctype, plan.order)
    clear_cache()
    return plan


def _standard_fields(doctype):
    """The DocType's own field definitions, before any Property Setter."""
    rows = get_all("DocField", filters={"parent": doctype, "parenttype": "DocType"}, fields=["*"])
    return {r["fieldname"]: r for r in rows}


def _set_properties(doctype, fieldname, changes, standard):
    order = [p for p in changes if p != "default"]
    if "default" in changes:
        if "options" in changes:
            # The old default may not fit the new options: clear it while they change.
            _set_property(doctype, fieldname, "default", "", standard)
        order.append("default")
    for prop in order:
        _set_property(doctype, fieldname, prop, changes[prop], standard)


def _set_property(doctype, fieldname, prop, value, standard):
    names = get_all("Property Setter", filters={"doc_type": doctype, "field_name": fieldname, "property": prop},
                    pluck="name")
    if value == normalise(prop, standard.get(prop)):
        # Back to the app's value: the setter is no longer needed.
        for name in names:
            delete_doc("Property Setter", name)
        return
    text = "" if value is None else str(value)
    if names:
        doc = load_doc("Property Setter", names[0])
        doc.value = text
        doc.save()
    else:
        get_doc({"doctype": "Property Setter", "doctype_or_field": "DocField", "doc_type": doctype,
                 "field_name": fieldname, "property": prop, "property_type": FIELD_PROPERTIES[prop],
                 "value": text}).insert()


def extend_select_options(doctype, fieldname, values):
    """Add ``values`` missing from a Select field's options, as its ``options`` Property
    Setter (a workflow's states); returns the values added. The caller has
    decided the change is allowed (a Workflow save)."""
    from .meta import get_meta
    df = get_meta(doctype).get_field(fieldname)
    options = [o for o in (df.options or "").split("\n")]
    missing = [v for v in dict.fromkeys(values) if v and v not in options]
    if missing:
        names = get_all("Property Setter", filters={"doc_type": doctype, "field_name": fieldname,
                                                     "property": "options"}, pluck="name")
        text = "\n".join(options + missing)
        if names:
            doc = load_doc("Property Setter", names[0])
            doc.value = text
            doc.save(ignore_permissions=True)
        else:
            get_doc({"doctype": "Property Setter", "doctype_or_field": "DocField", "doc_type": doctype,
                     "field_name": fieldname, "property": "options", "property_type": FIELD_PROPERTIES["options"],
                     "value": text}).insert(ignore_permissions=True)
    return missing


def _field_order_setter(doctype):
    names = get_all("Property Setter", filters={"doc_type": doctype, "property": "field_order"}, pluck="name")
    return load_doc("Property Setter", names[0]) if names else None


def _set_field_order(doctype, order):
    """Store the order as a DocType-level ``field_order`` Property Setter, unless the
    fields already come out in that order."""
    clear_cache()
    if [f.fieldname for f in get_meta(doctype).fields] == order:
        return
    value = json.dumps(order)
    doc = _field_order_setter(doctype)
    if doc is not None:
        doc.value = value
        doc.save()
    else:
        get_doc({"doctype": "Property Setter", "doctype_or_field": "DocType", "doc_type": doctype,
                 "property": "field_order", "property_type": "Data", "value": value}).insert()


# -- removing a custom field ----------------------------------------------------------------

def field_references(meta, fieldname):
    """Where the DocType's definition names the field (it cannot go while it does)."""
    out = []
    for key in ("title_field", "sort_field", "image_field"):
        if getattr(meta, key) == fieldname:
            out.append(key)
    if fieldname in meta.search_fields:
        out.append("search_fields")
    if meta.autoname == f"field:{fieldname}":
        out.append("autoname")
    for df in meta.fields:
        if registry[df.fieldtype].options_field and df.options == fieldname:
            out.append(f"{df.fieldname} (Dynamic Link)")
        if (df.fetch_from or "").split(".")[0] == fieldname:
            out.append(f"{df.fieldname} (fetch from)")
    return out


def custom_field_name(doctype, fieldname):
    names = get_all("Custom Field", filters={"dt": doctype, "fieldname": fieldname}, pluck="name")
    if not names:
        raise DoesNotExistError(f"{fieldname!r} is not a custom field of {doctype}: standard fields can only "
                                "be hidden", doctype=doctype)
    return names[0]


def remove_custom_field(doctype, fieldname, confirm=False):
    """Delete a custom field: its values go to a JSON backup under the site's
    private/backups/ first; the column and its data stay in the table. Returns the
    backup's path."""
    meta = check_customisable(doctype)
    name = custom_field_name(doctype, fieldname)
    if not confirm:
        raise ValidationError(f"removing {fieldname!r} needs confirmation (confirm=1)", field="confirm")
    refs = field_references(meta, fieldname)
    if refs:
        raise ValidationError(f"{fieldname!r} cannot be removed while {meta.name} uses it in: {', '.join(refs)}",
                              field=fieldname)
    record = load_doc("Custom Field", name)
    path = backup_field_values(meta, record)
    for ps in get_all("Property Setter", filters={"doc_type": doctype, "field_name": fieldname}, pluck="name"):
        delete_doc("Property Setter", ps)
    order = _field_order_setter(doctype)
    if order is not None:
        order.value = json.dumps([f for f in json.loads(order.value or "[]") if f != fieldname])
        order.save()
    # Custom fields placed after this one keep their place by following its predecessor.
    for after in get_all("Custom Field", filters={"dt": doctype, "insert_after": fieldname}, pluck="name"):
        doc = load_doc("Custom Field", after)
        doc.insert_after = record.insert_after
        doc.save()
    record.delete()
    clear_cache()
    return path


def drop_custom_field(record):
    """An app's Custom Field taken back at uninstall or migrate: its values backed up as
    ``remove_custom_field`` does, its Property Setters deleted, and (unlike an admin's
    removal) its column and indexes dropped, so the host table is as before the app and a
    reinstall starts clean. Returns the backup's path."""
    meta = get_meta(record.dt)
    path = backup_field_values(meta, record)
    for ps in get_all("Property Setter", filters={"doc_type": record.dt, "field_name": record.fieldname},
                      pluck="name"):
        delete_doc("Property Setter", ps, ignore_permissions=True)
    delete_doc("Custom Field", record.name, doc=record, ignore_permissions=True, force=True)
    if record.fieldname not in {df.fieldname for df in get_meta(record.dt).fields}:
        schema.drop_column(record.dt, record.fieldname)
    clear_cache()
    return path


def backup_field_values(meta, record):
    """Write {custom_field, values: [{name, value}]} for every row to
    <site>/private/backups/<doctype>-<field>-<timestamp>.json."""
    fieldname = record.fieldname
    values = []
    if fieldname in {df.fieldname for df in meta.data_fields} and not meta.issingle:
        values = [{"name": r["name"], "value": r[fieldname]}
                  for r in get_all(meta.name, fields=["name", fieldname], order_by="name asc")]
    folder = os.path.join(local.site_path, "private", "backups")
    os.makedirs(folder, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = os.path.join(folder, f"{scrub(meta.name)}-{fieldname}-{stamp}.json")
    data = {"doctype": meta.name, "fieldname": fieldname, "removed_by": local.user,
            "removed_at": datetime.datetime.now().isoformat(timespec="seconds"),
            "custom_field": fixture_record(record), "values": values}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False, default=str)
        f.write("\n")
    return path


# -- fixtures -----------------------------------------------------------------------------

def fixture_record(doc):
    """A record as Frappe fixtures hold it (what installer.export_fixtures writes)."""
    d = doc.as_dict(no_nulls=True)
    for key in _FIXTURE_DROP:
        d.pop(key, None)
    return d


def export_customisations(doctype):
    """The DocType's Custom Fields and Property Setters, as a fixture list."""
    check_customisable(doctype)
    records = []
    for dt, key in (("Custom Field", "dt"), ("Property Setter", "doc_type")):
        for name in get_all(dt, filters={key: doctype}, pluck="name", order_by="name asc"):
            records.append(fixture_record(load_doc(dt, name)))
    return records


# -- role permissions -----------------------------------------------------------------------

def check_permission_doctype(doctype):
    require_system_manager()
    if not doctype or not doctype_exists(doctype):
        raise DoesNotExistError(f"DocType {doctype!r} not found", doctype=doctype)
    meta = get_meta(doctype)
    if meta.istable:
        raise ValidationError(f"{doctype} is a child table: its parent's permissions apply", field="doctype")
    if doctype in BOOTSTRAP_DOCTYPES:
        raise PermissionError(f"{doctype} is part of the engine: its permissions cannot change", doctype=doctype)
    return meta


def has_custom_permissions(doctype):
    return bool(get_all("Custom DocPerm", filters={"parent": doctype}, pluck="name", limit_page_length=1))


def get_permission_rules(doctype):
    """The DocType's effective rules: [{role, permlevel, if_owner, <action>: 0|1}]."""
    meta = check_permission_doctype(doctype)
    return [as_rule(p) for p in meta.permissions]


def _flag(value):
    return 1 if str(value).strip().lower() in ("1", "on", "true", "yes") else 0


def as_rule(p):
    out = {"role": p.get("role") or "", "permlevel": int(p.get("permlevel") or 0),
           "if_owner": 1 if int(p.get("if_owner") or 0) else 0}
    for action in PERM_ACTIONS:
        out[action] = 1 if int(p.get(action) or 0) else 0
    return out


def check_rules(rules, is_submittable):
    """Normalised rules, or an error naming the rule at fault."""
    if not rules:
        raise ValidationError("add at least one permission rule", field="role")
    out, seen = [], set()
    for i, raw in enumerate(rules, start=1):
        role = (raw.get("role") or "").strip()
        if not role:
            raise ValidationError(f"rule {i}: choose a role", field="role")
        if not local.db.exists("Role", role):
            raise ValidationError(f"rule {i}: role {role!r} does not exist", field="role")
        try:
            level = int(str(raw.get("permlevel") or 0).strip())
        except ValueError:
            raise ValidationError(f"rule {i}: level must be a whole number from 0 to 9", field="permlevel")
        if not 0 <= level <= 9:
            raise ValidationError(f"rule {i}: level must be a whole number from 0 to 9", field="permlevel")
        rule = {"role": role, "permlevel": level, "if_owner": _flag(raw.get("if_owner"))}
        for action in PERM_ACTIONS:
            rule[action] = _flag(raw.get(action))
        if not is_submittable and any(rule[a] for a in SUBMIT_ACTIONS):
            raise ValidationError(f"rule {i}: submit, cancel and amend apply only to submittable DocTypes",
                                  field="submit")
        key = (role, level, rule["if_owner"])
        if key in seen:
            raise ValidationError(f"rule {i}: {role} already has a rule at level {level}", field="role")
        seen.add(key)
        out.append(rule)
    for i, rule in enumerate(out, start=1):
        if rule["permlevel"] and not any(r["role"] == rule["role"] and r["permlevel"] == 0 for r in out):
            raise ValidationError(f"rule {i}: give {rule['role']} a level 0 rule before level {rule['permlevel']}",
                                  field="permlevel")
    return out


def set_permission_rules(doctype, rules):
    """Replace the DocType's Custom DocPerm rows with ``rules`` (they then replace the
    app's DocPerms entirely, as in Frappe)."""
    meta = check_permission_doctype(doctype)
    if not rules:
        raise ValidationError("keep at least one rule; Reset goes back to the app's rules", field="role")
    rules = check_rules(rules, meta.is_submittable)
    _delete_custom_perms(doctype)
    for idx, rule in enumerate(rules, start=1):
        # Child rows have no permissions of their own; the System Manager check above applies.
        get_doc(dict(rule, doctype="Custom DocPerm", parent=doctype, parenttype="DocType",
                     parentfield="permissions", idx=idx)).insert(ignore_permissions=True)
    clear_cache()
    return rules


def reset_permission_rules(doctype):
    """Back to the app's own DocPerms."""
    check_permission_doctype(doctype)
    _delete_custom_perms(doctype)
    clear_cache()


def _delete_custom_perms(doctype):
    for name in get_all("Custom DocPerm", filters={"parent": doctype}, pluck="name"):
        delete_doc("Custom DocPerm", name, ignore_permissions=True)


__all__ = ["apply_field_changes", "remove_custom_field", "export_customisations", "get_permission_rules",
           "set_permission_rules", "reset_permission_rules", "FIELD_PROPERTIES", "PERM_ACTIONS"]
