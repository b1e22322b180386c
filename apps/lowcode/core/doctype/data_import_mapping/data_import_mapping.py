"""Data Import Mapping: how another system's files (an outside ERP's customers, products,
invoices) are laid out, so they can be imported and exported again in that layout.

A mapping names the file's headers (any language) and the field each fills ("items.qty"
for a child table's, Frappe's column style), value maps (the other system's codes and
words -> ours), the key a re-import finds its record by (``external_id``), the calendar
of its dates and its number separators. A Data Import that picks a mapping reads its file
through it (importer.py) instead of guessing columns; ``export_data`` writes records in
the same layout, so an export imported again gives the same records. A Link to a DocType
with an ``external_id`` (an invoice's customer, a line's product) is read and written as
the linked record's code in the other system."""
import datetime

import jdatetime

from lowcode import db
from lowcode.document import Document, get_doc
from lowcode.exceptions import PermissionError, ValidationError
from lowcode.fields import registry
from lowcode.fields.base import ascii_digits
from lowcode.meta import get_meta
from lowcode.client import doc_for_user
from lowcode.permissions import get_permlevels, has_permission
from lowcode.search_text import normalise

EXTERNAL_ID = "external_id"  # the field a record's code in the other system is kept in
DECIMAL_SEPARATORS = (".", ",", "٫", "/")
THOUSANDS_SEPARATORS = ("", ",", ".", " ", "٬", "'", "’")


def _key(value):
    """The matching form of a header or an external code (case, spacing and digits aside)."""
    return normalise(ascii_digits(str(value))) if value not in (None, "") else ""


class DataImportMapping(Document):
    def validate(self):
        from lowcode.core.doctype.data_import.data_import import importable_meta
        from lowcode.core.doctype.data_import.importer import targets
        meta = importable_meta(self.reference_doctype)
        known = targets(self.reference_doctype)
        headers, fields = set(), set()
        for row in self.get("columns") or []:
            if row.field not in known:
                raise ValidationError(f"columns: row {row.idx} maps to {row.field!r}, which is no field of "
                                      f"{self.reference_doctype}", field="columns")
            if _key(row.external_column) in headers or row.field in fields:
                raise ValidationError(f"columns: row {row.idx} repeats a column or a field ({row.external_column!r}"
                                      f" -> {row.field!r})", field="columns")
            headers.add(_key(row.external_column))
            fields.add(row.field)
        for row in self.get("value_maps") or []:
            if row.field not in fields:
                raise ValidationError(f"value_maps: row {row.idx} is for {row.field!r}, which no column maps",
                                      field="value_maps")
        key = self.key_field or "name"
        if key != "name" and not meta.has_field(key):
            raise ValidationError(f"key_field: {self.reference_doctype} has no field {key!r}", field="key_field")
        if key != "name" and key not in fields:
            raise ValidationError(f"key_field: no column maps {key!r}", field="key_field")
        if (self.decimal_separator or ".") not in DECIMAL_SEPARATORS:
            raise ValidationError(f"decimal_separator: one of {' '.join(DECIMAL_SEPARATORS)}",
                                  field="decimal_separator")
        if (self.thousands_separator or "") not in THOUSANDS_SEPARATORS or \
                (self.thousands_separator or "") == (self.decimal_separator or "."):
            raise ValidationError("thousands_separator: a separator other than the decimal one",
                                  field="thousands_separator")

    # -- import --
    def column_map(self, headers):
        """{header: target or None} for a file's headers: the mapping's columns; any other
        header is left out (None)."""
        by_key = {_key(row.external_column): row.field for row in self.get("columns") or []}
        return {str(h if h is not None else ""): by_key.get(_key(h)) for h in headers}

    def _value_maps(self):
        maps = {}
        for row in self.get("value_maps") or []:
            maps.setdefault(row.field, {})[_key(row.external_value)] = row.value if row.value not in ("",) else None
        return maps

    def incoming(self, target, df, value):
        """A cell as read from the other system's file, made ours: its code through the
        value map, its number without the thousands separator and with a "." for decimals."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return value
        if self.flags.get("value_maps") is None:  # read once per import
            self.flags.value_maps = self._value_maps()
        found = self.flags.value_maps.get(target)
        if found is not None and _key(value) in found:
            return found[_key(value)]
        if _links_by_external_id(df):
            return _name_by_external_id(df.options, value) or value
        if isinstance(value, str) and target in (EXTERNAL_ID, self.key_field):
            return ascii_digits(value.strip())  # a code is kept in ASCII digits, found again whoever typed it
        if isinstance(value, str) and registry[df.fieldtype].numeric:
            text = ascii_digits(value.strip())
            thousands, decimal = self.thousands_separator or "", self.decimal_separator or "."
            if thousands:
                text = text.replace(thousands, "")
            text = text.replace("٬", "")  # the Arabic thousands separator is never a decimal one
            if decimal != ".":
                text = text.replace(decimal, ".")
            return text
        return value

    # -- export --
    def outgoing(self, target, df, value):
        """A stored value as the other system writes it: our value through the value map
        (its first code), a date in the mapping's calendar, a number with its decimal separator."""
        if value in (None, ""):
            return None
        for row in self.get("value_maps") or []:
            if row.field == target and str(row.value or "") == str(value):
                return row.external_value
        if _links_by_external_id(df):
            return db.get_value(df.options, value, EXTERNAL_ID) or value
        ftype = registry[df.fieldtype]
        if ftype.dated:
            return _date_out(value, self.calendar)
        if ftype.numeric:
            number = float(value)
            text = str(int(number)) if number.is_integer() else repr(number)
            return text.replace(".", self.decimal_separator) if (self.decimal_separator or ".") != "." else text
        return value


