"""``lowcode.db``: Frappe's ``frappe.db`` API for app code, on the site's connection.

Frappe's meaning throughout: no permission checks (the caller decides who may do what;
``lowcode.get_list``, ``get_doc`` and the client methods are the checked paths), no
controllers, hooks or versions (``set_value`` and ``delete`` are direct UPDATE and
DELETE statements). Identifiers come only from metadata: an unknown DocType or field
is an error naming it (meta.get_meta, query.Query.resolve). Every value is bound.
Filters take Frappe's forms: a name, a dict, a list of lists, a list of names;
query.py turns them into SQL, so they mean here what they mean in ``get_list``.

Anything else (``begin``, ``table_exists``, ``after_commit``, ``db_type``...) is the
raw connection of ``lowcode.local.db`` (database/base.py), reached through this object.
"""
import re

from .caches import forget_records
from .context import local

_NAMED_PARAM = re.compile(r"%\((\w+)\)s")


class Database:
    """The object ``lowcode.db`` is. Stateless: every call uses the current site's connection."""

    def __getattr__(self, name):
        return getattr(local.db, name)

    @staticmethod
    def replica():
        """``with lowcode.db.replica():`` lists, counts and reports read inside may be served
        by a read replica (database/replicas.py; writes always go to the primary)."""
        from .database.replicas import replica
        return replica()

    # -- SQL ----------------------------------------------------------------------------
    def sql(self, query, values=(), as_dict=False, as_list=False, pluck=False):
        """Run ``query`` with ``values`` bound: a sequence for ``%s`` placeholders or a
        dict for ``%(name)s`` ones (as Frappe's db.sql). Rows are tuples, dicts
        (``as_dict``), lists (``as_list``) or the first column (``pluck``)."""
        if isinstance(values, dict):
            params = values
            missing = [n for n in _NAMED_PARAM.findall(query) if n not in params]
            if missing:
                from .exceptions import ValidationError
                raise ValidationError(f"sql: no value given for %({missing[0]})s", field=missing[0])
            values = [params[n] for n in _NAMED_PARAM.findall(query)]
            query = _NAMED_PARAM.sub("%s", query)
        for doctype in _WRITTEN_TABLE.findall(query):  # memoised records of it are read again
            forget_records(doctype)
        rows = local.db.sql(query, values or (), as_dict=as_dict, pluck=pluck)
        if as_list and not (as_dict or pluck):
            return [list(r) for r in rows]
        return rows

    def commit(self):
        """Commit the current transaction (requests, jobs and commands commit by themselves
        when they succeed: call it only to keep work that must survive a later error)."""
        local.db.commit()

    def rollback(self):
        local.db.rollback()

    # -- reading ------------------------------------------------------------------------
    def get_values(self, doctype, filters=None, fieldname="name", ignore=None, as_dict=False,
                   order_by=None, limit=None, pluck=False, distinct=False, for_update=False,
                   cache=False, debug=False):
        """Rows of ``doctype`` matching ``filters``: tuples of the ``fieldname`` column(s)
        (a name or a list of names; ``"*"`` for every column), dicts with ``as_dict``,
        values with ``pluck``. A Single DocType gives its one document. ``ignore``: an
        unknown DocType or field gives no rows instead of an error. ``for_update`` locks
        the rows until commit. ``cache`` and ``debug`` are taken for Frappe code's sake
        and change nothing (every read is fresh)."""
        from .exceptions import DoesNotExistError, InvalidFieldError
        try:
            meta = _meta(doctype)
            fields = ["*"] if fieldname == "*" else \
                list(fieldname) if isinstance(fieldname, (list, tuple)) else [fieldname]
            if meta.issingle:
                rows = [_single_row(meta, fields)]
            else:
                if filters is None:
                    return []  # as Frappe: no filters means the Single's values, and this is none
                from .query import get_list
                rows = get_list(doctype, fields=fields, filters=_filters(filters), order_by=order_by,
                                limit_page_length=limit or 0, distinct=distinct, ignore_permissions=True,
                                for_update=for_update)
        except (DoesNotExistError, InvalidFieldError):
            if ignore:
                return []
            raise
        if pluck:
            return [next(iter(r.values())) for r in rows]
        return rows if as_dict else [tuple(r.values()) for r in rows]

    def get_value(self, doctype, filters=None, fieldname="name", ignore=None, as_dict=False,
                  order_by=None, pluck=False, distinct=False, for_update=False, cache=False, debug=False):
        """The first matching row's ``fieldname``: one value for one field, a tuple for a
        list of fields, a dict with ``as_dict``; None when nothing matches."""
        rows = self.get_values(doctype, filters, fieldname, ignore=ignore, as_dict=as_dict,
                               order_by=order_by, limit=1, pluck=pluck, distinct=distinct,
                               for_update=for_update)
        if not rows:
            return None
        row = rows[0]
        if pluck or as_dict or len(row) > 1:
            return row
        return row[0]

    def get_single_value(self, doctype, fieldname):
        """A field of a Single DocType (its default while never saved)."""
        meta = _meta(doctype)
        if not meta.issingle:
            from .exceptions import ValidationError
            raise ValidationError(f"{doctype} is not a Single DocType", field="doctype", doctype=doctype)
        return _single_row(meta, [fieldname])[fieldname]

    def exists(self, doctype, name=None):
        """The name of the first document matching ``name`` (a name or filters), else
        None. ``exists({"doctype": dt, field: value})`` as Frappe. An unknown DocType
        does not exist (Frappe ignores a missing table here); an unknown field is an error."""
        if isinstance(doctype, dict):
            name = dict(doctype)
            doctype = name.pop("doctype")
        from .exceptions import DoesNotExistError
        try:
            meta = _meta(doctype)
        except DoesNotExistError:
            return None
        if meta.issingle and name in (None, doctype):
            return doctype  # a Single always exists, as in Frappe
        if name is None or name == "" or name == []:
            return None
        return self.get_value(doctype, name, "name")

    def count(self, doctype, filters=None, distinct=False):
        """The number of rows of ``doctype`` matching ``filters``."""
        from .query import get_count
        _meta(doctype)
        return get_count(doctype, filters=_filters(filters), ignore_permissions=True, distinct=distinct)

    # -- writing ------------------------------------------------------------------------
    def set_value(self, doctype, name, fieldname, value=None, modified=None, modified_by=None,
                  update_modified=True):
        """Set fields of the rows matching ``name`` (a name or filters; a Single DocType's
        name or None for its document) by one UPDATE: no controller, validation,
        permission check or version, as Frappe's db.set_value. ``fieldname`` may be a dict
        of several fields. Values are converted as their field type stores them (a bad
        one is a DataError naming the field). ``modified``/``modified_by`` are set to now
        and the user unless ``update_modified`` is False."""
        from .exceptions import InvalidFieldError
        from .utils import now
        meta = _meta(doctype)
        changes = dict(fieldname) if isinstance(fieldname, dict) else {fieldname: value}
        if update_modified:
            changes.update({"modified": modified or now(), "modified_by": modified_by or local.user})
        row = {}
        for field, v in changes.items():
            if field == "name" or field not in meta.columns:
                raise InvalidFieldError(f"{doctype} has no field {field!r} to set", field=field, doctype=doctype)
            row[field] = _to_db(meta, field, v)
        if meta.issingle:
            if name not in (None, doctype):
                raise InvalidFieldError(f"{doctype} is a Single DocType: its document is named {doctype}",
                                        field="name", doctype=doctype)
            if not local.db.exists(doctype, doctype):
                _insert_single(doctype)
            name = doctype
        if name is None:
            return
        where, values = _where(doctype, name)
        forget_records(doctype)
        local.db.sql(f"UPDATE `tab{doctype}` SET {', '.join(f'`{c}`=%s' for c in row)}{where}",
                     list(row.values()) + values)

    def set_single_value(self, doctype, fieldname, value=None):
        """set_value on a Single DocType's document."""
        self.set_value(doctype, doctype, fieldname, value)

    def delete(self, doctype, filters=None):
        """Delete the rows of ``doctype`` matching ``filters`` (every row without filters)
        by one DELETE: no controller, no link check, child rows stay, as Frappe's
        db.delete. Use lowcode.delete_doc to delete a document."""
        _meta(doctype)
        where, values = _where(doctype, filters)
        forget_records(doctype)
        local.db.sql(f"DELETE FROM `tab{doctype}`{where}", values)


