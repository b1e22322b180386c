"""Downloads of report and list rows as CSV or XLSX.

Rows always come from the permission-checked query layer with ``ptype="export"``
(the caller passes them in), so an export holds exactly what the user may export.
Text cells that a spreadsheet would run as a formula are written as text, in CSV and
XLSX alike (api/reportview._cell)."""
import csv
import datetime
import decimal
import io

from django.http import HttpResponse

from ..api.reportview import _cell
from ..exceptions import ValidationError

FORMATS = ("csv", "xlsx")
#: the most rows one export may hold; more is refused (never silently cut short)
EXPORT_LIMIT = 100_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def check_format(fmt):
    fmt = (fmt or "csv").lower()
    if fmt not in FORMATS:
        raise ValidationError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}", field="format")
    return fmt


def check_size(rows):
    """Callers fetch EXPORT_LIMIT + 1 rows; one too many means the export is too big."""
    if len(rows) > EXPORT_LIMIT:
        raise ValidationError(f"More than {EXPORT_LIMIT} rows match: narrow the filters to export them",
                              field="filters")


def to_csv(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_cell(h) for h in header])
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    # A byte-order mark lets spreadsheet programs read UTF-8 (Persian, Hebrew) correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_value(value):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    if value is None or isinstance(value, (bool, int, float, datetime.date, datetime.time)):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    return ILLEGAL_CHARACTERS_RE.sub("", _cell(value))


def to_xlsx(header, rows, title="Sheet1"):
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(title))
    sheet.append([_xlsx_value(h) for h in header])
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(text):
    # Excel sheet names: at most 31 characters, none of []:*?/\
    cleaned = "".join(c for c in str(text) if c not in "[]:*?/\\")[:31]
    return cleaned or "Sheet1"


def download(filename, fmt, header, rows):
    """An attachment response holding ``rows`` (lists) under ``header`` (labels)."""
    fmt = check_format(fmt)
    if fmt == "xlsx":
        body, content_type = to_xlsx(header, rows, title=filename), XLSX_TYPE
    else:
        body, content_type = to_csv(header, rows), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in filename) or "export"
    response["Content-Disposition"] = f'attachment; filename="{safe}.{fmt}"'
    return response
