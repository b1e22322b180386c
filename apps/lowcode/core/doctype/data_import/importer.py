"""Data Import's engine: a file's columns mapped to a DocType's fields, its rows read into
documents (cells checked one by one, so a preview names every bad cell), and the import
itself, each document through Document.insert/save in its own savepoint.

Rows follow Frappe's layout: a row with parent values starts a document; the rows below
it whose parent columns are all empty add child-table rows to it. Row numbers are the
file's (the header is row 1).

Cells are normalised before their field type coerces them: Persian and Arabic digits to
ASCII in numbers, dates and phone numbers, and dates typed in the Jalali calendar
(1403/05/12: a year before 1700, or every date when the import says Jalali) turned
Gregorian with jdatetime."""
import datetime
import logging
import re
import traceback
from dataclasses import dataclass, field

import jdatetime

from lowcode.context import local
from lowcode.exceptions import LowcodeError, PermissionError, ValidationError
from lowcode.fields import registry
from lowcode.fields.base import ascii_digits
from lowcode.meta import get_meta
from lowcode.search_text import normalise

from .template import Column, importable_fields

log = logging.getLogger("lowcode.data_import")
INSERT, UPDATE = "Insert New Records", "Update Existing Records"
LANGUAGES = ("en", "fa", "he")
_DATE = re.compile(r"^(\d{1,4})[/\-.](\d{1,2})[/\-.](\d{1,4})(.*)$")


# -- mapping --------------------------------------------------------------------------------------

def _labels(label):
    """``label`` as written in each language the desk speaks (the site's translations, then the catalog)."""
    from django.utils import translation
    from lowcode.i18n import translate
    found = {label}
    for lang in LANGUAGES[1:]:
        with translation.override(lang):
            found.add(translate(label))
    return found


def field_lookup(doctype):
    """{matching form of a header: Column} for every way a header may name a field of
    ``doctype``: its fieldname ("first_name", "items.qty" for a child table's), its label in
    English, Persian or Hebrew, a child's "Label (Table Label)" in any of them; "ID" is the name."""
    meta = get_meta(doctype)
    lookup = {}

    def add(keys, column):
        for key in keys:
            lookup.setdefault(normalise(key), column)

    add(["name", "ID"] + [f"{label}" for label in _labels("ID")], Column("ID", "name"))
    for df in importable_fields(meta):
        add([df.fieldname] + [lbl for lbl in _labels(df.label or df.fieldname)], Column(df.label, df.fieldname, None, df))
    for tf in meta.table_fields:
        child = get_meta(tf.options)
        table_labels = _labels(tf.label or tf.fieldname) | {tf.fieldname}
        add([f"{tf.fieldname}.name"] + [f"ID ({t})" for t in table_labels], Column(f"ID ({tf.label})", "name", tf))
        for df in importable_fields(child):
            column = Column(f"{df.label} ({tf.label})", df.fieldname, tf, df)
            labels = _labels(df.label or df.fieldname) | {df.fieldname}
            add([f"{tf.fieldname}.{df.fieldname}"] + [f"{lbl} ({t})" for lbl in labels for t in table_labels], column)
    return lookup


def targets(doctype):
    """{target ("fieldname" or "table.fieldname"): Column}: what a mapping may name."""
    return {c.target: c for c in field_lookup(doctype).values()}


def suggest_mapping(doctype, headers):
    """{header: target or None}: each header matched by fieldname or label (en, fa, he),
    ignoring case and spacing; None where nothing matches (shown, to map or skip)."""
    lookup = field_lookup(doctype)
    found, used = {}, set()
    for header in headers:
        column = lookup.get(normalise(header)) if header not in (None, "") else None
        if column is not None and column.target not in used:
            used.add(column.target)
            found[str(header)] = column.target
        else:
            found[str(header if header is not None else "")] = None
    return found


# -- cells ----------------------------------------------------------------------------------------