# the tables an UPDATE, INSERT, REPLACE or DELETE statement writes (caches.memo_records)
_WRITTEN_TABLE = re.compile(r"(?is)\b(?:UPDATE|INTO|DELETE\s+FROM)\s+`tab([^`]+)`")


def _meta(doctype):
    from .exceptions import BadRequest
    from .meta import get_meta
    if not isinstance(doctype, str) or not doctype:
        raise BadRequest(f"doctype must be a DocType name, got {doctype!r}", field="doctype")
    return get_meta(doctype)


def _filters(filters):
    """Frappe's filter forms that query.normalise_filters does not read itself: a name
    (text or number) and a list of names."""
    if isinstance(filters, (str, int)) and not isinstance(filters, bool):
        return {"name": filters}
    if isinstance(filters, (list, tuple)) and filters and all(
            isinstance(f, (str, int)) and not isinstance(f, bool) for f in filters):
        return {"name": ["in", list(filters)]}
    return filters


def _where(doctype, filters):
    """(`` WHERE ...``, values) for ``filters`` on ``doctype``'s table, through query.py's
    checks (fields from metadata, operators, values coerced and bound)."""
    from .query import Query, normalise_filters
    filters = _filters(filters)
    if not filters:
        return "", []
    q = Query(doctype, None, "read", ignore_permissions=True)
    parts = q.where(normalise_filters(filters, doctype), None)
    return (" WHERE " + " AND ".join(parts)) if parts else "", q.values


def _to_db(meta, field, value):
    from .fields import registry
    df = meta.get_field(field)
    if df is None:  # a standard, child or hidden column: stored as given
        return value
    ftype = registry[df.fieldtype]
    return ftype.to_db(ftype.coerce(value, df), df)


def _single_row(meta, fields):
    """A Single DocType's document as {field: value} for ``fields`` (every data field
    for ``["*"]``), each checked against its metadata."""
    from .document import load_doc
    from .exceptions import InvalidFieldError
    from .meta import STANDARD_FIELDS
    if fields == ["*"]:
        fields = list(STANDARD_FIELDS) + [df.fieldname for df in meta.data_fields]
    for field in fields:
        if not isinstance(field, str) or field not in STANDARD_FIELDS and not meta.has_field(field):
            raise InvalidFieldError(f"{meta.name} has no field {field!r}", field=str(field), doctype=meta.name)
    doc = load_doc(meta.name, meta.name)
    return {f: doc.get(f) for f in fields}


def _insert_single(doctype):
    """The row of a Single DocType never saved: its defaults, no controller run."""
    from .document import new_doc
    doc = new_doc(doctype)
    doc.name = doctype
    doc._set_standard_fields(new=True)
    local.db.insert_row(doctype, doc._row())
