"""DocType metadata: what a DocType's fields, permissions and naming are.

A definition comes from the site database (``tabDocType``, ``tabDocField``,
``tabDocPerm``) with Custom Fields, Property Setters and Custom DocPerms applied; the
core DocTypes that describe DocTypes themselves are read from their JSON files until
their own rows exist. ``validate_definition`` is the one check every definition
passes, whether it comes from an app's JSON file or from the browser.
"""
import json
import os
import re
import threading

from .context import local
from .exceptions import DocTypeDefinitionError, DoesNotExistError
from .fields import links_to, registry, types_where
from .signals import metadata_changed
from .utils import Obj

STANDARD_FIELDS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx")
CHILD_FIELDS = ("parent", "parentfield", "parenttype")
HIDDEN_FIELDS = ("_assign", "_comments", "_liked_by", "_user_tags")
#: names a field may not take: standard columns and SQL words that confuse readers
RESERVED_FIELDNAMES = frozenset(STANDARD_FIELDS + CHILD_FIELDS + HIDDEN_FIELDS + ("doctype", "meta", "flags"))
_FIELDNAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DOCTYPE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9 _\-]{0,60}$")
#: the Select fields that choose a field type: their options are the registry's types
#: (the engine's and the site's apps'), filled in when the metadata is built
FIELDTYPE_SELECTS = {"DocField": "fieldtype", "Custom Field": "fieldtype"}
# The longest Data/Link column: MariaDB keeps a row's varchar columns within 64 KB
# (4 bytes a character in utf8mb4), so a few long columns must still fit; longer text
# belongs in a Text field.
MAX_LENGTH = 1000
_INT_PROPS = ("reqd", "unique", "in_list_view", "in_standard_filter", "read_only", "hidden",
              "permlevel", "search_index", "bold", "allow_on_submit", "no_copy", "print_hide",
              "report_hide", "ignore_user_permissions", "non_negative", "collapsible",
              "fetch_if_empty", "in_global_search", "length", "precision", "columns", "allow_in_quick_entry")
PERM_ACTIONS = ("read", "write", "create", "delete", "submit", "cancel", "amend", "report",
                "export", "import", "share", "print", "email", "select")

# Core DocTypes readable from files before their own rows exist (bootstrap).
BOOTSTRAP_DOCTYPES = ("DocType", "DocField", "DocPerm", "Custom Field", "Property Setter",
                      "Custom DocPerm", "Module Def")
_CORE_DIR = os.path.join(os.path.dirname(__file__), "core", "doctype")



def _fieldtype_select(doctype, df):
    """Fill the options of a Select that chooses a field type (FIELDTYPE_SELECTS)."""
    if df.get("fieldname") and FIELDTYPE_SELECTS.get(doctype) == df.get("fieldname"):
        df["options"] = "\n".join(sorted(registry))
    return df


def _normalise_field(raw):
    df = Obj(raw)
    for key in _INT_PROPS:
        if df.get(key) in ("", None):
            df.pop(key, None)
        else:
            try:
                df[key] = int(df[key])
            except (TypeError, ValueError):
                pass  # validate_definition reports it
    return df


