"""Documents: one record of a DocType, with its child rows, and its lifecycle.

insert: before_insert -> naming -> before_validate -> validate -> (checks) ->
        before_save (before_submit) -> write -> after_insert -> on_update (on_submit) -> on_change
save:   stale-write check -> permissions -> before_validate -> validate -> (checks) ->
        before_save | before_submit | before_cancel | before_update_after_submit ->
        write -> on_update | on_update + on_submit | on_cancel | on_update_after_submit ->
        on_change -> version
(cancel runs no validate, as in Frappe.)
delete: on_trash -> link check -> remove -> after_delete

Each step runs the controller's method and then the ``doc_events`` handlers of every
installed app (``"*"`` first, then the DocType's own), as Frappe does.
"""
import functools
import importlib
import os
import re

from . import links, versions
from .caches import forget_records
from .apps import app_doctype_files, doc_event_handlers, get_attr, get_hooks, get_installed_apps
from .context import local
from .exceptions import (DocstatusTransitionError, DoesNotExistError, DuplicateEntryError,
                         MandatoryError, PermissionError,
                         TimestampMismatchError, UniqueValidationError, ValidationError)
from .expressions import evaluate
from .fields import links_to, registry
from .fields.base import FieldType
from .meta import STANDARD_FIELDS, CHILD_FIELDS, HIDDEN_FIELDS, get_meta
from .naming import set_new_name
from .permissions import get_permlevels, has_permission
from .query import get_all
from .schema import wanted_indexes
from .signals import metadata_changed, receiver
from .utils import Obj, now, scrub

_ALLOWED_DOCSTATUS = {(0, 0): "save", (0, 1): "submit", (1, 1): "update_after_submit", (1, 2): "cancel"}
_SQLITE_UNIQUE_RE = re.compile(r"UNIQUE constraint failed: [^.]+\.(\w+)")
_MARIADB_UNIQUE_RE = re.compile(r"for key '(?:[^.']*\.)?([^']+)'")
_MARIADB_DATA_RE = re.compile(r"(too long|Out of range value) for column [`']?(\w+)[`']?")


