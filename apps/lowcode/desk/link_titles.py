"""Titles of linked records, shown beside the id on forms, lists and kanban cards
(Frappe's show_title_field_in_link): "CUST-00186 Shiraz Pharma".

Titles are read through the permission-checked query layer, so a record the user may
not read (or whose title field is above the user's permission level) shows its id
only: the title never leaks."""
from .. import query
from ..exceptions import LowcodeError
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