class Meta:
    """A DocType's resolved metadata. Cheap attribute access; built once per change."""

    def __init__(self, definition):
        d = dict(definition)
        self.definition = d
        self.name = d["name"]
        self.module = d.get("module") or "Custom"
        self.istable = int(d.get("istable") or 0)
        self.issingle = int(d.get("issingle") or 0)
        self.is_submittable = int(d.get("is_submittable") or 0)
        self.track_changes = int(d.get("track_changes") or 0)
        self.custom = int(d.get("custom") or 0)
        self.autoname = d.get("autoname") or ""
        self.naming_rule = d.get("naming_rule") or ""
        self.title_field = d.get("title_field") or ""
        self.search_fields = [f.strip() for f in (d.get("search_fields") or "").split(",") if f.strip()]
        self.sort_field = d.get("sort_field") or "modified"
        self.sort_order = (d.get("sort_order") or "DESC").upper()
        self.image_field = d.get("image_field") or ""
        self.allow_rename = int(d.get("allow_rename") or 0)
        self.description = d.get("description") or ""
        self.is_tree = int(d.get("is_tree") or 0)
        # indexes over several columns, beyond the one per filter/link field (schema.py)
        self.indexes = [list(cols) for cols in index_lists(d.get("indexes"))]
        self.fields = [_normalise_field(f) for f in d.get("fields") or []]
        for f in self.fields:
            _fieldtype_select(self.name, f)
        self.permissions = [Obj(p) for p in d.get("permissions") or []]
        self._by_name = {f.fieldname: f for f in self.fields if f.get("fieldname")}
        # fields that own a column, in order
        no_column = types_where("layout") | types_where("table")
        self.data_fields = [f for f in self.fields if f.fieldtype not in no_column]
        self.table_fields = [f for f in self.fields if f.fieldtype in types_where("table")]
        self.link_fields = [f for f in self.fields if links_to(f)]
        self.columns = set(STANDARD_FIELDS) | set(HIDDEN_FIELDS) | {f.fieldname for f in self.data_fields}
        if self.istable:
            self.columns |= set(CHILD_FIELDS)
        self.from_db_fields = [f for f in self.data_fields if registry[f.fieldtype].converts_from_db]
        # What every save walks, worked out once (a Data Import saves 100k documents): the
        # fields a new document may start with a value in, those that may be required,
        # and those naming other documents.
        self.default_fields = [f for f in self.data_fields if f.get("default") not in (None, "")
                               or _has_type_default(f)]
        self.mandatory_fields = [f for f in self.fields if not registry[f.fieldtype].layout
                                 and (f.get("reqd") or f.get("mandatory_depends_on"))]
        self.reference_fields = [f for f in self.fields
                                 if getattr(registry.get(f.fieldtype), "check_reference", None) is not None]

    def get_field(self, fieldname):
        return self._by_name.get(fieldname)

    def has_field(self, fieldname):
        return fieldname in self._by_name

    def get_table_field(self, fieldname):
        # table_fields, not types_where("table"): asked for every key of every new
        # document, and types_where looks at the site's apps each time (a Data Import's 100k rows)
        f = self._by_name.get(fieldname)
        return f if f is not None and any(t is f for t in self.table_fields) else None

    def get_title_field(self):
        return self.title_field if self.title_field in self._by_name else "name"

    def get_list_view_fields(self):
        return [f.fieldname for f in self.data_fields if f.get("in_list_view")]

    def as_dict(self):
        return dict(self.definition, fields=[dict(f) for f in self.fields],
                    permissions=[dict(p) for p in self.permissions])

    def __repr__(self):
        return f"<Meta {self.name}>"


# -- definitions ----------------------------------------------------------------------

def read_json_definition(path):
    """Read a DocType JSON file; a syntax error names the file and line."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except ValueError as e:
        raise DocTypeDefinitionError(f"invalid JSON: {e}", source=path)
    if not isinstance(data, dict) or data.get("doctype") != "DocType" or not data.get("name"):
        raise DocTypeDefinitionError('expected an object with "doctype": "DocType" and a "name"',
                                     source=path)
    return data


def index_lists(value):
    """A DocType's "indexes" as given in its JSON (a list of lists of field names) or as
    stored in tabDocType (that list as JSON text)."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else []
    return value or []


