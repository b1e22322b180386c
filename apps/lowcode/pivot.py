"""Pivot tables: records of any DocType counted or summed by the values of some fields
(the rows) against the values of another (the columns), with row and column totals
and a grand total. The report view's pivot mode, its export and the ``get_pivot``
method all ask ``pivot()``.

One grouped query through the permission-checked query layer (``query.get_list`` with
``group_by``), so row rules and field permissions apply in SQL and the work in Python
is per group, never per record. Date fields are grouped by their day in SQL
(``date(field)``, the same on both engines) and the days folded here into weeks,
months, quarters or years of the user's calendar: a Jalali month starts on the 22nd or
so of a Gregorian month, which no Gregorian SQL function can group. Each group keeps
its count, sum and count of values, so every total and average is computed from sums
and counts, never as an average of averages.
"""
import datetime
import functools

from dateutil.relativedelta import relativedelta

from . import params, query, whitelist
from .exceptions import InvalidFieldError, ValidationError
from .fields import registry
from .meta import get_meta

FUNCTIONS = ("count", "sum", "avg", "min", "max")
#: a date dimension's buckets (``creation:month``) and the names the date helpers use
INTERVALS = {"day": "Daily", "week": "Weekly", "month": "Monthly", "quarter": "Quarterly", "year": "Yearly"}
CALENDARS = ("Gregorian", "Jalali")
MAX_ROW_FIELDS = 3
#: the most groups the query may return (days x values): more is refused, never cut short
MAX_GROUPS = 100_000
MAX_COLUMNS = 100
MAX_ROWS = 2_000
#: the most cells (rows x columns) of one table: each is a figure and a drill-down link on the page
MAX_CELLS = 20_000
#: the key of the totals in a pivot's cells
TOTAL = ("__total__",)


class Dimension:
    """A field the pivot groups by: ``status``, ``items.item`` or ``creation:month``."""

    def __init__(self, meta, text, param):
        self.text = str(text or "").strip()
        self.key, _, interval = self.text.partition(":")
        self.df = field_of(meta, self.key, param)
        ftype = registry[self.df["fieldtype"]]
        self.interval = interval or None
        if ftype.dated:
            self.interval = self.interval or "month"
            if self.interval not in INTERVALS:
                raise ValidationError(f"{param}: {interval!r} is not one of {', '.join(INTERVALS)}", field=param)
        elif self.interval:
            raise ValidationError(f"{param}: {self.key} is not a date field, it has no {interval!r}", field=param)
        elif not ftype.groupable:
            raise ValidationError(f"{param}: cannot group by {self.key} ({self.df['fieldtype']})", field=param)
        self.text = f"{self.key}:{self.interval}" if self.interval else self.key

    @property
    def expr(self):
        # A date-and-time is grouped by its day; a date is its own day, grouped as it is,
        # so an index over the field serves the GROUP BY in order (no sort of every row).
        if self.interval and registry[self.df["fieldtype"]].timed:
            return f"date({self.key})"
        return self.key

    def bucket(self, value, calendar):
        """The group a value belongs to: the first day (ISO) of its date bucket; no
        value (NULL or empty text) is None."""
        if value is None or value == "":
            return None
        if not self.interval:
            return value
        return _bucket_start(str(value)[:10], self.interval, calendar)

    def filters(self, key, calendar):
        """The filters selecting the records of one of its groups (a drill-down)."""
        if key is None:
            return [[self.key, "is", "not set"]]
        if not self.interval:
            return [[self.key, "=", key]]
        start, end = bucket_range(key, self.interval, calendar)
        return [[self.key, "between", [start, end]]]


def field_of(meta, key, param="rows"):
    """The definition of ``key``: a field of the DocType, a standard one (owner,
    creation) or a child table's field (``items.qty``). Whether the user may read it is
    the query layer's to decide (a PermissionError naming the field)."""
    fieldname = key
    if "." in key:
        table, _, fieldname = key.partition(".")
        tf = meta.get_table_field(table)
        if tf is None:
            raise InvalidFieldError(f"{param}: {meta.name} has no child table {table!r}", field=param)
        meta = get_meta(tf.options)
    if fieldname in query.STANDARD_TYPES and fieldname not in ("_assign", "parent", "parentfield", "parenttype"):
        return {"fieldname": fieldname, "fieldtype": query.STANDARD_TYPES[fieldname], "label": fieldname}
    df = meta.get_field(fieldname) if fieldname else None
    if df is None or df.fieldtype not in registry or registry[df.fieldtype].column is None:
        raise InvalidFieldError(f"{param}: {meta.name} has no field {fieldname!r}", field=param)
    return df


