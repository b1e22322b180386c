"""Lists, counts, reports and link search in SQL, with permissions applied in SQL.

Everything a client sends is checked against metadata before it shapes a query:
fieldnames, operators, sort and group columns must be known, and every value is a
bound parameter. Filters come in Frappe's list form (``[field, op, value]`` or
``[doctype, field, op, value]``) or dict form (``{field: value}`` or
``{field: [op, value]}``); a field of a child table is addressed through the child
DocType (``["Quotation Item", "item", "=", "X"]``) or ``tablefield.field``.
"""
import re

from . import params
from .context import local
from .database.replicas import read_sql  # the data SELECTs: a replica may serve them (replica())
from .exceptions import InvalidFieldError, PermissionError, ValidationError
from .fields import registry
from .meta import STANDARD_FIELDS, CHILD_FIELDS, get_meta
from .permissions import permitted_fieldnames, role_access, row_condition

OPERATORS = ("=", "!=", ">", "<", ">=", "<=", "like", "not like", "in", "not in", "is", "between", "timespan")
_AGGREGATE_RE = re.compile(r"^(count|sum|avg|min|max)\(\s*(\*|[`\w. ]+?)\s*\)(?:\s+as\s+(\w+))?$", re.I)
_FIELD_RE = re.compile(r"^(?:`?tab([\w \-]+?)`?\.)?`?(\w+)`?(?:\s+as\s+(\w+))?$", re.I)
_DOTTED_RE = re.compile(r"^(\w+)\.(\w+)(?:\s+as\s+(\w+))?$", re.I)
#: the day of a Date or Datetime field (``date(creation) as day``), to select and group by:
#: DATE() is the same function on SQLite and MariaDB (pivot tables bucket days, pivot.py)
_DATE_RE = re.compile(r"^date\(\s*(\w+(?:\.\w+)?)\s*\)(?:\s+as\s+(\w+))?$", re.I)
STANDARD_TYPES = {"name": "Data", "owner": "Link", "modified_by": "Link", "creation": "Datetime",
                   "modified": "Datetime", "docstatus": "Int", "idx": "Int", "parent": "Data",
                   "parentfield": "Data", "parenttype": "Data", "_assign": "Text"}