class Document:
    """A document. Field values are attributes; child rows are lists of Documents."""

    def __init__(self, data=None, **kwargs):
        data = dict(data or {}, **kwargs)
        self.doctype = data.pop("doctype", None) or type(self).__name__
        self.flags = Obj()
        self._meta = None
        self._doc_before_save = None
        meta = self.meta
        for tf in meta.table_fields:
            self.__dict__[tf.fieldname] = []
        for key, value in data.items():
            if meta.get_table_field(key):
                self.set(key, value)
            else:
                self.__dict__[key] = value

    # -- field access -------------------------------------------------------------
    @property
    def meta(self):
        if self._meta is None:
            self._meta = get_meta(self.doctype)
        return self._meta

    def __getattr__(self, name):
        # Unset fields read as None, like Frappe; private names stay errors.
        if name.startswith("_"):
            raise AttributeError(name)
        return None

    def get(self, key, default=None):
        value = self.__dict__.get(key, default)
        return default if value is None else value

    def set(self, key, value):
        tf = self.meta.get_table_field(key)
        if tf is not None:
            self.__dict__[key] = []
            for row in value or []:
                self.append(key, row)
        else:
            self.__dict__[key] = value

    def update(self, values):
        for key, value in (values or {}).items():
            if key == "doctype":
                continue
            self.set(key, value)
        return self

    def append(self, tablefield, row=None):
        tf = self.meta.get_table_field(tablefield)
        if tf is None:
            raise ValidationError(f"{self.doctype} has no child table {tablefield!r}", field=tablefield)
        if isinstance(row, Document):
            child = row
        else:
            if row is not None and not isinstance(row, dict):
                raise ValidationError(f"{tf.label or tablefield}: each row must be an object", field=tablefield)
            data = dict(row or {})
            data.pop("doctype", None)
            child = Document({"doctype": tf.options, **data})
        child.parent = self.name
        child.parenttype = self.doctype
        child.parentfield = tablefield
        rows = self.__dict__.setdefault(tablefield, [])
        rows.append(child)
        child.idx = len(rows)
        return child

    def as_dict(self, no_nulls=False, fields=None):
        meta = self.meta
        out = {"doctype": self.doctype}
        keys = list(STANDARD_FIELDS)
        if meta.istable:
            keys += CHILD_FIELDS
        keys += [f.fieldname for f in meta.data_fields]
        for key in keys:
            if fields is not None and key not in fields and key != "name":
                continue
            value = self.__dict__.get(key)
            if no_nulls and value is None:
                continue
            out[key] = value
        for tf in meta.table_fields:
            if fields is not None and tf.fieldname not in fields:
                continue
            out[tf.fieldname] = [row.as_dict(no_nulls=no_nulls) for row in self.get(tf.fieldname) or []]
        return out

    def get_title(self):
        return self.get(self.meta.get_title_field()) or self.name

    def is_new(self):
        return bool(self.flags.in_insert or not self.get("creation"))

    def __repr__(self):
        return f"<{self.doctype}: {self.name}>"

    # -- lifecycle ----------------------------------------------------------------
    def run_method(self, method, *args):
        fn = getattr(type(self), method, None)
        result = fn(self, *args) if callable(fn) else None
        for handler in doc_event_handlers(self.doctype, method):
            handler(self, method, *args)
        return result

    def check_permission(self, ptype="read"):
        if self.flags.ignore_permissions:
            return
        if not has_permission(self.doctype, ptype, doc=self):
            raise PermissionError(f"Not permitted: {ptype} {self.doctype} {self.name or ''}".rstrip(),
                                  doctype=self.doctype)

    def _check_write_permission(self, previous, ptype):
        """Decide on the stored document, then on the new state: the client's values
        must neither grant the right (a payload naming yourself the lead owner, making
        a private note public, joining an event's participants, setting a Link to a
        value your User Permissions allow) nor move the document somewhere the user
        may not ``ptype`` (Frappe checks the new state)."""
        if self.flags.ignore_permissions:
            return
        previous.check_permission(ptype)
        self.check_permission(ptype)

    def insert(self, ignore_permissions=None, ignore_mandatory=None, ignore_links=None):
        if ignore_permissions is not None:
            self.flags.ignore_permissions = ignore_permissions
        if ignore_mandatory is not None:
            self.flags.ignore_mandatory = ignore_mandatory
        if ignore_links is not None:
            self.flags.ignore_links = ignore_links
        self.flags.in_insert = True
        meta = self.meta
        if meta.issingle:
            raise ValidationError(f"{self.doctype} is a single DocType: use save()")
        self.docstatus = int(self.docstatus or 0)
        self.idx = int(self.idx or 0)
        if self.docstatus == 1 and not meta.is_submittable:
            raise DocstatusTransitionError(f"{self.doctype} cannot be submitted", field="docstatus")
        if self.docstatus not in (0, 1):
            raise DocstatusTransitionError("a new document starts as draft (0) or submitted (1)", field="docstatus")
        self._set_defaults()
        self._set_standard_fields(new=True)
        self.check_permission("create")
        self._check_permlevel_on_create()
        if self.docstatus == 1:
            self.check_permission("submit")
        self.run_method("before_insert")
        set_new_name(self)
        self._set_parent_links()
        self._validate_all("submit" if self.docstatus == 1 else "save")
        self._db_insert()
        if local.flags.owning_app:  # made by an app's install or migrate: the app owns it
            from .ownership import on_insert
            on_insert(self)
        self.run_method("after_insert")
        self.run_method("on_update")
        if self.docstatus == 1:
            self.run_method("on_submit")
        self.run_method("on_change")
        self.flags.in_insert = False
        return self

    def save(self, ignore_permissions=None, ignore_version=None):
        if ignore_permissions is not None:
            self.flags.ignore_permissions = ignore_permissions
        if ignore_version is not None:
            self.flags.ignore_version = ignore_version
        meta = self.meta
        if meta.issingle:
            return self._save_single()
        if self.get("__islocal") or not self.name or not self.creation:
            return self.insert()
        previous = load_doc(self.doctype, self.name, for_update=True)
        self._doc_before_save = previous
        if self.modified and str(self.modified) != str(previous.modified) and not self.flags.ignore_stale:
            raise TimestampMismatchError(
                f"{self.doctype} {self.name} was changed by {previous.modified_by} at {previous.modified} "
                f"after you opened it; reload it and apply your change again", doctype=self.doctype)
        self.docstatus = int(self.docstatus or 0)
        action = _ALLOWED_DOCSTATUS.get((previous.docstatus, self.docstatus))
        if action is None:
            raise DocstatusTransitionError(
                f"cannot change docstatus from {previous.docstatus} to {self.docstatus}", field="docstatus")
        if action in ("submit", "cancel") and not meta.is_submittable:
            raise DocstatusTransitionError(f"{self.doctype} is not submittable", field="docstatus")
        for key in ("owner", "creation"):
            self.__dict__[key] = previous.get(key)  # before the checks: if_owner rules read owner
        self._check_write_permission(previous, {"save": "write", "update_after_submit": "write"}.get(action, action))
        self._check_permlevel_changes(previous)
        if action == "update_after_submit":
            self._check_allowed_on_submit(previous)
        self._set_standard_fields(new=False)
        self._set_parent_links()
        self._validate_all(action)
        self._db_update(previous.modified)
        if action in ("save", "submit"):
            self.run_method("on_update")  # Frappe runs on_update before on_submit too
        post = {"submit": "on_submit", "cancel": "on_cancel", "update_after_submit": "on_update_after_submit"}.get(action)
        if post:
            self.run_method(post)
        self.run_method("on_change")
        if meta.track_changes and not self.flags.ignore_version:
            versions.record(previous, self)
        return self

    def submit(self):
        self.docstatus = 1
        return self.save()

    def cancel(self):
        self.docstatus = 2
        return self.save()

    def reload(self):
        fresh = load_doc(self.doctype, self.name)
        self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k not in ("flags", "_meta")})
        return self

    def delete(self, ignore_permissions=None, force=False):
        if ignore_permissions is not None:
            self.flags.ignore_permissions = ignore_permissions
        delete_doc(self.doctype, self.name, doc=self, force=force)

    # -- internals ----------------------------------------------------------------
    def _set_defaults(self):
        for df in self.meta.default_fields:
            if self.__dict__.get(df.fieldname) is None:
                default = registry[df.fieldtype].default(df)
                if default is not None:
                    self.__dict__[df.fieldname] = _resolve_default(default)
        for tf in self.meta.table_fields:
            for row in self.get(tf.fieldname) or []:
                row._set_defaults()

    def _set_standard_fields(self, new):
        ts = now()
        user = local.user
        if new:
            self.owner = self.owner if (self.owner and self.flags.ignore_permissions) else user
            self.creation = ts
        self.modified = ts
        self.modified_by = user

    def _set_parent_links(self):
        for tf in self.meta.table_fields:
            for i, row in enumerate(self.get(tf.fieldname) or [], start=1):
                row.parent, row.parenttype, row.parentfield, row.idx = self.name, self.doctype, tf.fieldname, i
                row.docstatus = self.docstatus
                row.owner, row.modified_by, row.modified = self.owner, self.modified_by, self.modified
                row.creation = row.creation or self.modified
                row.flags.ignore_links = self.flags.ignore_links
                if not row.name:
                    set_new_name(row)

    def _validate_all(self, action):
        """Types first (controllers see typed values), then the controller's validate,
        then mandatory and link checks, so a controller can fill required values."""
        # Frappe's ignore_validate (a Data Import's "skip validation hooks"): the controller's
        # and the hooks' validate and before_* methods are skipped, types, mandatory values
        # and links are still checked.
        hooks = not self.flags.ignore_validate
        if action in ("save", "submit") and hooks:
            self.run_method("before_validate")
        self._coerce_all()
        self._fetch_from_links()
        checked = self._snapshot()
        if action in ("save", "submit") and hooks:
            self.run_method("validate")
        for tf in self.meta.table_fields:
            for row in self.get(tf.fieldname) if hooks else ():
                row.run_method("validate")
        self._set_parent_links()  # rows a controller appended need their parent and name
        self._coerce_all(unless_unchanged=checked)  # values a controller set are checked like any other
        self._check_rows()
        before = {"save": "before_save", "submit": "before_submit", "cancel": "before_cancel",
                  "update_after_submit": "before_update_after_submit"}[action]
        if hooks:
            self.run_method(before)

    def _fetch_from_links(self):
        """Frappe's ``fetch_from`` ("link_field.remote_field"): a new document, or one whose
        link changed, takes the linked document's value (with ``fetch_if_empty`` only
        into an empty field); an unchanged link leaves the field as it is. The value is
        coerced and checked with the document's own afterwards."""
        before = self._doc_before_save
        for df, link, link_df, remote in _fetched_fields(self.meta):
            if df.fetch_if_empty and self.get(df.fieldname) not in (None, ""):
                continue
            value = self.get(link)
            if before is not None and before.get(link) == value:
                continue
            target = get_meta(link_df.options)
            if not (target.has_field(remote) or remote in STANDARD_FIELDS):  # identifiers only from metadata
                continue
            self.set(df.fieldname, local.db.get_value(link_df.options, value, remote) if value else None)

    def _snapshot(self):
        """The values each document holds after coercion (the objects themselves, so
        an identity test is sound), keyed by the document's id: the second pass
        re-checks only what a controller replaced."""
        docs = [self] + [row for tf in self.meta.table_fields for row in self.get(tf.fieldname)]
        return {id(d): {df.fieldname: d.__dict__.get(df.fieldname) for df in d.meta.data_fields} for d in docs}

    def _coerce_all(self, unless_unchanged=None):
        self._coerce_values(unchanged=(unless_unchanged or {}).get(id(self)))
        for tf in self.meta.table_fields:
            for row in self.get(tf.fieldname):
                row._coerce_values(parent_label=tf.label or tf.fieldname,
                                   unchanged=(unless_unchanged or {}).get(id(row)))

    def _check_rows(self):
        self._check_values()
        for tf in self.meta.table_fields:
            for row in self.get(tf.fieldname):
                row._check_values(parent_label=tf.label or tf.fieldname)

    def _coerce_values(self, parent_label=None, unchanged=None):
        """Coerce every value to its type and check it (options, length); errors name
        the field, and the child row for rows. ``unchanged`` maps fieldnames to values
        already checked: a field still holding that very object is skipped."""
        meta = self.meta
        d = self.__dict__
        empty_ok = _empty_stays_empty(meta)
        try:
            for fieldname, df, ftype, _, _ in _columns(meta):
                value = d.get(fieldname)
                if unchanged is not None and fieldname in unchanged and unchanged[fieldname] is value:
                    continue
                if value is None and fieldname in empty_ok:
                    d[fieldname] = None  # most of a wide DocType's fields are empty: no call per field
                    continue
                value = ftype.coerce(value, df)
                ftype.validate(value, df)
                d[fieldname] = value
            for tf in meta.table_fields:
                rows = registry[tf.fieldtype].coerce(d.get(tf.fieldname), tf)
                if any(not isinstance(r, Document) for r in rows):
                    self.set(tf.fieldname, rows)
        except ValidationError as e:
            if parent_label:
                e.message = f"{parent_label} row {self.idx}: " + e.message
                e.args = (e.message,)
            raise

    def _check_values(self, parent_label=None):
        prefix = f"{parent_label} row {self.idx}: " if parent_label else ""
        if not self.flags.ignore_mandatory:
            self._check_mandatory(prefix)
        if not self.flags.ignore_links:
            self._check_links(prefix)

    def _check_mandatory(self, prefix):
        missing = []
        for df in self.meta.mandatory_fields:
            required = df.get("reqd") or (df.get("mandatory_depends_on")
                                         and evaluate(df.mandatory_depends_on, self))
            if not required:
                continue
            if df.get("depends_on") and not evaluate(df.depends_on, self):
                continue  # a hidden field is never required
            value = self.get(df.fieldname)
            if registry[df.fieldtype].is_empty(value):
                missing.append(df)
        if missing:
            labels = ", ".join(df.label or df.fieldname for df in missing)
            raise MandatoryError(f"{prefix}{self.doctype}: value missing for {labels}",
                                 field=missing[0].fieldname, doctype=self.doctype)

    def _check_links(self, prefix):
        for df in self.meta.reference_fields:
            value = self.get(df.fieldname)
            check = getattr(registry.get(df.fieldtype), "check_reference", None)
            if value and check is not None:
                check(value, df, self, get_meta, prefix)

    def _check_permlevel_changes(self, previous):
        if self.flags.ignore_permissions:
            return
        writable = get_permlevels(self.doctype, "write", doc=previous)
        for df in self.meta.data_fields:
            level = int(df.get("permlevel") or 0)
            if level in writable:
                continue
            if _values_differ(previous.get(df.fieldname), self.get(df.fieldname), df):
                raise PermissionError(f"Not permitted to change {df.label or df.fieldname}",
                                      field=df.fieldname, doctype=self.doctype)

    def _check_permlevel_on_create(self):
        """A new document may carry values only in fields the user may write (or the
        field's default)."""
        if self.flags.ignore_permissions or local.user == "Administrator":
            return
        writable = get_permlevels(self.doctype, "write") | {0}
        for df in self.meta.data_fields:
            if int(df.get("permlevel") or 0) in writable:
                continue
            default = registry[df.fieldtype].default(df)
            if _values_differ(default, self.get(df.fieldname), df):
                raise PermissionError(f"Not permitted to set {df.label or df.fieldname}",
                                      field=df.fieldname, doctype=self.doctype)

    def _check_allowed_on_submit(self, previous):
        for df in self.meta.data_fields:
            if not df.get("allow_on_submit") and _values_differ(previous.get(df.fieldname),
                                                                self.get(df.fieldname), df):
                raise ValidationError(
                    f"{df.label or df.fieldname} cannot be changed after submission", field=df.fieldname)

    def _row(self, new=False):
        """The columns' values; for a ``new`` row, not the empty values of nullable columns:
        NULL is their default, and most of a wide DocType's fields are empty (every value
        is a bound parameter to escape, and a Data Import writes 100k rows)."""
        meta = self.meta
        d = self.__dict__
        row = {k: d.get(k) for k in STANDARD_FIELDS}
        row["docstatus"] = int(row["docstatus"] or 0)
        row["idx"] = int(row["idx"] or 0)
        if meta.istable:
            for k in CHILD_FIELDS:
                row[k] = d.get(k)
        for fieldname, df, ftype, converts, nullable in _columns(meta):
            value = d.get(fieldname)
            if value is not None:
                row[fieldname] = ftype.to_db(value, df) if converts else value
            elif not (new and nullable):
                row[fieldname] = None
        if d.get("_assign") is not None:
            row["_assign"] = d["_assign"]
        return row

    def _db_insert(self):
        db = local.db
        forget_records(self.doctype)
        try:
            db.insert_row(self.doctype, self._row(new=True))
        except Exception as e:  # noqa: BLE001 - translated to a named error
            self._raise_if_duplicate(e)
            raise
        for tf in self.meta.table_fields:
            for row in self.get(tf.fieldname):
                row._db_insert()

    def _db_update(self, previous_modified):
        db = local.db
        forget_records(self.doctype)
        row = self._row()
        name = row.pop("name")
        row.pop("owner")
        row.pop("creation")
        cols = list(row)
        sets = ", ".join(f"`{c}`=%s" for c in cols)
        try:
            cursor = db.sql_cursor(f"UPDATE `tab{self.doctype}` SET {sets} WHERE `name`=%s AND `modified`=%s",
                                   [row[c] for c in cols] + [name, previous_modified])
        except Exception as e:  # noqa: BLE001
            self._raise_if_duplicate(e)
            raise
        if cursor.rowcount == 0:
            # Someone saved between our read and our write: refuse rather than overwrite.
            raise TimestampMismatchError(f"{self.doctype} {self.name} was changed while you saved it; reload it",
                                         doctype=self.doctype)
        for tf in self.meta.table_fields:
            child = tf.options
            db.sql(f"DELETE FROM `tab{child}` WHERE `parent`=%s AND `parenttype`=%s AND `parentfield`=%s",
                   (self.name, self.doctype, tf.fieldname))
            for r in self.get(tf.fieldname):
                r._db_insert()

    def _raise_if_duplicate(self, exc):
        db = local.db
        m = _MARIADB_DATA_RE.search(str(exc)) if db.db_type == "mariadb" else None
        if m:
            df = self.meta.get_field(m.group(2))
            label = (df and df.label) or m.group(2)
            from .exceptions import DataError
            raise DataError(f"{label}: the value is {'too long' if m.group(1) == 'too long' else 'out of range'}"
                            " for this field", field=m.group(2), doctype=self.doctype) from exc
        if not db.is_unique_violation(exc):
            return
        text = str(exc)
        m = _SQLITE_UNIQUE_RE.search(text) if db.db_type == "sqlite" else _MARIADB_UNIQUE_RE.search(text)
        key = m.group(1) if m else "name"
        unique_columns = {name: cols[0] for name, cols, unique in wanted_indexes(self.meta) if unique}
        fieldname = unique_columns.get(key, key)  # index names are cut to 64 characters
        if fieldname in ("name", "PRIMARY"):
            raise DuplicateEntryError(f"{self.doctype} {self.name!r} already exists", field="name",
                                      doctype=self.doctype) from exc
        df = self.meta.get_field(fieldname)
        label = (df and df.label) or fieldname
        raise UniqueValidationError(
            f"{label}: {self.get(fieldname)!r} is already used by another {self.doctype}",
            field=fieldname, doctype=self.doctype) from exc

    def _save_single(self):
        db = local.db
        self.name = self.doctype
        exists = db.exists(self.doctype, self.name)
        self._set_defaults() if not exists else None
        previous = load_doc(self.doctype, self.name) if exists else None
        self._doc_before_save = previous
        if previous is not None:
            self.owner, self.creation = previous.owner, previous.creation
            self._check_write_permission(previous, "write")
        else:
            self.check_permission("write")
        self._set_standard_fields(new=not exists)
        self._set_parent_links()
        self._validate_all("save")
        if exists:
            self._db_update(previous.modified)
        else:
            self._db_insert()
        self.run_method("on_update")
        self.run_method("on_change")
        if self.meta.track_changes and previous is not None and not self.flags.ignore_version:
            versions.record(previous, self)
        return self


