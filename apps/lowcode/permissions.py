"""Who may do what: role permissions (DocPerms and Custom DocPerms), ``if_owner``,
field permission levels, User Permissions, sharing, and the apps'
``has_permission`` / ``permission_query_conditions`` hooks.

Document checks (``has_permission``) and list conditions (``match_conditions``, an
SQL fragment with bound values) follow the same rules, so what a list shows is what
opening each row would allow.
"""
from .apps import get_attr, get_hooks
from .context import local
from .meta import get_meta

ADMIN = "Administrator"
AUTOMATIC_ROLES = ("All", "Guest")
SHARE_PTYPES = ("read", "write", "share", "submit")


# Roles and User Permissions per (site, user), kept across requests while the
# permissions version (read with the metadata version at each request) is unchanged.
_process_memo = {}


def _memo(kind, user, load):
    version = local.cache.get("perm_version")
    key = (local.site, kind, user)
    hit = _process_memo.get(key)
    if hit is not None and version is not None and hit[0] == version:
        return hit[1]
    value = load()
    if version is not None:
        _process_memo[key] = (version, value)
    return value


def get_roles(user=None):
    user = user or local.user
    cache = local.cache.setdefault("_roles", {})
    roles = cache.get(user)
    if roles is None:
        if user == "Guest":
            roles = {"Guest"}
        else:
            roles = _memo("roles", user, lambda: _load_roles(user))
        cache[user] = roles
    return roles


def _load_roles(user):
    roles = set(local.db.sql(
        "SELECT `role` FROM `tabHas Role` WHERE `parent`=%s AND `parenttype`='User'", (user,), pluck=True))
    roles |= {"All", "Guest"}
    if user == ADMIN:
        roles.add(ADMIN)
    return frozenset(roles)


def clear_role_cache():
    if local:
        local.cache.pop("_roles", None)
        local.cache.pop("_user_perms", None)


def permissions_changed():
    """Roles or User Permissions changed in this transaction: forget them here now, and
    everywhere else from the next request (the version bump commits with the change)."""
    from .caches import bump_perm_version
    bump_perm_version()
    for key in [k for k in _process_memo if k[0] == local.site]:
        _process_memo.pop(key, None)
    clear_role_cache()


def _role_rules(meta, user, permlevel=0):
    roles = get_roles(user)
    return [p for p in meta.permissions if p.role in roles and int(p.permlevel or 0) == permlevel]


def role_access(doctype, ptype, user=None):
    """'all', 'owner' (only documents the user owns) or None, from role rules alone."""
    user = user or local.user
    if user == ADMIN:
        return "all"
    meta = get_meta(doctype)
    if meta.istable:
        return None
    rules = [p for p in _role_rules(meta, user) if int(p.get(ptype) or 0)]
    if not rules:
        return None
    return "owner" if all(int(p.if_owner or 0) for p in rules) else "all"


def get_permlevels(doctype, ptype, user=None, doc=None):
    """Permission levels the user can ``read`` or ``write`` on a DocType."""
    user = user or local.user
    meta = get_meta(doctype)
    if user == ADMIN:
        return set(int(df.permlevel or 0) for df in meta.fields) | {0}
    levels = set()
    roles = get_roles(user)
    for p in meta.permissions:
        if p.role in roles and int(p.get(ptype) or 0):
            if int(p.if_owner or 0) and doc is not None and doc.get("owner") != user:
                continue
            levels.add(int(p.permlevel or 0))
    if ptype == "read":
        levels |= get_permlevels(doctype, "write", user, doc) if ptype != "write" else set()
    if 0 not in levels and doc is not None and _shared(doctype, doc.name, user, ptype):
        levels.add(0)
    if 0 not in levels and doc is None and ptype == "read" and _has_shares(doctype, user):
        levels.add(0)  # list queries are already limited to the shared rows
    return levels


def permitted_fieldnames(doctype, user=None, doc=None):
    """Data fields the user may read (their permlevel is granted)."""
    meta = get_meta(doctype)
    levels = get_permlevels(doctype, "read", user, doc)
    return [df.fieldname for df in meta.data_fields if int(df.permlevel or 0) in levels]


def _shared(doctype, name, user, ptype):
    if not name or ptype not in SHARE_PTYPES or user == "Guest":
        return False
    column = ptype if ptype in ("read", "write", "share", "submit") else "read"
    return bool(local.db.sql(
        f"SELECT 1 FROM `tabDocShare` WHERE `share_doctype`=%s AND `share_name`=%s "
        f"AND (`user`=%s OR `everyone`=1) AND `{column}`=1 LIMIT 1", (doctype, name, user)))