class Query:
    """Builds one SELECT for a DocType; child tables join in on demand."""

    def __init__(self, doctype, user, ptype, ignore_permissions):
        self.meta = get_meta(doctype)
        # The main table keeps its own name (no alias), so permission_query_conditions
        # written for Frappe (`tabLead`.`owner` = ...) work unchanged.
        self.table = f"tab{doctype}"
        if self.meta.istable and not ignore_permissions:
            raise PermissionError(f"{doctype} is a child table: query it through its parent")
        self.user = user
        self.ptype = ptype
        self.ignore_permissions = ignore_permissions
        self.joins = {}           # child doctype -> alias
        self.values = []
        self.readable = None if ignore_permissions else set(
            permitted_fieldnames(doctype, user)) | set(STANDARD_FIELDS) | {"_assign"}
        self.aliases = set()
        self.aggregated = False   # a column is count/sum/...: one row over all matching rows

    # -- columns ------------------------------------------------------------------------
    def child_alias(self, child):
        """Join a child table by its DocType name (must be a table of this DocType)."""
        if child in self.joins:
            return self.joins[child]
        if not any(tf.options == child for tf in self.meta.table_fields):
            raise InvalidFieldError(f"{child!r} is not a child table of {self.meta.name}", field=child)
        alias = f"c{len(self.joins) + 1}"
        self.joins[child] = alias
        return alias

    def resolve(self, doctype, fieldname, for_filter=False):
        """(sql column, field definition) for a field of this DocType or a child table."""
        if doctype and doctype != self.meta.name:
            meta = get_meta(doctype)
            alias = self.child_alias(doctype)
            readable = None if self.ignore_permissions else self.readable_child_fields(doctype)
        else:
            meta, alias, readable = self.meta, self.table, self.readable
        if fieldname in STANDARD_FIELDS or fieldname in CHILD_FIELDS and meta.istable or fieldname == "_assign":
            df = {"fieldname": fieldname, "fieldtype": STANDARD_TYPES[fieldname], "label": fieldname}
        else:
            df = meta.get_field(fieldname)
            if df is None or df.fieldtype not in registry or registry[df.fieldtype].column is None:
                raise InvalidFieldError(f"{meta.name} has no field {fieldname!r}", field=fieldname,
                                        doctype=meta.name)
        if readable is not None and fieldname not in readable:
            raise PermissionError(f"Not permitted to read {meta.name} field {fieldname!r}", field=fieldname)
        return f"`{alias}`.`{fieldname}`", df

    def readable_child_fields(self, child):
        """Child tables have no rules of their own: a row's fields are readable at the
        permission levels the parent grants, through a table field the user may read."""
        from .permissions import get_permlevels
        levels = get_permlevels(self.meta.name, "read", self.user) | {0}
        tables = [tf for tf in self.meta.table_fields if tf.options == child and int(tf.permlevel or 0) in levels]
        if not tables:
            return set(STANDARD_FIELDS) | set(CHILD_FIELDS)
        child_meta = get_meta(child)
        return {df.fieldname for df in child_meta.data_fields if int(df.permlevel or 0) in levels} | \
            set(STANDARD_FIELDS) | set(CHILD_FIELDS)

    def parse_field(self, expr):
        """A requested column -> (sql, output name, field definition or None)."""
        text = str(expr).strip()
        m = _AGGREGATE_RE.match(text)
        if m:
            fn, arg, alias = m.group(1).lower(), m.group(2).strip(), m.group(3)
            if arg == "*":
                if fn != "count":
                    raise InvalidFieldError(f"{fn}(*) is not allowed", field=text)
                inner = "*"
            else:
                inner, _ = self.parse_column(arg)
            name = alias or f"{fn}({arg})"
            self.aliases.add(name)
            self.aggregated = True
            return f"{fn.upper()}({inner})", name, None
        m = _DATE_RE.match(text)
        if m:
            name = m.group(2) or f"date({m.group(1)})"
            self.aliases.add(name)
            return self.day_column(m.group(1)), name, None
        sql, df = self.parse_column(text)
        m = _FIELD_RE.match(text) or _DOTTED_RE.match(text)
        alias = m.group(3) if m else None
        name = alias or df["fieldname"]
        if alias:
            self.aliases.add(alias)
        return sql, name, df

    def parse_column(self, text):
        text = text.strip()
        m = _DOTTED_RE.match(text)
        if m and not text.lower().startswith("tab") and "`" not in text:
            tf = self.meta.get_table_field(m.group(1))
            if tf is None:
                raise InvalidFieldError(f"{self.meta.name} has no child table {m.group(1)!r}", field=m.group(1))
            return self.resolve(tf.options, m.group(2))
        m = _FIELD_RE.match(text)
        if not m:
            raise InvalidFieldError(f"cannot read field expression {text!r}", field=text)
        return self.resolve(m.group(1), m.group(2))

    def day_column(self, field):
        """``DATE(column)`` of a Date or Datetime field (its day)."""
        col, df = self.parse_column(field)
        if not registry[df["fieldtype"]].dated:
            raise InvalidFieldError(f"date() takes a date field, not {field!r}", field=field)
        return f"DATE({col})"

    def group_column(self, text):
        """A GROUP BY part: a field, or the day of a date field (``date(creation)``)."""
        m = _DATE_RE.match(text)
        return self.day_column(m.group(1)) if m and not m.group(2) else self.parse_column(text)[0]

    # -- filters ------------------------------------------------------------------------
    def condition(self, flt):
        """One filter -> SQL; its bound values are appended to self.values in order."""
        if isinstance(flt, dict):
            raise InvalidFieldError("a filter must be a list, not an object")
        flt = list(flt)
        if len(flt) == 4:
            doctype, fieldname, op, value = flt[0], flt[1], flt[2], flt[3]
        elif len(flt) == 3:
            doctype, fieldname, op, value = None, flt[0], flt[1], flt[2]
        elif len(flt) == 2:
            doctype, fieldname, op, value = None, flt[0], "=", flt[1]
        else:
            raise InvalidFieldError(f"a filter needs [field, operator, value], got {flt!r}")
        if not isinstance(fieldname, str):
            raise InvalidFieldError(f"bad fieldname {fieldname!r} in filter")
        if isinstance(doctype, str) and doctype == self.meta.name:
            doctype = None
        if doctype is None and "." in fieldname:
            head, _, tail = fieldname.partition(".")
            tf = self.meta.get_table_field(head)
            if tf is None:
                raise InvalidFieldError(f"{self.meta.name} has no child table {head!r}", field=head)
            doctype, fieldname = tf.options, tail
        op = str(op).strip().lower()
        if op == "==":
            op = "="
        if op not in OPERATORS:
            raise InvalidFieldError(f"unknown operator {op!r} for field {fieldname!r} "
                                    f"(allowed: {', '.join(OPERATORS)})", field=fieldname)
        if doctype:
            # A child-table filter matches parents having at least one such row, without
            # multiplying parent rows in the result.
            child_meta = get_meta(doctype)
            if not any(tf.options == doctype for tf in self.meta.table_fields):
                raise InvalidFieldError(f"{doctype!r} is not a child table of {self.meta.name}", field=fieldname)
            saved_joins = dict(self.joins)
            col, df = self.resolve(doctype, fieldname, for_filter=True)
            alias = self.joins[doctype]
            self.joins = saved_joins
            self.values.append(self.meta.name)  # the parenttype, bound before the compared values
            inner = self._compare(col, df, op, value)
            return (f"EXISTS (SELECT 1 FROM `tab{child_meta.name}` `{alias}` WHERE `{alias}`.`parent`=`{self.table}`.`name` "
                    f"AND `{alias}`.`parenttype`=%s AND {inner})")
        col, df = self.resolve(None, fieldname, for_filter=True)
        return self._compare(col, df, op, value)

    def _compare(self, col, df, op, value):
        ftype = registry.get(df["fieldtype"])
        fieldname = df["fieldname"]
        if ftype is not None and ftype.operators and op not in ftype.operators:
            raise InvalidFieldError(f"operator {op!r} does not apply to {df.get('label') or fieldname} "
                                    f"({df['fieldtype']})", field=fieldname)

        def coerce(v):
            if ftype is None or v is None:
                return v
            if isinstance(v, (list, dict)):
                raise InvalidFieldError(f"{fieldname}: expected a single value, got {type(v).__name__}",
                                        field=fieldname)
            try:
                return ftype.coerce_filter(v, df)
            except ValidationError as e:
                raise InvalidFieldError(f"filter on {e.message}", field=fieldname)

        text_like = ftype is None or ftype.text_like
        if op == "is":
            v = str(value).lower()
            if v not in ("set", "not set"):
                raise InvalidFieldError(f"{fieldname}: 'is' takes 'set' or 'not set'", field=fieldname)
            empty = f"({col} IS NULL OR {col}='')" if text_like else f"{col} IS NULL"
            return f"NOT {empty}" if v == "set" else empty
        if op in ("in", "not in"):
            items = value
            if isinstance(items, str):
                items = [s.strip() for s in items.split(",") if s.strip()]
            if not isinstance(items, (list, tuple)):
                raise InvalidFieldError(f"{fieldname}: '{op}' needs a list of values", field=fieldname)
            items = [coerce(v) for v in items]
            if not items:
                return "1=0" if op == "in" else "1=1"
            self.values += items
            marks = ", ".join(["%s"] * len(items))
            if op == "in":
                return f"{col} IN ({marks})"
            return f"({col} NOT IN ({marks}) OR {col} IS NULL)"
        if op == "timespan":  # Frappe's dynamic dates ("this week"), see timespan.py
            from .timespan import date_range
            op, value = "between", [d.isoformat() for d in date_range(value, fieldname)]
        if op == "between":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise InvalidFieldError(f"{fieldname}: 'between' needs [from, to]", field=fieldname)
            low, high = coerce(value[0]), coerce(value[1])
            if registry[df["fieldtype"]].timed and isinstance(value[1], str) and len(value[1].strip()) == 10:
                high = high[:10] + " 23:59:59.999999"
            self.values += [low, high]
            return f"{col} BETWEEN %s AND %s"
        if op in ("like", "not like"):
            if not isinstance(value, (str, int, float)):
                raise InvalidFieldError(f"{fieldname}: '{op}' needs text", field=fieldname)
            self.values.append(str(value))
            if op == "like":
                return f"{col} LIKE %s"
            return f"({col} NOT LIKE %s OR {col} IS NULL)"
        v = coerce(value)
        if v is None or v == "" and op in ("=", "!="):
            if op == "=":
                return f"({col} IS NULL OR {col}='')" if text_like else f"{col} IS NULL"
            if op == "!=":
                return f"NOT ({col} IS NULL OR {col}='')" if text_like else f"{col} IS NOT NULL"
        self.values.append(v)
        if op == "!=":
            return f"({col} != %s OR {col} IS NULL)"
        return f"{col} {op} %s"

    def where(self, filters, or_filters):
        parts = [self.condition(f) for f in normalise_filters(filters, self.meta.name)]
        ors = [self.condition(f) for f in normalise_filters(or_filters, self.meta.name)]
        if ors:
            parts.append("(" + " OR ".join(ors) + ")")
        return parts

    def order(self, order_by, default=True):
        if not order_by:
            if not default:
                return ""
            return f"`{self.table}`.`{self.meta.sort_field}` {self.meta.sort_order}" if self.meta.sort_field in \
                self.meta.columns else f"`{self.table}`.`modified` DESC"
        out = []
        for part in str(order_by).split(","):
            words = part.strip().split()
            if not words:
                continue
            direction = "ASC"
            if len(words) == 2 and words[1].lower() in ("asc", "desc"):
                direction = words[1].upper()
            elif len(words) != 1:
                raise InvalidFieldError(f"cannot sort by {part.strip()!r}", field=part.strip())
            if words[0] in self.aliases:
                out.append(f"{_alias(words[0])} {direction}")
            else:
                col, _ = self.parse_column(words[0])
                out.append(f"{col} {direction}")
        return ", ".join(out)