def _per_meta(meta, key, build):
    """``build(meta)``, kept on the metadata object: found once per metadata version, not on
    every save (a new version is a new object)."""
    found = meta.__dict__.get(key)
    if found is None:
        found = meta.__dict__[key] = build(meta)
    return found


def _columns(meta):
    """[(fieldname, field, its type, whether the type converts values for the database,
    nullable)] of the columns of ``meta``'s fields (every write coerces and stores each)."""
    def build(meta):
        out = []
        for df in meta.data_fields:
            ftype = registry[df.fieldtype]
            out.append((df.fieldname, df, ftype, type(ftype).to_db is not FieldType.to_db, ftype.nullable))
        return out
    return _per_meta(meta, "_columns", build)


def _fetched_fields(meta):
    """[(field, link fieldname, link field, remote fieldname)] of the fields of ``meta`` that
    fetch from a link (every save asks)."""
    def build(meta):
        out = []
        for df in meta.data_fields:
            link, _, remote = (df.fetch_from or "").partition(".")
            link_df = meta.get_field(link) if remote else None
            if link_df is not None and links_to(link_df):
                out.append((df, link, link_df, remote))
        return out
    return _per_meta(meta, "_fetched_fields", build)


def _empty_stays_empty(meta):
    """The fields of ``meta`` whose type coerces None to None and accepts it (an empty field
    is then left as it is without asking the type)."""
    def build(meta):
        out = set()
        for df in meta.data_fields:
            ftype = registry[df.fieldtype]
            try:
                if ftype.coerce(None, df) is None:
                    ftype.validate(None, df)
                    out.add(df.fieldname)
            except Exception:  # noqa: BLE001 - a type that refuses None is asked every time, as before
                pass
        return out
    return _per_meta(meta, "_empty_stays_empty", build)