def _links_by_external_id(df):
    """A Link to a DocType with an ``external_id`` (Customer, Product): the other system
    names its records by their codes there."""
    ftype = registry[df.fieldtype]
    return bool(ftype.link and not ftype.options_field and df.options and get_meta(df.options).has_field(EXTERNAL_ID))


def _name_by_external_id(doctype, code):
    return db.get_value(doctype, {EXTERNAL_ID: ascii_digits(str(code).strip())}, "name")


def _date_out(value, calendar):
    """A date (or a date and time) as the other system writes it: 1403/05/12 in Jalali,
    ISO otherwise; a time, if any, after it as stored ("1403/05/12 14:30:00")."""
    text = value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else str(value)
    day, time = text[:10], text[10:].split(".")[0]
    if calendar == "Jalali":
        day = jdatetime.date.fromgregorian(date=datetime.date.fromisoformat(day)).strftime("%Y/%m/%d")
    return day + time


def export_rows(mapping, filters=None):
    """The records of the mapping's DocType the user may read, as rows in the other
    system's layout (its headers first; a document's child rows below it, Frappe's style)."""
    from lowcode.core.doctype.data_import.importer import targets
    from lowcode.query import get_list
    doctype = mapping.reference_doctype
    if not has_permission(doctype, "export"):
        raise PermissionError(f"Not permitted: you may not export {doctype}", doctype=doctype)
    known = targets(doctype)
    columns = [(row.external_column, row.field, known[row.field]) for row in mapping.get("columns") or []]
    _check_readable(doctype, columns)
    rows = [[c[0] for c in columns]]
    names = get_list(doctype, filters=filters or {}, fields=["name"], order_by="creation asc, name asc",
                     limit_page_length=0, pluck="name")
    tables = sorted({c[2].table_field.fieldname for c in columns if c[2].table_field is not None})
    for name in names:
        doc = doc_for_user(get_doc(doctype, name))  # a field above the user's permission level is not there
        children = {t: doc.get(t) or [] for t in tables}
        lines = max([1] + [len(v) for v in children.values()])
        for i in range(lines):
            row = []
            for _header, target, column in columns:
                if column.table_field is None:
                    value = doc.get(column.fieldname) if i == 0 else None
                else:
                    child = children[column.table_field.fieldname]
                    value = child[i].get(column.fieldname) if i < len(child) else None
                row.append(None if column.df is None and value is None else
                           (value if column.df is None else mapping.outgoing(target, column.df, value)))
            rows.append(row)
    return rows


def _check_readable(doctype, columns):
    """Refuse, naming it, a mapped field above the user's permission levels: the ERP's file
    would leak it (a column left empty would look like data the record lacks). A child
    table's columns go by the table field's level, as the record's own API does."""
    levels = get_permlevels(doctype, "read")
    for header, target, column in columns:
        field = column.table_field or column.df
        if field is not None and int(field.permlevel or 0) not in levels:
            raise PermissionError(f"Not permitted: you may not read {target} (column {header!r}) of {doctype}",
                                  doctype=doctype)


def export_data(mapping: str, file_type: str = "CSV", filters=None, **_):
    """The mapping's records as a CSV or XLSX file in the other system's layout, for who may
    export its DocType (cells that would start a formula neutralised, as every export)."""
    import json
    from lowcode.core.doctype.data_import.data_import import _download, _file_type
    from lowcode.core.doctype.data_import import template
    doc = get_doc("Data Import Mapping", mapping)
    doc.check_permission("read")
    if isinstance(filters, str):
        try:
            filters = json.loads(filters) if filters.strip() else None
        except ValueError:
            raise ValidationError("filters: not valid JSON", field="filters") from None
    file_type = _file_type(file_type)
    content = template.write_rows(export_rows(doc, filters), file_type)
    from lowcode.audit import log_export
    log_export(doc.reference_doctype, file_type, method="Data Import Mapping", reference_document=doc.name,
               filters=filters)
    return _download(f"{doc.name}.{file_type.lower()}", content, file_type)


def export_file(mapping, path, filters=None):
    """``lowcode data-export``: the mapping's records written to ``path`` (CSV or XLSX by its
    extension); returns how many rows (documents and their child rows) were written."""
    from lowcode.core.doctype.data_import import template
    doc = get_doc("Data Import Mapping", mapping)
    doc.check_permission("read")
    rows = export_rows(doc, filters)
    with open(path, "wb") as f:
        f.write(template.write_rows(rows, template.file_type_of(path)))
    from lowcode.audit import log_export
    log_export(doc.reference_doctype, template.file_type_of(path), method="lowcode data-export",
               reference_document=doc.name, filters=filters)
    return len(rows) - 1
