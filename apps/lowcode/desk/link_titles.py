"""Titles of linked records, shown beside the id on forms, lists and kanban cards
(Frappe's show_title_field_in_link): "CUST-00186 Shiraz Pharma".

Titles are read through the permission-checked query layer, so a record the user may
not read (or whose title field is above the user's permission level) shows its id
only: the title never leaks."""
from .. import query
from ..context import local
from ..exceptions import LowcodeError
from ..fields import links_to
from ..meta import get_meta
from ..permissions import permitted_fieldnames, role_access


def link_titles(targets):
    """{(doctype, name): title} for the (doctype, name) pairs (see badges.link_targets)
    whose DocType has a title field, the user may read, and whose title differs from
    the id. One query per target DocType."""
    wanted = {}
    for doctype, name in targets:
        if doctype and name:
            wanted.setdefault(doctype, set()).add(name)
    out = {}
    for doctype, names in wanted.items():
        if doctype == "User":  # by the one helper that names users (cached for the page)
            out.update({("User", u): title for u, title in user_names(sorted(names)).items() if title != u})
            continue
        try:
            meta = get_meta(doctype)
        except LowcodeError:
            continue  # a Dynamic Link naming no DocType
        title = meta.get_title_field()
        if title == "name" or role_access(doctype, "read") is None or title not in permitted_fieldnames(doctype):
            continue
        try:
            rows = query.get_list(doctype, fields=["name", title], filters=[["name", "in", sorted(names)]],
                                  limit_page_length=0)
        except LowcodeError:
            continue
        for row in rows:
            if row[title] and str(row[title]) != row["name"]:
                out[(doctype, row["name"])] = str(row[title])
    return out


def user_names(users):
    """{user id: full name} for ``users`` (the id where a user has no full name): the one
    way the desk prints a user (timeline, notifications, assignments, cells). One query for
    the names not yet looked up in this request; a page asks for all of its users first
    (the ``user_name`` filter then reads the cache). Users are readable by every desk user
    (User's "All" rule), through the same permission-checked query as other titles."""
    cache = local.cache.setdefault("_user_names", {})
    missing = sorted({u for u in users if u and u not in cache})
    if missing:
        try:
            rows = query.get_list("User", fields=["name", "full_name"], filters=[["name", "in", missing]],
                                  limit_page_length=0)
        except LowcodeError:
            rows = []
        cache.update(dict.fromkeys(missing))  # unknown or unreadable: shown as the id, not asked again
        cache.update({r["name"]: r["full_name"] for r in rows})
    return {u: cache.get(u) or u for u in users if u}


def user_name(user):
    return user_names([user]).get(user, user) if user else (user or "")


def is_user_field(df):
    """A field whose values are user ids: a Link to User, or the record's owner/modified_by."""
    return links_to(df) == "User" or df.get("fieldname") in ("owner", "modified_by")


def prefetch_user_names(columns, rows):
    """Look up, in one query, the users a page's table shows (``rows``: dicts or lists in
    the order of ``columns``), so its cells' ``user_name`` filter reads them from the cache."""
    keys = [(i, df.get("key") or df.get("fieldname")) for i, df in enumerate(columns) if is_user_field(df)]
    if keys:
        user_names([row[k if isinstance(row, dict) else i] for row in rows for i, k in keys])