def _resolve_default(value):
    if value == "__user":
        return local.user
    return value


def _values_differ(a, b, df):
    if a in (None, "") and b in (None, ""):
        return False
    try:
        return registry[df.fieldtype].coerce(a, df) != registry[df.fieldtype].coerce(b, df)
    except ValidationError:
        return True


# -- records about another document -----------------------------------------------------------

def check_reference(doc, type_field, name_field, ptype="read"):
    """Records about another document (a ToDo, a Comment, a File) are written only by users
    who may ``ptype`` that document, as it is stored. A reference that does not exist
    is left to the link check, which names the field."""
    doctype, name = doc.get(type_field), doc.get(name_field)
    if doc.flags.ignore_permissions or not doctype or not name:
        return
    try:
        target = load_doc(doctype, name)
    except DoesNotExistError:
        return
    if not has_permission(doctype, ptype, doc=target):
        raise PermissionError(f"Not permitted: {ptype} {doctype} {name}", field=name_field, doctype=doctype)


# -- controllers: the class of each DocType's documents --------------------------------------

_site_controllers = {}  # site -> {doctype: class}, until the metadata changes


@receiver(metadata_changed)
def _metadata_changed(sender, site, **kwargs):
    _site_controllers.pop(site, None)  # apps or their override_doctype_class hooks may have changed