def normalise_cell(value, df, calendar="Auto"):
    """A cell as its field type expects it (None for an empty cell); see the module's notes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    ftype = registry[df.fieldtype]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value
    if ftype.ltr or ftype.numeric:  # (a Data field's phone numbers: the type's own coerce)
        value = ascii_digits(value) if isinstance(value, str) else value
        if isinstance(value, str) and ftype.numeric:
            value = value.replace("٫", ".")  # the Arabic decimal separator
    if ftype.dated and isinstance(value, str):
        value = gregorian(value, calendar)
    if isinstance(value, float) and value.is_integer() and not ftype.numeric:
        value = int(value)  # a spreadsheet's 9121234567.0 in a text or phone column
    return value


def gregorian(text, calendar="Auto"):
    """``text`` (a date, perhaps with a time) with a Jalali date made Gregorian ISO."""
    m = _DATE.match(text.strip())
    if not m:
        return text
    a, b, c, rest = m.groups()
    if len(c) == 4 and len(a) <= 2:  # 12/05/2024: day first, as Iran and Israel write it
        a, c = c, a
    year, month, day = int(a), int(b), int(c)
    jalali = calendar == "Jalali" or (calendar == "Auto" and year < 1700)
    try:
        date = jdatetime.date(year, month, day).togregorian() if jalali else datetime.date(year, month, day)
    except (ValueError, OverflowError):
        return text  # the field type refuses it, naming the field
    return date.isoformat() + rest


class _RowView:
    """What a Link's check reads of the document: its values, name and DocType."""

    def __init__(self, doctype, values):
        self.doctype, self.values, self.name = doctype, values, values.get("name")

    def get(self, key, default=None):
        return self.values.get(key, default)


# -- payloads -------------------------------------------------------------------------------------

@dataclass
class CellError:
    row: int
    column: str
    fieldname: str
    value: object
    message: str

    def as_dict(self):
        return {"row": self.row, "column": self.column, "fieldname": self.fieldname,
                "value": None if self.value is None else str(self.value), "message": self.message}


@dataclass
class Payload:
    """One document of the file: its values, the file rows it came from, its cells' errors."""
    rows: list
    values: dict
    errors: list = field(default_factory=list)
    raw: list = field(default_factory=list)  # the file's rows as read, for the failed-rows file