def has_permission(doctype, ptype="read", doc=None, user=None, raise_exception=False):
    """May ``user`` do ``ptype`` on the DocType (``doc`` None) or on one document?"""
    user = user or local.user
    allowed = _has_permission(doctype, ptype, doc, user)
    if not allowed and raise_exception:
        from .exceptions import PermissionError
        raise PermissionError(f"Not permitted: {ptype} {doctype}", doctype=doctype)
    return allowed


def _has_permission(doctype, ptype, doc, user):
    if user == ADMIN:
        return True
    meta = get_meta(doctype)
    if meta.istable:
        return False
    access = role_access(doctype, ptype, user)
    if doc is None:
        if access:
            return True
        return ptype in SHARE_PTYPES and _has_shares(doctype, user)
    if access == "all" or (access == "owner" and (doc.get("owner") in (None, user) or doc.is_new())):
        if _user_permissions_allow(meta, doc, user) and _hooks_allow(doc, ptype, user):
            return True
    # A share is an explicit grant of one document: app hooks narrow role access only,
    # as the list query does (shared rows are OR-ed past the hooks' conditions).
    return not doc.is_new() and _shared(doctype, doc.name, user, ptype)


def _hooks_allow(doc, ptype, user):
    for path in get_hooks("has_permission", {}).get(doc.doctype, []):
        if get_attr(path)(doc, ptype=ptype, user=user) is False:
            return False
    return True


def _has_shares(doctype, user):
    if user == "Guest":
        return False
    return bool(local.db.sql("SELECT 1 FROM `tabDocShare` WHERE `share_doctype`=%s AND "
                             "(`user`=%s OR `everyone`=1) AND `read`=1 LIMIT 1", (doctype, user)))


# -- User Permissions -------------------------------------------------------------------------

def get_user_permissions(user=None):
    """{allowed DocType: [(value, applicable_for or None)]} for a user."""
    user = user or local.user
    cache = local.cache.setdefault("_user_perms", {})
    if user not in cache:
        cache[user] = _memo("user_perms", user, lambda: _load_user_permissions(user))
    return cache[user]


def _load_user_permissions(user):
    """{allowed DocType: [(value, applicable_for or None)]} from the database."""
    try:
        rows = local.db.sql("SELECT `allow`, `for_value`, `applicable_for`, `apply_to_all_doctypes` "
                            "FROM `tabUser Permission` WHERE `user`=%s", (user,))
    except Exception as e:  # noqa: BLE001
        if not local.db.is_missing_table(e):
            raise
        rows = []
    out = {}
    for allow, value, applicable_for, to_all in rows:
        out.setdefault(allow, []).append((value, None if int(to_all or 0) or not applicable_for
                                          else applicable_for))
    return out


def _restrictions(meta, user):
    """[(column, allowed values)] that User Permissions impose on a DocType."""
    perms = get_user_permissions(user)
    if not perms:
        return []
    out = []

    def values_for(allow):
        return [v for v, applicable in perms.get(allow, []) if applicable in (None, meta.name)]

    if meta.name in perms:
        vals = values_for(meta.name)
        if vals:
            out.append(("name", vals))
    for df in meta.link_fields:
        if df.options in perms and not int(df.ignore_user_permissions or 0):
            vals = values_for(df.options)
            if vals:
                out.append((df.fieldname, vals))
    return out


def _user_permissions_allow(meta, doc, user):
    for column, allowed in _restrictions(meta, user):
        value = doc.get(column)
        if column == "name":
            if not doc.is_new() and value not in allowed:
                return False
        elif value not in (None, "") and value not in allowed:
            return False
    return True


# -- list conditions ------------------------------------------------------------------------

class OrParts:
    """A row condition that is an OR of parts.

    A ``permission_query_conditions`` hook may return one instead of an SQL string, so
    the query layer can shape the SQL per part (query.py: an exact count as a sum of
    disjoint parts, a list page from each part's own first rows), which lets every part
    use its own index; ``sql()`` gives the plain ``(p1 OR p2 ...)`` for everything else.
    No parts means no rows.

    ``parts`` holds each part as it is queried on its own, ``(sql, values)``. A part may
    read differently inside the OR (``in_or``: a function giving ``(sql, values)``, or
    ``(None, [])`` when the part holds nothing), which is worked out only when the OR
    is asked for."""

    def __init__(self, parts=()):
        self.parts = []
        self._in_or = []
        for sql, values in parts:
            self.add(sql, values)

    def add(self, sql, values=(), in_or=None):
        self.parts.append((sql, list(values)))
        self._in_or.append(in_or)
        return self

    def add_name_in(self, column, subquery, values):
        """A part "``column`` is one of the names ``subquery`` selects". On its own it
        is a subquery, which both engines answer as a join on the primary key (read as a
        derived table: MariaDB would run an ``IN (... UNION ...)`` once per row); inside
        the OR it is what name_in gives (on MariaDB the names read first and bound)."""
        return self.add(f"{column} IN (SELECT * FROM ({subquery}) `names`)", values,
                        in_or=lambda: name_in(column, subquery, values))

    def extend(self, other):
        self.parts += other.parts
        self._in_or += other._in_or
        return self

    def sql(self):
        parts = []
        for (sql, values), in_or in zip(self.parts, self._in_or):
            if in_or is not None:
                sql, values = in_or()
            if sql:
                parts.append((sql, values))
        if not parts:
            return "1=0", []
        return "(" + " OR ".join(s for s, _ in parts) + ")", [v for _, vs in parts for v in vs]


