"""Tables and columns from metadata: one real table per DocType (``tab<DocType>``),
one real column per field. Sync only adds or widens: it never drops a column, so a
removed field's data stays in place until an admin removes it on purpose."""
import hashlib

from .context import local
from .exceptions import DocTypeDefinitionError
from .fields import registry
from .meta import STANDARD_FIELDS, HIDDEN_FIELDS
from .utils import scrub


def standard_columns(db, meta):
    v = lambda n=140: db.column_sql_type("varchar", n)  # noqa: E731
    cols = [
        ("name", v() + " NOT NULL"),
        ("owner", v()),
        ("creation", db.column_sql_type("datetime")),
        ("modified", db.column_sql_type("datetime")),
        ("modified_by", v()),
        ("docstatus", db.column_sql_type("int") + " NOT NULL DEFAULT 0"),
        ("idx", db.column_sql_type("int") + " NOT NULL DEFAULT 0"),
    ]
    if meta.istable:
        cols += [("parent", v()), ("parentfield", v()), ("parenttype", v())]
    cols += [(c, db.column_sql_type("text")) for c in HIDDEN_FIELDS]
    return cols


def field_columns(db, meta):
    cols = []
    for df in meta.data_fields:
        cols.append((df.fieldname, registry[df.fieldtype].column_type(df, db)))
    return cols


def index_name(meta, *parts):
    # SQLite index names are global to the database, so they carry the table's name.
    return (scrub(meta.name) + "__" + "_".join(parts))[:64]


def wanted_indexes(meta):
    """(name, columns, unique) for every index the metadata asks for.

    Filter and Link columns are indexed together with the DocType's sort field, so the
    common list page (filter by a field, newest first) reads rows in index order and
    stops after one page instead of sorting every match.
    """
    sort = meta.sort_field if meta.sort_field in meta.columns else "modified"
    out = [(index_name(meta, "modified"), ["modified"], False)]
    if sort != "modified":
        out.append((index_name(meta, sort), [sort], False))
    if meta.istable:
        out.append((index_name(meta, "parent"), ["parent"], False))
    else:
        # Row rules filter on the creator: if_owner permissions, and the apps' rules
        # such as "what I created or own" (a full scan per list at a million rows).
        out.append((index_name(meta, "owner"), ["owner", sort], False))
    for df in meta.data_fields:
        if df.get("unique"):
            out.append((index_name(meta, "u", df.fieldname), [df.fieldname], True))
        elif df.fieldname == sort:
            continue  # the sort field's own index above serves it
        elif (registry[df.fieldtype].link or df.get("in_standard_filter")
              or df.get("search_index")) and registry[df.fieldtype].indexable:
            out.append((index_name(meta, df.fieldname), [df.fieldname, sort], False))
    for cols in meta.indexes:
        # The DocType's own indexes over several columns ("indexes" in its JSON): for a
        # report that reads a whole range of rows, one covering index answers from the
        # index alone instead of looking up every row (see service_app/reports.py).
        name = index_name(meta, "ix", *cols)
        if len(name) > 60:
            name = index_name(meta, "ix", cols[0], hashlib.sha1(",".join(cols).encode()).hexdigest()[:8])
        out.append((name, list(cols), False))
    return out


def _normalise_type(sql_type):
    t = sql_type.lower().replace(" not null", "").split(" default")[0].strip()
    return t