@functools.lru_cache(maxsize=None)
def _controller_modules(apps):
    index = {}
    for app in apps:
        for path, module in app_doctype_files(app):
            index[os.path.basename(os.path.dirname(path))] = module
    return index


def get_controller(doctype):
    controllers = _site_controllers.setdefault(local.site, {})
    cls = controllers.get(doctype)
    if cls is not None:
        return cls
    overrides = get_hooks("override_doctype_class", {}).get(doctype)
    if overrides:
        cls = get_attr(overrides[-1])
    else:
        cls = Document
        module = _controller_modules(tuple(get_installed_apps())).get(scrub(doctype))
        if module:
            try:
                mod = importlib.import_module(module)
            except ModuleNotFoundError as e:
                if e.name != module:
                    raise
                mod = None
            cls = getattr(mod, doctype.replace(" ", "").replace("-", ""), Document) if mod else Document
    controllers[doctype] = cls
    return cls


# -- loading ------------------------------------------------------------------------------

def _build(doctype, row, meta):
    cls = get_controller(doctype)
    doc = cls.__new__(cls)
    doc.doctype = doctype
    doc.flags = Obj()
    doc._meta = meta
    doc._doc_before_save = None
    for df in meta.from_db_fields:
        if row.get(df.fieldname) is not None:
            row[df.fieldname] = registry[df.fieldtype].from_db(row[df.fieldname], df)
    doc.__dict__.update(row)
    return doc