def _alias(name):
    """An output column name as an SQL identifier: Frappe's ``count(`name`)`` keeps its
    back-quotes in the key, written doubled inside the quoted alias."""
    return "`" + name.replace("`", "``") + "`"


def normalise_filters(filters, doctype=None):
    """Frappe's list and dict filter forms -> a list of [field, op, value] / 4-lists."""
    filters = params.parse_json_arg(filters, "filters") if filters else filters
    if not filters:
        return []
    if isinstance(filters, dict):
        out = []
        for key, value in filters.items():
            if isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[0], str) \
                    and value[0].strip().lower() in OPERATORS + ("==",):
                out.append([key, value[0], value[1]])
            else:
                out.append([key, "=", value])
        return out
    if isinstance(filters, (list, tuple)):
        if filters and isinstance(filters[0], str) and len(filters) in (3, 4) and not isinstance(filters[1], list):
            return [list(filters)]  # a single filter passed flat
        out = []
        for f in filters:
            if isinstance(f, dict):
                out += normalise_filters(f, doctype)
            elif isinstance(f, (list, tuple)):
                out.append(list(f))
            else:
                raise InvalidFieldError(f"cannot read filter {f!r}")
        return out
    raise InvalidFieldError(f"filters must be a list or an object, got {type(filters).__name__}")


