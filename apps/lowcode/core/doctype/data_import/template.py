"""Data Import's files: a DocType's columns in Frappe's template style, reading an uploaded
CSV or XLSX into rows, and writing rows back out (the template, the failed rows to fix).

Columns follow Frappe's exporter: the parent's fields by label ("First Name"), a child
table's as "Label (Table Label)", mandatory fields first; "ID" (the record's name) leads
when the file updates records. Written cells that a spreadsheet would run as a formula
(=, +, -, @, tab, carriage return first) get a leading apostrophe, as OWASP advises and
Frappe's exports do, and reading takes that apostrophe off again, so a failed-rows file
round-trips."""
import csv
import datetime
import io
from dataclasses import dataclass

from lowcode.api.reportview import _is_number  # the report view's CSV export spares "-5" too
from lowcode.exceptions import ValidationError
from lowcode.fields import registry
from lowcode.meta import get_meta

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FILE_TYPES = ("CSV", "XLSX")


@dataclass
class Column:
    header: str
    fieldname: str
    table_field: object = None  # the parent's Table DocField for a child table's column
    df: object = None  # None for the name ("ID")

    @property
    def target(self):
        """How a mapping names the column's field: "fieldname" or "table.fieldname"."""
        return f"{self.table_field.fieldname}.{self.fieldname}" if self.table_field else self.fieldname


def importable_fields(meta):
    """The fields a file may set: stored values a person types (no layout, no read-only types)."""
    return [df for df in meta.data_fields if not registry[df.fieldtype].read_only]


def _ordered(fields):
    return sorted(fields, key=lambda df: 0 if df.get("reqd") else 1)  # stable: mandatory first


def template_columns(doctype, with_name=False):
    """The columns of ``doctype``'s template: [Column]."""
    meta = get_meta(doctype)
    cols = [Column("ID", "name")] if with_name else []
    cols += [Column(df.label or df.fieldname, df.fieldname, None, df) for df in _ordered(importable_fields(meta))]
    for tf in meta.table_fields:
        table_label = tf.label or tf.fieldname
        child = get_meta(tf.options)
        if with_name:
            cols.append(Column(f"ID ({table_label})", "name", tf))
        cols += [Column(f"{df.label or df.fieldname} ({table_label})", df.fieldname, tf, df)
                 for df in _ordered(importable_fields(child))]
    return cols


# -- cells --------------------------------------------------------------------------------------

def safe_cell(value):
    """A value as written to a file a spreadsheet opens: text that would start a formula
    is prefixed with an apostrophe (shown as text, never run)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def read_cell(value):
    """A cell as read from a file: the apostrophe safe_cell added comes off; the rest stays
    (openpyxl gives numbers and dates typed, CSV text)."""
    if isinstance(value, str):
        if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
            return value[1:]
        return value
    return value


# -- reading ------------------------------------------------------------------------------------

def file_type_of(filename):
    ext = (filename or "").rsplit(".", 1)[-1].lower()
    if ext in ("csv", "txt"):
        return "CSV"
    if ext in ("xlsx", "xlsm"):
        return "XLSX"
    raise ValidationError(f"import_file: {filename!r} is neither CSV nor XLSX", field="import_file")


def read_rows(content, file_type):
    """The file's rows (header first) as lists of cell values, trailing empty rows and
    cells dropped."""
    if file_type == "XLSX":
        rows = _read_xlsx(content)
    else:
        rows = _read_csv(content)
    rows = [[read_cell(c) for c in row] for row in rows]
    while rows and not any(_filled(c) for c in rows[-1]):
        rows.pop()
    if not rows:
        raise ValidationError("import_file: the file is empty", field="import_file")
    return rows


def _filled(value):
    return value is not None and not (isinstance(value, str) and not value.strip())


def _read_csv(content):
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("cp1256", errors="replace")  # Excel's "CSV" on a Persian Windows
    else:
        text = content
    return [row for row in csv.reader(io.StringIO(text))]


def _read_xlsx(content):
    """The first sheet's rows, read with calamine (a Rust reader, far faster than openpyxl on
    big sheets): values as typed (numbers, dates), a formula's cached value, never its text."""
    from python_calamine import CalamineError, CalamineWorkbook, XmlError, ZipError
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheet = book.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except (CalamineError, ZipError, XmlError, ValueError, OSError) as e:
        raise ValidationError(f"import_file: not a readable XLSX file ({e})", field="import_file") from None
    # calamine gives "" for an empty cell and floats for every number: 12.0 -> 12 (Frappe's reading)
    return [[None if c == "" else (int(c) if isinstance(c, float) and c.is_integer() else c) for c in row]
            for row in rows]


# -- writing ------------------------------------------------------------------------------------

def write_rows(rows, file_type, sheet_title="Data Import"):
    """``rows`` (header first) as the bytes of a CSV or XLSX file."""
    if file_type not in FILE_TYPES:
        raise ValidationError(f"file_type: {file_type!r} is not one of {', '.join(FILE_TYPES)}", field="file_type")
    safe = [[safe_cell(_plain(c)) for c in row] for row in rows]
    if file_type == "CSV":
        out = io.StringIO()
        csv.writer(out).writerows(safe)
        return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read Persian and Hebrew right
    import openpyxl
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title[:31])
    for row in safe:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _plain(value):
    if value is None or isinstance(value, (int, float, datetime.date, datetime.datetime)):
        return value
    return str(value)


def content_type(file_type):
    return "text/csv; charset=utf-8" if file_type == "CSV" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_file(doctype, file_type="CSV", with_name=False):
    """(filename, bytes) of ``doctype``'s empty template."""
    header = [c.header for c in template_columns(doctype, with_name=with_name)]
    return f"{doctype}.{file_type.lower()}", write_rows([header], file_type)