def load_doc(doctype, name, for_update=False):
    db = local.db
    meta = get_meta(doctype)
    if meta.issingle:
        name = doctype
    if not isinstance(name, (str, int)) or isinstance(name, bool):  # e.g. a list from a client
        raise ValidationError(f"{doctype}: a document name must be text, got {type(name).__name__}", field="name")
    lock = " FOR UPDATE" if for_update and db.db_type == "mariadb" else ""
    rows = db.sql(f"SELECT * FROM `tab{doctype}` WHERE `name`=%s{lock}", (name,), as_dict=True)
    if not rows:
        if meta.issingle:
            doc = new_doc(doctype)
            doc.name = doctype
            return doc
        raise DoesNotExistError(f"{doctype} {name!r} not found", doctype=doctype)
    doc = _build(doctype, rows[0], meta)
    for tf in meta.table_fields:
        child_meta = get_meta(tf.options)
        children = db.sql(f"SELECT * FROM `tab{tf.options}` WHERE `parent`=%s AND `parenttype`=%s "
                          "AND `parentfield`=%s ORDER BY `idx`", (doc.name, doctype, tf.fieldname), as_dict=True)
        doc.__dict__[tf.fieldname] = [_build(tf.options, r, child_meta) for r in children]
    for key in HIDDEN_FIELDS:
        if key in doc.__dict__ and key != "_assign":
            doc.__dict__.pop(key)
    return doc