def check_filters(filters, doctype):
    """Filters saved now to run later (number cards, charts), checked as a query would
    check them without running one: an unknown field, an operator its type does not take
    or a value it cannot hold is an InvalidFieldError naming the field."""
    Query(doctype, None, "read", ignore_permissions=True).where(filters, None)
    return normalise_filters(filters, doctype)


def _fields_arg(fields):
    fields = params.parse_json_arg(fields, "fields") if fields else fields
    if not fields:
        return ["name"]
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",")] if "(" not in fields else [fields]
    if not isinstance(fields, (list, tuple)):
        raise InvalidFieldError("fields must be a list")
    return list(fields)


def _check_access(doctype, user, ptype, ignore_permissions):
    if ignore_permissions or user == "Administrator":
        return
    if role_access(doctype, ptype, user) is None:
        from .permissions import _has_shares
        if ptype in ("read", "select") and _has_shares(doctype, user):
            return
        raise PermissionError(f"Not permitted: {ptype} {doctype}", doctype=doctype)


def get_list(doctype, fields=None, filters=None, or_filters=None, order_by=None, limit_start=0,
             limit_page_length=20, group_by=None, as_list=False, pluck=None, ignore_permissions=False,
             user=None, ptype="read", limit=None, distinct=False, start=None, page_length=None, for_update=False,
             by_parts=False):
    """Rows of a DocType the user may read, as dicts (or lists, or one plucked column).
    ``for_update``: lock the rows until commit (MariaDB; SQLite's write transaction
    already holds the database's one write lock). ``by_parts``, for grouped aggregates
    the caller adds up (pivot.py): a row rule that is an OR of parts is answered one
    disjoint part at a time, each on its own index (disjoint_parts); the parts' groups
    come one after the other, a group once per part holding rows of it, and the limit
    applies to each part."""
    user = user or local.user
    if limit is not None:
        limit_page_length = limit
    if start is not None:
        limit_start = start
    if page_length is not None:
        limit_page_length = page_length
    page = params.row_count(limit_page_length, "limit_page_length", error=InvalidFieldError)
    start_at = params.row_count(limit_start, "limit_start", error=InvalidFieldError)
    _check_access(doctype, user, ptype if ptype != "report" else "read", ignore_permissions)
    if ptype in ("report", "export"):
        _check_access(doctype, user, ptype, ignore_permissions)
    q = Query(doctype, user, "read", ignore_permissions)
    meta = q.meta
    if pluck:
        fields = [pluck]
    fields = _fields_arg(fields)
    if fields == ["*"]:
        fields = ["name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"] + \
            [f.fieldname for f in meta.data_fields if q.readable is None or f.fieldname in q.readable]
    select, names, dfs = [], [], []
    for f in fields:
        sql, name, df = q.parse_field(f)
        select.append(f"{sql} AS {_alias(name)}")
        names.append(name)
        dfs.append(df)
    select_values = list(q.values)
    q.values = []
    where = q.where(filters, or_filters)
    rule = None if ignore_permissions else row_condition(doctype, user, "read", alias=q.table)
    group = ""
    if group_by:
        cols = []
        for part in str(group_by).split(","):
            cols.append(q.group_column(part.strip()))
        group = " GROUP BY " + ", ".join(cols)
    order = q.order(order_by, default=not group_by)
    rows = None
    # A row rule that is an OR of parts, with nothing else shaping the query, is answered
    # part by part (see _count_by_parts and _page_by_parts): each part on its own index.
    if rule is not None and len(rule.parts) > 1 and not group_by and not distinct and not q.joins \
            and not select_values:
        if not page and len(select) == 1 and select[0].startswith("COUNT(*) AS "):
            rows = [(_count_by_parts(q.table, where, q.values, rule.parts),)]
        elif page and order and not q.aggregated and not any(_alias(a) in order for a in q.aliases):
            rows = _page_by_parts(q.table, select, where, q.values, rule.parts, order, page, start_at)
    if by_parts and group_by and rule is not None and len(rule.parts) > 1 and not distinct:
        rows = _group_by_parts(doctype, q, select, select_values, where, rule.parts, group, order, page, start_at)
    if rows is None:
        if rule is not None:
            cond, cond_values = rule.sql()
            where.append(cond)
            q.values += cond_values
        joins = "".join(f" LEFT JOIN `tab{child}` `{alias}` ON `{alias}`.`parent`=`{q.table}`.`name` "
                        f"AND `{alias}`.`parenttype`=%s" for child, alias in q.joins.items())
        values = select_values + [doctype] * len(q.joins) + q.values
        if (rule is not None and page and start_at + page <= NEWEST_WINDOW_PAGES and not group_by and not distinct
                and not q.aggregated and order == f"`{q.table}`.`modified` DESC"):
            rows = _newest_page(doctype, q.table, select, joins, where, page, start_at, values)
        if rows is None:
            sql = (f"SELECT {'DISTINCT ' if distinct else ''}{', '.join(select)} FROM `tab{doctype}`{joins}"
                   + (" WHERE " + " AND ".join(where) if where else "") + group
                   + (f" ORDER BY {order}" if order else ""))
            if page:
                sql += f" LIMIT {page} OFFSET {start_at}"
            if for_update and local.db.db_type == "mariadb":
                sql += " FOR UPDATE"
            rows = read_sql(sql, values)
    converters = [(i, registry[df["fieldtype"]], df) for i, df in enumerate(dfs)
                  if df is not None and registry.get(df["fieldtype"]) and registry[df["fieldtype"]].converts_from_db]
    if converters:
        rows = [list(r) for r in rows]
        for r in rows:
            for i, ft, df in converters:
                r[i] = ft.from_db(r[i], df)
    if pluck:
        return [r[0] for r in rows]
    if as_list:
        return [list(r) for r in rows]
    return [dict(zip(names, r)) for r in rows]