@functools.lru_cache(maxsize=4096)
def _bucket_start(day, interval, calendar):
    # memoised: the same days come back once per value of the other fields
    from .desk.doctype.dashboard_chart.dashboard_chart import interval_start
    return interval_start(datetime.date.fromisoformat(day), INTERVALS[interval], calendar).isoformat()


def bucket_range(start, interval, calendar):
    """(first day, last day) as ISO dates of the bucket starting on ``start``."""
    from .desk.doctype.dashboard_chart.dashboard_chart import _add_jalali
    first = datetime.date.fromisoformat(str(start)[:10])
    months = {"month": 1, "quarter": 3, "year": 12}.get(interval)
    if months and calendar == "Jalali":
        following = _add_jalali(first, months)
    elif months:
        following = first + relativedelta(months=months)
    else:
        following = first + datetime.timedelta(days=7 if interval == "week" else 1)
    return first.isoformat(), (following - datetime.timedelta(days=1)).isoformat()


def _sort_key(key):
    # values of one dimension share a type; no value (None) comes last
    return tuple((1, "") if v is None else (0, v) for v in key)


def pivot(doctype, rows, column=None, aggregate="count", aggregate_on=None, filters=None, calendar="Gregorian",
          user=None, ptype="report"):
    """The pivot of ``doctype``'s records the user may report on (``ptype``), grouped by
    the ``rows`` fields and the ``column`` field, each cell the ``aggregate`` (count,
    sum, avg, min, max) of the number field ``aggregate_on``. Returns a dict:
    ``row_keys`` (tuples of values, one per row field), ``column_keys``, ``values``
    (one list per row key, one cell per column key; None where no record is), their
    ``row_totals``, ``column_totals`` and ``grand_total``. Date groups are the ISO
    first day of their bucket in ``calendar``; no value is None."""
    meta = get_meta(doctype)
    rows = [rows] if isinstance(rows, str) else list(rows or [])
    if not rows:
        raise ValidationError("rows: choose at least one field to group the rows by", field="rows")
    if len(rows) > MAX_ROW_FIELDS:
        raise ValidationError(f"rows: at most {MAX_ROW_FIELDS} fields", field="rows")
    if calendar not in CALENDARS:
        raise ValidationError(f"calendar: {calendar!r} is not one of {', '.join(CALENDARS)}", field="calendar")
    if aggregate not in FUNCTIONS:
        raise ValidationError(f"aggregate: {aggregate!r} is not one of {', '.join(FUNCTIONS)}", field="aggregate")
    dims = [Dimension(meta, r, "rows") for r in rows]
    col_dim = Dimension(meta, column, "column") if column else None
    on = None
    if aggregate != "count":
        on = field_of(meta, str(aggregate_on or ""), "aggregate_on")
        if not registry[on["fieldtype"]].numeric:
            raise ValidationError(f"aggregate_on: {aggregate} needs a number field, not {aggregate_on!r}",
                                  field="aggregate_on")
    every = dims + ([col_dim] if col_dim else [])
    fields = [f"{d.expr} as d{i}" for i, d in enumerate(every)] + ["count(*) as n"]
    if aggregate in ("sum", "avg"):
        fields += [f"sum({aggregate_on}) as s", f"count({aggregate_on}) as c"]
    elif aggregate in ("min", "max"):
        fields.append(f"{aggregate}({aggregate_on}) as v")
    groups = query.get_list(doctype, fields=fields, filters=filters, group_by=", ".join(d.expr for d in every),
                            order_by=None, limit_page_length=MAX_GROUPS + 1, ptype=ptype, user=user,
                            by_parts=True)  # each part of a row rule on its own index: _add adds them up
    if len(groups) > MAX_GROUPS:
        raise ValidationError(f"More than {MAX_GROUPS} groups: narrow the filters or choose longer date intervals",
                              field="filters")
    cells = {}
    names = [f"d{i}" for i in range(len(every))]
    for g in groups:
        keys = [d.bucket(g[n], calendar) for n, d in zip(names, every)]
        _add(cells.setdefault((tuple(keys[:len(dims)]), keys[-1] if col_dim else TOTAL), [0, 0, 0, None]), g,
             aggregate)
    # The totals from the cells (far fewer than the SQL groups: days fold into months)
    for (row_key, col_key), acc in list(cells.items()):
        for target in {(row_key, TOTAL), (TOTAL, col_key), (TOTAL, TOTAL)} - {(row_key, col_key)}:
            _merge(cells.setdefault(target, [0, 0, 0, None]), acc, aggregate)
    row_keys = sorted({r for r, _ in cells if r != TOTAL}, key=_sort_key)
    column_keys = sorted({c for _, c in cells if c != TOTAL}, key=lambda c: _sort_key((c,))) if col_dim else []
    if len(column_keys) > MAX_COLUMNS:
        raise ValidationError(f"column: {len(column_keys)} columns, at most {MAX_COLUMNS}: choose another field "
                              "or a longer date interval", field="column")
    if len(row_keys) > MAX_ROWS or len(row_keys) * max(len(column_keys), 1) > MAX_CELLS:
        raise ValidationError(f"rows: {len(row_keys)} rows x {max(len(column_keys), 1)} columns, at most "
                              f"{MAX_ROWS} rows and {MAX_CELLS} cells: narrow the filters or choose longer date "
                              "intervals", field="rows")

    def value(key):
        acc = cells.get(key)
        return None if acc is None else _value(acc, aggregate)

    return {"doctype": doctype, "rows": [d.text for d in dims], "column": col_dim.text if col_dim else None,
            "aggregate": aggregate, "aggregate_on": aggregate_on if on else None, "calendar": calendar,
            "row_keys": row_keys, "column_keys": column_keys,
            "values": [[value((r, c)) for c in column_keys] for r in row_keys],
            "row_totals": [value((r, TOTAL)) for r in row_keys],
            "column_totals": [value((TOTAL, c)) for c in column_keys],
            "grand_total": value((TOTAL, TOTAL)) if groups else (0 if aggregate == "count" else None),
            "dimensions": every}