def new_doc(doctype, **values):
    cls = get_controller(doctype)
    doc = cls({"doctype": doctype, "docstatus": 0})
    doc._set_defaults()
    doc.update(values)
    return doc


def get_doc(*args, **kwargs):
    """get_doc(dict) builds a new document; get_doc(doctype, name) loads one;
    get_doc(doctype) loads a single DocType's document."""
    if args and isinstance(args[0], dict):
        data = dict(args[0])
        doctype = data.get("doctype")
        if not doctype:
            raise ValidationError("doctype is required", field="doctype")
        return get_controller(doctype)(data)
    if args and isinstance(args[0], Document):
        return args[0]
    doctype = args[0] if args else kwargs.get("doctype")
    name = args[1] if len(args) > 1 else kwargs.get("name")
    if name is None and not get_meta(doctype).issingle:
        raise ValidationError(f"{doctype}: a name is required", field="name")
    if isinstance(name, dict):
        found = get_all(doctype, filters=name, fields=["name"], limit_page_length=1, pluck="name")
        if not found:
            raise DoesNotExistError(f"{doctype} matching {name} not found", doctype=doctype)
        name = found[0]
    return load_doc(doctype, name, for_update=kwargs.get("for_update", False))


# -- deleting (links.py: what links to a document; rename.py: renaming) ---------------------