#: How many of the newest rows a row-restricted, newest-first list page looks at first,
#: for pages reaching at most NEWEST_WINDOW_PAGES rows deep.
NEWEST_WINDOW = 2000
NEWEST_WINDOW_PAGES = 100


def _newest_page(doctype, table, select, joins, where, page, start_at, values):
    """The page from the NEWEST_WINDOW newest rows alone, or None if they hold too few.
    Used where the row rule is sent whole, as one condition (see get_list).

    A user who may see a large share of a big table (a salesperson with 20,000 of a
    million leads, a manager of a territory) gets a newest-first page fastest by
    reading rows newest first until the page is full; one who sees 20 rows, by
    fetching those 20 through the row rule's indexes and sorting them. One static
    query makes a planner pick one plan for both. So: bound the query to rows at least
    as new as the NEWEST_WINDOW-th newest (one index-only read), which every index the
    engine makes, ``(field, modified)``, answers as a short range; when that yields a
    full page, it is the page (every row outside the bound is older than every row in
    it, ties included); otherwise the unbounded query runs as before."""
    bound = read_sql(f"SELECT `modified` FROM `tab{doctype}` ORDER BY `modified` DESC "
                         f"LIMIT 1 OFFSET {NEWEST_WINDOW - 1}")
    if not bound or bound[0][0] is None:
        return None  # a small table: the plain query is quick
    sql = (f"SELECT {', '.join(select)} FROM `tab{doctype}`{joins} WHERE "
           + " AND ".join(where + [f"`{table}`.`modified`>=%s"])
           + f" ORDER BY `{table}`.`modified` DESC LIMIT {page} OFFSET {start_at}")
    rows = read_sql(sql, values + [bound[0][0]])
    return rows if len(rows) == page else None