def sync_table(meta):
    """Create or alter ``tab<DocType>`` to match the metadata; return what changed."""
    db = local.db
    changes = []
    columns = standard_columns(db, meta) + field_columns(db, meta)
    indexes = wanted_indexes(meta)
    if not db.table_exists(meta.name):
        db.create_table(meta.name, columns, indexes)
        return ["create table"]
    existing = db.get_columns(meta.name)
    missing = [(c, t) for c, t in columns if c not in existing]
    if missing:
        db.add_columns(meta.name, missing)
        changes += [f"add column {c}" for c, _ in missing]
    if db.db_type == "mariadb":
        for c, t in columns:
            if c in existing and c not in STANDARD_FIELDS and _normalise_type(t) != existing[c]:
                try:
                    db.change_column_type(meta.name, c, t)
                except Exception as e:  # noqa: BLE001 - reported with the field named
                    raise DocTypeDefinitionError(
                        f"cannot change column type from {existing[c]} to {_normalise_type(t)}: "
                        f"existing values do not fit ({e})", source=f"DocType {meta.name}", field=c)
                changes.append(f"change column {c}")
    have = db.get_indexes(meta.name)
    for name, cols, unique in indexes:
        if name in have and have[name] == (unique, cols):
            continue
        if name in have:
            db.drop_index(meta.name, name)
        try:
            db.add_index(meta.name, name, cols, unique)
        except Exception as e:  # noqa: BLE001
            if unique and db.is_unique_violation(e) or "Duplicate" in str(e) or "UNIQUE" in str(e):
                raise DocTypeDefinitionError(
                    "cannot make the field unique: existing documents share a value",
                    source=f"DocType {meta.name}", field=cols[0])
            raise
        changes.append(f"index {name}")
    wanted = {n for n, _, _ in indexes}
    for name, (unique, cols) in have.items():
        # A field that stopped being unique loses its unique index (no data is lost).
        if unique and name not in wanted and name.startswith(index_name(meta, "u", "")):
            db.drop_index(meta.name, name)
            changes.append(f"drop unique {name}")
    return changes


def drop_column(doctype, column):
    """Drop a column and the indexes over it (SQLite refuses to drop an indexed column;
    a composite index without it would be another index). Used only when an app takes back
    its Custom Field; an admin's removal keeps the column (customize.remove_custom_field)."""
    db = local.db
    if column not in db.get_columns(doctype):
        return False
    for name, (_unique, cols) in db.get_indexes(doctype).items():
        if column in cols:
            db.drop_index(doctype, name)
    db.sql(f"ALTER TABLE `tab{doctype}` DROP COLUMN `{column}`")
    return True


def create_system_tables():
    """Tables outside DocType metadata: naming-series counters, secrets, sessions, the
    assignment index (lowcode/assignments.py) and which app made which record (ownership.py)."""
    from .assignments import create_table
    from .ownership import create_table as create_ownership_table
    db = local.db
    v = db.column_sql_type
    if not db.table_exists("Series"):
        db.sql(f"CREATE TABLE `tabSeries` (`name` {v('varchar', 140)} NOT NULL PRIMARY KEY, "
               f"`current` {v('bigint')} NOT NULL DEFAULT 0)")
    if not db.table_exists("Auth"):
        # Password hashes and API secret digests live apart from documents, so no read
        # path (list, report, export) can ever reach them.
        db.sql(f"CREATE TABLE `tabAuth` (`doctype` {v('varchar', 140)} NOT NULL, "
               f"`name` {v('varchar', 140)} NOT NULL, `fieldname` {v('varchar', 140)} NOT NULL, "
               f"`password` {v('text')}, PRIMARY KEY (`doctype`, `name`, `fieldname`))")
    if not db.table_exists("Sessions"):
        db.sql(f"CREATE TABLE `tabSessions` (`sid` {v('varchar', 140)} NOT NULL PRIMARY KEY, "
               f"`user` {v('varchar', 140)}, `data` {v('text')}, `expires` {v('datetime')}, "
               f"`ip` {v('varchar', 140)})")
    # What a user's list of sessions shows (auth.list_sessions); added to older sites' tables.
    missing = [(c, t) for c, t in (("user_agent", v("text")), ("created", v("datetime")),
                                   ("last_active", v("datetime"))) if c not in db.get_columns("Sessions")]
    if missing:
        db.add_columns("Sessions", missing)
    create_table(db)
    create_ownership_table(db)