def delete_doc(doctype, name, doc=None, ignore_permissions=False, force=False):
    db = local.db
    check = not (ignore_permissions or (doc is not None and doc.flags.ignore_permissions))
    # The stored row decides, not values changed in memory on ``doc``.
    stored = load_doc(doctype, name) if doc is None or check else doc
    doc = doc or stored
    if ignore_permissions:
        doc.flags.ignore_permissions = True
    if check:
        stored.check_permission("delete")
    if doc.meta.issingle:
        raise ValidationError(f"{doctype} is a single DocType and cannot be deleted")
    if int(doc.docstatus or 0) == 1:
        raise ValidationError(f"{doctype} {name} is submitted: cancel it before deleting it", field="docstatus")
    doc.run_method("on_trash")
    forget_records(doctype)
    if not force:
        links.check_no_links(doc)
        links.check_no_dynamic_links(doc)
    for tf in doc.meta.table_fields:
        db.sql(f"DELETE FROM `tab{tf.options}` WHERE `parent`=%s AND `parenttype`=%s", (doc.name, doctype))
    db.sql(f"DELETE FROM `tab{doctype}` WHERE `name`=%s", (doc.name,))
    if doctype != "DocShare" and db.table_exists("DocShare"):
        db.sql("DELETE FROM `tabDocShare` WHERE `share_doctype`=%s AND `share_name`=%s", (doctype, doc.name))
    doc.run_method("after_delete")