#: _group_by_parts counts each part of a row rule only this far: past it, which part is
#: largest matters little, and counting a quarter of a million rows costs as much as
#: grouping them
GROUP_PARTS_CAP = 10_000


def _group_by_parts(doctype, q, select, select_values, where, parts, group, order, page, start_at):
    """get_list's grouped query once per disjoint part of the row rule (see by_parts)."""
    rows = []
    joins = "".join(f" LEFT JOIN `tab{child}` `{alias}` ON `{alias}`.`parent`=`{q.table}`.`name` "
                    f"AND `{alias}`.`parenttype`=%s" for child, alias in q.joins.items())
    for _rows, sql, values in disjoint_parts(q.table, parts, where, q.values, cap=GROUP_PARTS_CAP):
        rows += read_sql(f"SELECT {', '.join(select)} FROM `tab{doctype}`{joins}{_where(where + [f'({sql})'])}{group}"
                             + (f" ORDER BY {order}" if order else "")
                             + (f" LIMIT {page} OFFSET {start_at}" if page else ""),
                             select_values + [doctype] * len(q.joins) + q.values + values)
    return rows


def _where(conds):
    return " WHERE " + " AND ".join(conds) if conds else ""


def _count_by_parts(table, where, values, parts):
    """The exact number of rows matching ``where`` and any of ``parts``, as a sum of
    disjoint counts (disjoint_parts). ``COUNT(*)`` of the whole OR makes MariaDB fetch
    every matching row (an index merge union), and SQLite walk each part's index and
    de-duplicate; one part alone is counted from its index (index-only without other
    filters), and the rows of the small parts are few."""
    disjoint = disjoint_parts(table, parts, where, values)
    if not disjoint:
        return 0
    total = disjoint[0][0]
    for _, sql, pv in disjoint[1:]:
        total += int(read_sql(f"SELECT COUNT(*) FROM `{table}`{_where(where + [sql])}", values + pv)[0][0])
    return total