def match_conditions(doctype, user=None, ptype="read", alias=None):
    """(sql, values) restricting a query on ``doctype`` (aliased ``alias``) to rows the
    user may ``ptype``; ``("1=1", [])`` for full access, ``("1=0", [])`` for none."""
    cond = row_condition(doctype, user, ptype, alias)
    return ("1=1", []) if cond is None else cond.sql()


def row_condition(doctype, user=None, ptype="read", alias=None):
    """The rows ``user`` may ``ptype`` as OrParts, or None for full access. The role
    rule and a document share are alternatives; when the role rule is one hook's OR,
    its parts are the condition's parts."""
    user = user or local.user
    alias = alias or f"tab{doctype}"
    if user == ADMIN:
        return None
    meta = get_meta(doctype)
    access = role_access(doctype, ptype, user)
    share_col = ptype if ptype in ("read", "write", "share", "submit") else "read"
    out = OrParts()
    if access:
        role_parts = []  # (sql, values), all required; a hook's OrParts as it is
        if access == "owner":
            role_parts.append((f"`{alias}`.`owner`=%s", [user]))
        for column, allowed in _restrictions(meta, user):
            marks = ", ".join(["%s"] * len(allowed))
            if column == "name":
                role_parts.append((f"`{alias}`.`name` IN ({marks})", allowed))
            else:
                # Empty links stay visible, as in Frappe without strict user permissions.
                role_parts.append((f"(`{alias}`.`{column}` IN ({marks}) OR `{alias}`.`{column}` IS NULL "
                                   f"OR `{alias}`.`{column}`='')", allowed))
        for path in get_hooks("permission_query_conditions", {}).get(doctype, []):
            cond = _call_with_doctype(get_attr(path), user, doctype)
            if isinstance(cond, OrParts):
                role_parts.append(cond)
            elif isinstance(cond, tuple):
                if cond[0]:
                    role_parts.append((f"({cond[0]})", list(cond[1])))
            elif cond:
                role_parts.append((f"({cond})", []))
        if not role_parts:
            return None  # full access: shares add nothing
        if len(role_parts) == 1 and isinstance(role_parts[0], OrParts):
            out.extend(role_parts[0])
        else:
            role_parts = [p.sql() if isinstance(p, OrParts) else p for p in role_parts]
            out.add("(" + " AND ".join(sql for sql, _ in role_parts) + ")", [v for _, vs in role_parts for v in vs])
    if user != "Guest":
        # Each arm has its own index (share_doctype, user / everyone): no scan of the shares.
        out.add_name_in(f"`{alias}`.`name`",
                        f"SELECT `share_name` FROM `tabDocShare` WHERE `share_doctype`=%s AND `user`=%s "
                        f"AND `{share_col}`=1 UNION SELECT `share_name` FROM `tabDocShare` "
                        f"WHERE `share_doctype`=%s AND `everyone`=1 AND `{share_col}`=1",
                        [doctype, user, doctype])
    return out


#: Up to this many names go into a list condition as bound values; beyond, a subquery.
NAME_LIST_LIMIT = 5000


def name_in(column, subquery, values):
    """(sql, values) for "``column`` is one of the names ``subquery`` selects" as one
    part of an OR in a list condition, or (None, []) when there are none.

    SQLite answers ``column IN (subquery)`` inside an OR from indexes (its multi-index
    OR runs the subquery once). MariaDB does not: an ``IN (subquery)`` in an OR makes
    it read the whole table. So on MariaDB the names are read first (same transaction)
    and bound as a plain ``IN`` list, which its index merge combines with the other
    parts, with range estimates that tell a user with 20 rows from one with 20,000;
    past NAME_LIST_LIMIT names the subquery is used after all."""
    db = local.db
    if db.db_type == "mariadb":
        names = db.sql(subquery, values, pluck=True)
        if not names:
            return None, []
        if len(names) <= NAME_LIST_LIMIT:
            return f"{column} IN ({', '.join(['%s'] * len(names))})", list(names)
    return f"{column} IN ({subquery})", list(values)


def _call_with_doctype(fn, user, doctype):
    """Frappe's hooks take the user only; one that also names ``doctype`` gets it, so
    one function can serve several DocTypes."""
    import inspect
    if "doctype" in inspect.signature(fn).parameters:
        return fn(user, doctype=doctype)
    return fn(user)