def validate_definition(defn, known_doctypes, source=None):
    """Check a DocType definition before anything is written.

    ``known_doctypes`` maps each DocType name that exists (or is being created in the
    same batch) to whether it is a child table. Raises DocTypeDefinitionError naming the
    source and the field at fault.
    """
    source = source or f"DocType {defn.get('name')!r}"

    def fail(message, field=None):
        where = f"field {field!r}: " if field else ""
        raise DocTypeDefinitionError(where + message, source=source, field=field)

    name = defn.get("name") or ""
    if not _DOCTYPE_RE.match(name):
        fail(f"invalid DocType name {name!r} (letters, digits, spaces, - and _; at most 61 characters)")
    seen = set()
    for raw in defn.get("fields") or []:
        fieldname = raw.get("fieldname")
        ftype = raw.get("fieldtype")
        if not fieldname:
            fail(f"a field of type {ftype!r} has no fieldname")
        if not _FIELDNAME_RE.match(fieldname):
            fail("fieldname must be lower case letters, digits and _ starting with a letter", fieldname)
        if fieldname in RESERVED_FIELDNAMES or fieldname in _document_attributes(defn):
            fail("fieldname is reserved", fieldname)
        if fieldname in seen:
            fail("duplicate fieldname", fieldname)
        seen.add(fieldname)
        if ftype not in registry:
            fail(f"unknown fieldtype {ftype!r}", fieldname)
        for key in _INT_PROPS:
            value = raw.get(key)
            if value not in (None, "") and not _is_int(value):
                fail(f"{key} must be a whole number, got {value!r}", fieldname)
        if raw.get("length") not in (None, "") and not 0 <= int(float(raw["length"])) <= MAX_LENGTH:
            fail(f"length must be between 0 and {MAX_LENGTH}, got {raw['length']}", fieldname)
        try:  # each type checks its own properties (link targets, options, default)
            registry[ftype].validate_definition(_fieldtype_select(name, _normalise_field(raw)), defn,
                                                known_doctypes)
        except ValueError as e:
            fail(str(e), fieldname)
        if raw.get("unique") and not registry[ftype].may_be_unique:
            fail("a long-text field cannot be unique", fieldname)
    autoname = defn.get("autoname") or ""
    if autoname.startswith("field:") and autoname[6:] not in seen:
        fail(f"autoname {autoname!r} names a field that does not exist")
    if autoname.startswith("naming_series:") and "naming_series" not in seen:
        fail("autoname naming_series: needs a naming_series field")
    for key in ("title_field", "sort_field", "image_field"):
        value = defn.get(key)
        if value and value not in seen and value not in STANDARD_FIELDS:
            fail(f"{key} {value!r} is not a field")
    for f in (defn.get("search_fields") or "").split(","):
        if f.strip() and f.strip() not in seen and f.strip() != "name":
            fail(f"search field {f.strip()!r} is not a field")
    if (defn.get("sort_order") or "DESC").upper() not in ("ASC", "DESC"):
        fail("sort_order must be ASC or DESC")
    try:
        indexes = index_lists(defn.get("indexes"))
    except ValueError:
        fail("indexes must be JSON: a list of lists of field names", "indexes")
    if not isinstance(indexes, list):
        fail("indexes must be a list of lists of field names", "indexes")
    for cols in indexes:
        if not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols):
            fail(f"an index is a list of field names, got {cols!r}")
        for c in cols:
            if c not in seen and c not in STANDARD_FIELDS:
                fail(f"index {cols!r} names a field that does not exist", c)
    for i, perm in enumerate(defn.get("permissions") or []):
        if not perm.get("role"):
            fail(f"permission rule {i + 1} has no role")
        for key in PERM_ACTIONS + ("if_owner", "permlevel"):
            if perm.get(key) not in (None, "") and not _is_int(perm.get(key)):
                fail(f"permission rule {i + 1}: {key} must be 0 or 1, got {perm.get(key)!r}")


_ROW_METHODS = frozenset(["get", "set", "update", "append", "as_dict", "run_method", "is_new", "get_title"])
_DOC_METHODS = _ROW_METHODS | {"insert", "save", "delete", "reload", "check_permission"}


def _document_attributes(defn):
    """A field named like a Document method the engine calls would shadow it. Child
    rows are handled through fewer methods, so DocPerm may have ``delete``; only
    submittable DocTypes reserve ``submit`` and ``cancel``."""
    if defn.get("istable"):
        return _ROW_METHODS
    if defn.get("is_submittable"):
        return _DOC_METHODS | {"submit", "cancel"}
    return _DOC_METHODS


def _is_int(value):
    if isinstance(value, bool):
        return True
    try:
        return float(value) == int(float(value))
    except (TypeError, ValueError, OverflowError):  # OverflowError: 'inf'
        return False


# -- loading and caching ----------------------------------------------------------------

_lock = threading.Lock()
_cache = {}           # (site, doctype) -> Meta
_cache_version = {}   # site -> meta version the cache was built at


def core_json_path(doctype):
    from .utils import scrub
    folder = scrub(doctype)
    return os.path.join(_CORE_DIR, folder, folder + ".json")


def _has_type_default(df):
    """Whether a field without a ``default`` still starts with a value (a Check's 0, a
    mandatory Select's first option)."""
    try:
        return registry[df.fieldtype].default(df) is not None
    except Exception:  # noqa: BLE001 - a default the type refuses: left to the save to report
        return True


def get_meta(doctype):
    key = (local.site, doctype)
    try:
        meta = _cache.get(key)
    except TypeError:  # a list or object from a client where a DocType name belongs
        from .exceptions import BadRequest
        raise BadRequest(f"doctype must be a DocType name, got {type(doctype).__name__}", field="doctype")
    if meta is None:
        meta = _shared_cached(doctype)
        with _lock:
            _cache[key] = meta
    return meta


def _shared_cached(doctype):
    """With Redis, resolved definitions are shared by every process of the site, keyed
    by the metadata version so a change is never served stale."""
    if not local.conf.get("redis_cache") or local.flags.in_install or local.flags.in_migrate:
        return load_meta(doctype)
    from .caches import cache
    version = _cache_version.get(local.site)
    if version is None:
        # This process changed metadata and has not committed yet: read our own view.
        return load_meta(doctype)
    shared = cache()
    key = f"meta:{version}:{doctype}"
    definition = shared.get(key)
    if definition is None:
        meta = load_meta(doctype)
        shared.set(key, meta.definition, ttl=86400)
        return meta
    return Meta(definition)