def disjoint_parts(table, parts, where=(), values=(), cap=None):
    """A row rule's OR of ``parts`` as disjoint conditions, for answering an aggregate
    part by part and adding up: ``[(rows, sql, values)]``, the largest part (by its
    rows matching ``where``) first and alone, then each further part without the rows
    of those before it; parts without rows are left out. Each part is counted first
    to learn which is the largest, so the big part needs no negations. With ``cap``,
    a part is counted only up to ``cap`` rows (parts reaching it keep their order and
    ``rows`` is at most ``cap``): enough to put a big part first without reading all
    of it twice, for a caller that does not need the counts (a grouped query)."""
    where, values = list(where), list(values)

    def count(conds, vals):
        if cap:
            return int(read_sql(f"SELECT COUNT(*) FROM (SELECT 1 FROM `{table}`{_where(conds)} "
                                    f"LIMIT {int(cap)}) `capped`", vals)[0][0])
        return int(read_sql(f"SELECT COUNT(*) FROM `{table}`{_where(conds)}", vals)[0][0])

    sized = [(count(where + [sql], values + pv), sql, pv) for sql, pv in parts]
    sized = sorted((p for p in sized if p[0]), key=lambda p: -p[0])
    out = []
    for i, (rows, sql, pv) in enumerate(sized):
        # IS NOT TRUE, not NOT: a part that is NULL for a row (an empty owner field) does
        # not hold for it, and the row must still be counted by the next part.
        before = sized[:i]
        out.append((rows, " AND ".join([sql] + [f"({s}) IS NOT TRUE" for _, s, _ in before]),
                    pv + [v for _, _, bv in before for v in bv]))
    return out


def _page_by_parts(table, select, where, values, parts, order, page, start_at):
    """A page of the rows matching ``where`` and any of ``parts``, in ``order``: the
    first start+page rows of each part (each read on that part's own index, or for an
    assignment or share part by primary key), then the page among those. Every row of
    the page is among the first start+page rows of a part holding it, so the page is
    the plain query's (rows that tie in ``order`` may come in another order, as they
    may from the plain query). One static OR query makes a planner pick one plan for
    every part: reading newest first suits a part holding a quarter of the table, not
    one holding 2,000 rows spread over it."""
    depth = start_at + page
    parts = _small_parts_by_name(table, parts)
    if not parts:
        return []
    inner, inner_values = [], []
    for i, (sql, pv) in enumerate(parts):
        inner.append(f"SELECT `name` FROM (SELECT `{table}`.`name` FROM `{table}`{_where(where + [sql])} "
                     f"ORDER BY {order} LIMIT {depth}) `p{i}`")
        inner_values += values + pv
    sql = (f"SELECT {', '.join(select)} FROM `{table}` WHERE `{table}`.`name` IN "
           f"(SELECT `name` FROM ({' UNION ALL '.join(inner)}) `parts`) ORDER BY {order} LIMIT {page} OFFSET {start_at}")
    return read_sql(sql, inner_values)


#: a part of a row rule holding at most this many rows is paged by its names (see below)
SMALL_PART_ROWS = 200