def _add(acc, group, aggregate):
    """Fold one SQL group into a cell: [records, sum, values counted, min or max]."""
    acc[0] += int(group["n"])
    if aggregate in ("sum", "avg"):
        acc[1] += group["s"] or 0
        acc[2] += int(group["c"] or 0)
    elif aggregate in ("min", "max") and group["v"] is not None:
        acc[3] = group["v"] if acc[3] is None else (min if aggregate == "min" else max)(acc[3], group["v"])


def _merge(acc, other, aggregate):
    """Fold one cell's accumulator into a total's."""
    acc[0] += other[0]
    acc[1] += other[1]
    acc[2] += other[2]
    if aggregate in ("min", "max") and other[3] is not None:
        acc[3] = other[3] if acc[3] is None else (min if aggregate == "min" else max)(acc[3], other[3])


def _value(acc, aggregate):
    if aggregate == "count":
        return acc[0]
    if aggregate == "sum":
        return float(acc[1])
    if aggregate == "avg":
        return float(acc[1]) / acc[2] if acc[2] else None
    return None if acc[3] is None else float(acc[3])


def cell_filters(result, filters, row_key=TOTAL, column_key=TOTAL):
    """The filters of the records behind one cell (or a total: TOTAL for the row or
    the column key): the pivot's own filters and the cell's values, a date bucket as
    a between range."""
    dims = result["dimensions"]
    out = [list(f) for f in query.normalise_filters(filters or [], result["doctype"])]
    if row_key != TOTAL:
        for d, key in zip(dims, row_key):
            out += d.filters(key, result["calendar"])
    if column_key != TOTAL:
        out += dims[-1].filters(column_key, result["calendar"])
    return out


@whitelist(methods=["GET", "POST"])
def get_pivot(doctype: str, rows, column: str = None, aggregate: str = "count", aggregate_on: str = None,
              filters=None, calendar: str = None):
    """/api/method/lowcode.pivot.get_pivot: a pivot as JSON for the caller (needs the
    report permission). ``rows``: a JSON list or comma-separated fields (``source``,
    ``creation:month``); ``calendar``: Gregorian or Jalali, the user's own by default."""
    if isinstance(rows, str):
        rows = params.parse_json_arg(rows, "rows") if rows.strip().startswith("[") else \
            [r for r in rows.split(",") if r.strip()]
    if not calendar:
        from .desk.render import prefs
        calendar = prefs().calendar
    result = pivot(doctype, rows, column or None, aggregate or "count", aggregate_on, filters, calendar)
    result.pop("dimensions")
    result["row_keys"] = [list(k) for k in result["row_keys"]]
    return result