class Importer:
    def __init__(self, doctype, rows, mapping=None, import_type=INSERT, key_field="name",
                 duplicate_handling="Skip", calendar="Auto", check_cells=True, erp_mapping=None):
        # check_cells: coerce and check every cell here, naming each bad one (the preview);
        # the import leaves that to the document's insert, which does it anyway (and names
        # the first bad field), so no cell is checked twice.
        self.check_cells = check_cells
        # erp_mapping: a Data Import Mapping (another system's layout): its columns instead
        # of suggestions, its value maps, separators, calendar and key; its documents submitted
        self.erp = erp_mapping
        if erp_mapping is not None:
            calendar, key_field = erp_mapping.calendar or "Gregorian", erp_mapping.key_field or "name"
        self.doctype, self.meta = doctype, get_meta(doctype)
        if self.meta.istable or self.meta.issingle:
            raise ValidationError(f"reference_doctype: {doctype} is a child table or a single DocType and "
                                  "cannot be imported", field="reference_doctype")
        self.header = [("" if h is None else str(h)) for h in rows[0]]
        self.data = rows[1:]
        self.import_type, self.calendar = import_type, calendar or "Auto"
        self.key_field = key_field or "name"
        self.duplicate_handling = duplicate_handling or "Skip"
        if self.key_field != "name" and not self.meta.has_field(self.key_field):
            raise ValidationError(f"key_field: {doctype} has no field {self.key_field!r}", field="key_field")
        self.mapping = self._mapping(mapping)
        known = targets(doctype)
        self.columns = [(i, known[t]) for i, t in enumerate(self.mapping.values()) if t]
        self.unmapped = [h for h, t in self.mapping.items() if not t]
        self._links = {}

    def _mapping(self, given):
        suggested = self.erp.column_map(self.header) if self.erp is not None else \
            suggest_mapping(self.doctype, self.header)
        if given:
            known = targets(self.doctype)
            for header, target in given.items():
                if header not in suggested:
                    raise ValidationError(f"template_options: no column {header!r} in the file",
                                          field="template_options")
                if target and target not in known:
                    raise ValidationError(f"template_options: {header!r} maps to {target!r}, which is no "
                                          f"field of {self.doctype}", field="template_options")
                suggested[header] = target or None
        chosen = [t for t in suggested.values() if t]
        twice = {t for t in chosen if chosen.count(t) > 1}
        if twice:
            raise ValidationError(f"template_options: several columns map to {', '.join(sorted(twice))}",
                                  field="template_options")
        return suggested

    # -- reading rows into documents --
    def payloads(self, limit=None):
        """Yield each document of the file as a Payload (at most ``limit``)."""
        current, count = None, 0
        parent_cols = [(i, c) for i, c in self.columns if c.table_field is None]
        for offset, raw in enumerate(self.data):
            row_no = offset + 2
            raw = list(raw) + [None] * (len(self.header) - len(raw))
            if not any(_filled(v) for v in raw):
                continue
            starts = current is None or any(_filled(raw[i]) for i, _ in parent_cols)
            if starts:
                if current is not None:
                    yield self._finish(current)
                    count += 1
                    if limit is not None and count >= limit:
                        return
                current = Payload(rows=[row_no], values={"doctype": self.doctype}, raw=[raw])
            else:
                current.rows.append(row_no)
                current.raw.append(raw)
            self._read_row(current, raw, row_no)
        if current is not None and (limit is None or count < limit):
            yield self._finish(current)

    def _read_row(self, payload, raw, row_no):
        children = {}
        for i, column in self.columns:
            value = raw[i]
            if column.table_field is not None:
                if _filled(value):
                    children.setdefault(column.table_field.fieldname, {})[column.fieldname] = \
                        self._cell(payload, row_no, column, value)
                continue
            if row_no == payload.rows[0] and _filled(value):
                payload.values[column.fieldname] = self._cell(payload, row_no, column, value)
        for table, values in children.items():
            values["_row"] = row_no
            payload.values.setdefault(table, []).append(values)

    def _cell(self, payload, row_no, column, value):
        if column.df is None:  # the name
            return str(int(value) if isinstance(value, float) and value.is_integer() else value).strip()
        df = column.df
        if self.erp is not None:
            value = self.erp.incoming(column.target, df, value)
        if not self.check_cells:  # the document checks them (and names the field) on insert
            try:
                return normalise_cell(value, df, self.calendar)
            except LowcodeError as e:
                payload.errors.append(CellError(row_no, self.header_of(column), column.target, value, e.message))
                return None
        try:
            value = normalise_cell(value, df, self.calendar)
            ftype = registry[df.fieldtype]
            coerced = ftype.coerce(value, df)
            ftype.validate(coerced, df)
            if coerced not in (None, "") and ftype.link and not ftype.options_field:
                self._check_link(coerced, df)
            return coerced
        except LowcodeError as e:
            payload.errors.append(CellError(row_no, self.header_of(column), column.target, value, e.message))
            return None

    def _check_link(self, value, df):
        key = (df.options, value)
        if key not in self._links:
            try:
                registry[df.fieldtype].check_reference(value, df, _RowView(self.doctype, {}), get_meta)
                self._links[key] = None
            except LowcodeError as e:
                self._links[key] = e
        if self._links[key] is not None:
            raise self._links[key]

    def header_of(self, column):
        for i, c in self.columns:
            if c is column:
                return self.header[i]
        return column.header

    def _finish(self, payload):
        if self.import_type == INSERT and self.check_cells:
            self._check_mandatory(payload)
        return payload

    def _check_mandatory(self, payload):
        """A required field with no value and no default, per document and child row (Frappe
        would say so on insert; the preview says it per row before)."""
        def missing(meta, values, row_no, table=None):
            for df in meta.data_fields:
                if not df.get("reqd") or df.get("depends_on") or df.get("mandatory_depends_on"):
                    continue
                if values.get(df.fieldname) not in (None, "") or registry[df.fieldtype].default(df) is not None:
                    continue
                if any(e.fieldname.split(".")[-1] == df.fieldname for e in payload.errors if e.row == row_no):
                    continue  # its cell was already refused
                target = f"{table.fieldname}.{df.fieldname}" if table is not None else df.fieldname
                column = next((self.header[i] for i, c in self.columns if c.target == target), None)
                label = f"{df.label} ({table.label})" if table is not None else df.label
                payload.errors.append(CellError(row_no, column or label, target, None,
                                                f"{label}: value missing (mandatory)"))
        missing(self.meta, payload.values, payload.rows[0])
        for tf in self.meta.table_fields:
            for child in payload.values.get(tf.fieldname) or []:
                missing(get_meta(tf.options), child, child["_row"], tf)

    # -- preview --
    def preview(self, limit=20):
        """The first ``limit`` documents checked cell by cell, nothing written: the columns
        (with their fields), each file row's cells, and every error."""
        columns = [{"index": i, "header": h, "target": self.mapping.get(h)} for i, h in enumerate(self.header)]
        rows, errors = [], []
        for payload in self.payloads(limit=limit):
            for row_no, raw in zip(payload.rows, payload.raw):
                rows.append({"row": row_no, "cells": [None if v is None else str(v) for v in raw]})
            errors += [e.as_dict() for e in payload.errors]
        return {"doctype": self.doctype, "columns": columns, "rows": rows, "errors": errors,
                "unmapped": self.unmapped, "payload_count": self.count()}

    def count(self):
        """How many documents the file holds (rows that start one), without reading the cells."""
        parent = [i for i, c in self.columns if c.table_field is None]
        found, started = 0, False
        for raw in self.data:
            if any(_filled(raw[i]) for i in parent if i < len(raw)):
                found, started = found + 1, True
            elif not started and any(_filled(v) for v in raw):
                found, started = 1, True  # child values before any parent value start a document
        return found

    # -- import --
    def check_permission(self):
        """The importing user must be allowed to create (insert) or write (update) the
        DocType, else a 403 naming it before anything is written."""
        from lowcode.permissions import has_permission
        ptype = "create" if self.import_type == INSERT else "write"
        if not has_permission(self.doctype, ptype):
            raise PermissionError(f"Not permitted: you may not {ptype} {self.doctype}, so you cannot import it",
                                  doctype=self.doctype)

    def import_payload(self, payload, flags=None):
        """Write one document; returns (docname, skipped). Errors are raised, the caller's
        savepoint undoes them."""
        values = {k: ([{f: v for f, v in c.items() if f != "_row"} for c in val] if isinstance(val, list) else val)
                  for k, val in payload.values.items()}
        existing = self._existing(values)
        from lowcode.document import get_doc
        if self.import_type == UPDATE:
            if existing is None:
                key = values.get(self.key_field)
                raise ValidationError(f"{self._key_label()}: no {self.doctype} {key!r} to update",
                                      field=self.key_field)
            doc = get_doc(self.doctype, existing)
        elif existing is not None and self.duplicate_handling == "Skip":
            return existing, True
        elif existing is not None and self.duplicate_handling == "Update":
            doc = get_doc(self.doctype, existing)
        else:
            if self.erp is not None and self.erp.external_system and self.meta.has_field("external_system"):
                values.setdefault("external_system", self.erp.external_system)
            doc = get_doc(values)
            _set_flags(doc, flags)
            doc.insert()
            if self._submits():
                doc.submit()
            return doc.name, False
        if int(doc.docstatus or 0) != 0 and self._submits():
            return doc.name, True  # the other system's submitted record is here already: kept as it is
        values.pop("doctype", None)
        values.pop("name", None)
        doc.update(values)
        _set_flags(doc, flags)
        doc.flags.ignore_stale = True
        return doc.save().name, False

    def _submits(self):
        return self.erp is not None and int(self.erp.submit_after_import or 0) and self.meta.is_submittable

    def _existing(self, values):
        key = values.get(self.key_field)
        if key in (None, ""):
            return None
        if self.key_field == "name":
            return key if local.db.exists(self.doctype, key) else None
        from lowcode import db
        filters = {self.key_field: key}
        if self.meta.is_submittable:  # a cancelled document is history: the row is a new version
            filters["docstatus"] = ["<", 2]
        return db.get_value(self.doctype, filters, "name")

    def _key_label(self):
        df = self.meta.get_field(self.key_field)
        return (df.label if df is not None else None) or self.key_field

    def error_column(self, exc, payload):
        """The file column an error from the document path is about (its field), if mapped."""
        fieldname = getattr(exc, "field", None)
        if not fieldname:
            return None
        for i, c in self.columns:
            if c.fieldname == fieldname:
                return self.header[i]
        return None


def _filled(value):
    return value is not None and not (isinstance(value, str) and not value.strip())


def _set_flags(doc, flags):
    for key, value in (flags or {}).items():
        setattr(doc.flags, key, value)
        for tf in doc.meta.table_fields:
            for row in doc.get(tf.fieldname) or []:
                setattr(row.flags, key, value)


def row_error(exc):
    """(message, exception) for a row that failed: the engine's own errors and the values
    the database refused are the row's; an error after which the transaction may be gone
    (a deadlock, a lost connection) is raised, stopping the import; any other failure (a
    controller's bug) is the row's too, logged with its traceback."""
    from lowcode.client import _row_error
    from lowcode.database import error_kind
    if isinstance(exc, LowcodeError):
        return exc.message
    if error_kind(exc) is not None:
        return _row_error(exc).message
    log.error("data import: a row failed\n%s", traceback.format_exc())
    return f"{type(exc).__name__}: {exc}"