def _small_parts_by_name(table, parts):
    """The parts of a row rule for _page_by_parts, each small one (at most
    SMALL_PART_ROWS rows) replaced by the list of its names, an empty one dropped.

    With another filter on the page (an agent's open cases: ``status`` and their own,
    assigned or shared ones), a planner may read the part through the filter's index
    instead of the part's own: SQLite, without statistics, does when the two indexes
    tie, or for an ``IN (subquery)`` part, and then walks every row with that status
    to find the user's few. The part's names, read first on its own index with nothing
    to compete (a bounded read), leave only primary-key look-ups for the page."""
    out = []
    for sql, values in parts:
        names = read_sql(f"SELECT `{table}`.`name` FROM `{table}` WHERE {sql} LIMIT {SMALL_PART_ROWS + 1}",
                             values, pluck=True)
        if len(names) > SMALL_PART_ROWS:
            out.append((sql, values))
        elif names:
            out.append((f"`{table}`.`name` IN ({', '.join(['%s'] * len(names))})", list(names)))
    return out


def get_all(doctype, **kwargs):
    """get_list without permission checks, for app code (Frappe's frappe.get_all)."""
    kwargs.setdefault("limit_page_length", 0)
    kwargs["ignore_permissions"] = True
    return get_list(doctype, **kwargs)


def get_count(doctype, filters=None, or_filters=None, ignore_permissions=False, user=None, distinct=False):
    rows = get_list(doctype, fields=["count(*) as count"], filters=filters, or_filters=or_filters,
                    ignore_permissions=ignore_permissions, user=user, limit_page_length=0, order_by=None,
                    group_by=None)
    return int(rows[0]["count"]) if rows else 0


def get_value(doctype, filters=None, fieldname="name", as_dict=False, ignore_permissions=False, user=None):
    """One document's field(s) by name or filters; None when nothing matches."""
    meta = get_meta(doctype)
    if meta.issingle:
        filters = {"name": doctype}
    elif isinstance(filters, str):
        filters = {"name": filters}
    fields = params.parse_json_arg(fieldname, "fieldname") if isinstance(fieldname, str) and fieldname.startswith("[") \
        else fieldname
    many = isinstance(fields, (list, tuple))
    rows = get_list(doctype, fields=list(fields) if many else [fields], filters=filters,
                    ignore_permissions=ignore_permissions, user=user, limit_page_length=1)
    if not rows:
        return None
    if as_dict or many:
        return rows[0] if as_dict else [rows[0][_out_name(f)] for f in fields]
    return rows[0][_out_name(fields)]


def _out_name(expr):
    m = _FIELD_RE.match(str(expr).strip())
    return (m.group(3) or m.group(2)) if m else expr


def search_columns(meta):
    """The columns a search box looks in: name, the title field and the search fields."""
    columns = ["name"] + [f for f in [meta.title_field] + meta.search_fields if f and meta.has_field(f)]
    return list(dict.fromkeys(columns))


def search_or_filters(meta, txt):
    """or_filters for a search box's text (link, list and global search alike): the
    search columns like the text; but a valid phone number, however typed, on a DocType
    keeping its numbers normalised (Data fields named ``*_e164``, indexed) is an
    equality on those columns: the same record for every way of typing the number, and
    index probes at any table size instead of a LIKE '%...%' scan."""
    from .fields.text import phone_search_e164
    txt = (txt or "").strip()
    if not txt:
        return None
    phone_columns = [f.fieldname for f in meta.data_fields if (f.fieldname or "").endswith("_e164")]
    number = phone_search_e164(txt) if phone_columns else None
    if number:
        return [[c, "=", number] for c in phone_columns]
    return [[c, "like", f"%{txt}%"] for c in search_columns(meta)]


def search_link(doctype, txt="", filters=None, page_length=10, user=None):
    """Link search-as-you-type: name, title and search fields like the text (a phone
    number: its normalised columns, see search_or_filters), only over documents the
    user may read."""
    meta = get_meta(doctype)
    columns = search_columns(meta)
    or_filters = search_or_filters(meta, txt)
    fields = list(columns)
    rows = get_list(doctype, fields=fields, filters=filters, or_filters=or_filters,
                    limit_page_length=params.row_count(page_length, "page_length") or 10, user=user, order_by="modified desc")
    title = meta.get_title_field()
    return [{"value": r["name"], "label": r.get(title) if title in r else r["name"],
             "description": ", ".join(str(r[c]) for c in columns[1:] if r.get(c) and c != title)} for r in rows]