def load_meta(doctype):
    db = local.db
    rows = []
    try:
        rows = db.sql("SELECT * FROM `tabDocType` WHERE `name`=%s", (doctype,), as_dict=True)
    except Exception as e:  # noqa: BLE001
        if not db.is_missing_table(e):
            raise
    if not rows:
        if doctype in BOOTSTRAP_DOCTYPES:
            return Meta(read_json_definition(core_json_path(doctype)))
        raise DoesNotExistError(f"DocType {doctype} not found", doctype=doctype)
    defn = rows[0]
    defn["fields"] = db.sql("SELECT * FROM `tabDocField` WHERE `parent`=%s ORDER BY `idx`",
                            (doctype,), as_dict=True)
    defn["permissions"] = db.sql("SELECT * FROM `tabDocPerm` WHERE `parent`=%s ORDER BY `idx`",
                                 (doctype,), as_dict=True)
    _apply_customisations(db, defn)
    return Meta(defn)


def _apply_customisations(db, defn):
    doctype = defn["name"]
    if not db.table_exists("Custom Field"):
        return
    custom = db.sql("SELECT * FROM `tabCustom Field` WHERE `dt`=%s ORDER BY `idx`, `creation`",
                    (doctype,), as_dict=True)
    fields = defn["fields"]
    for cf in custom:
        cf = dict(cf, is_custom_field=1)
        names = [f["fieldname"] for f in fields]
        after = cf.get("insert_after")
        pos = names.index(after) + 1 if after in names else len(fields)
        fields.insert(pos, cf)
    for ps in db.sql("SELECT * FROM `tabProperty Setter` WHERE `doc_type`=%s ORDER BY `creation`",
                     (doctype,), as_dict=True):
        value = ps["value"]
        if ps.get("property_type") in ("Check", "Int"):
            value = int(float(value or 0))
        if ps["doctype_or_field"] == "DocType":
            defn[ps["property"]] = value
        else:
            for f in fields:
                if f["fieldname"] == ps["field_name"]:
                    f[ps["property"]] = value
    order = next((json.loads(p["value"]) for p in db.sql(
        "SELECT `value` FROM `tabProperty Setter` WHERE `doc_type`=%s AND `property`='field_order'",
        (doctype,), as_dict=True)), None)
    if order:
        rank = {name: i for i, name in enumerate(order)}
        fields.sort(key=lambda f: rank.get(f["fieldname"], len(rank)))
    custom_perms = db.sql("SELECT * FROM `tabCustom DocPerm` WHERE `parent`=%s ORDER BY `idx`",
                          (doctype,), as_dict=True)
    if custom_perms:
        # As in Frappe: once an admin edits a DocType's permissions, the custom rules
        # replace the standard ones entirely.
        defn["permissions"] = custom_perms


def clear_cache(doctype=None):
    """Forget cached metadata here and tell every other process (on commit)."""
    from . import caches as cache
    site = local.site
    _drop_local(site)
    if local.db is not None:
        local.db.after_commit(lambda: _drop_local(site))
        cache.bump_meta_version()


def _drop_local(site):
    _cache_version.pop(site, None)
    with _lock:
        for key in [k for k in _cache if k[0] == site]:
            del _cache[key]
    metadata_changed.send(__name__, site=site)  # hooks, controllers, workflows... (signals.py)


def version():
    """The metadata version this process's definitions were read at (check_version)."""
    return _cache_version.get(local.site)


def check_version():
    """At the start of each request or job: drop metadata another process changed."""
    from . import caches as cache
    site = local.site
    version, perm_version = cache.get_versions()
    local.cache["perm_version"] = perm_version
    if _cache_version.get(site) != version:
        _drop_local(site)
        _cache_version[site] = version


def doctype_exists(doctype):
    if doctype in BOOTSTRAP_DOCTYPES:
        return True
    try:
        return local.db.exists("DocType", doctype)
    except Exception as e:  # noqa: BLE001
        if local.db.is_missing_table(e):
            return False
        raise


def get_known_doctypes():
    """{doctype name: istable} of every DocType on the site."""
    try:
        return {r[0]: bool(r[1]) for r in local.db.sql("SELECT `name`, `istable` FROM `tabDocType`")}
    except Exception as e:  # noqa: BLE001
        if local.db.is_missing_table(e):
            return {}
        raise
