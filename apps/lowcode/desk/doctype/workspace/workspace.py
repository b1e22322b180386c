"""A workspace on the desk home: shortcuts, number cards and charts (rendered by
lowcode/desk/views/dashboard.py). Public workspaces are shared with everyone; a
workspace naming roles (Frappe's Workspace.roles) shows only to users with one of them.
``duplicate`` makes the user's own private copy to change (the "Duplicate" form action):
how a manager starts from a shipped KPI workspace."""
import json

import lowcode
from lowcode import _
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import PermissionError, ValidationError
from lowcode.meta import doctype_exists
from lowcode.permissions import get_roles, has_permission
from lowcode.urls import is_safe_url

from ..public_share import sync_public_share


class Workspace(Document):
    def validate(self):
        if int(self.is_public or 0) and local.user != "Administrator" and "System Manager" not in get_roles():
            raise ValidationError("Only a System Manager may make a workspace public", field="is_public")
        for row in self.shortcuts or []:
            where = f"Shortcuts row {row.idx}"
            if row.type == "URL" and not is_safe_url(row.link_to or ""):
                raise ValidationError(f"{where}: a URL must start with /, https://, mailto: or tel:", field="link_to")
            if row.type == "DocType" and not doctype_exists(row.link_to):
                raise ValidationError(f"{where}: DocType {row.link_to!r} does not exist", field="link_to")
            if row.type == "DocType" and row.stats_filter:
                from ..number_card.number_card import check_filters
                try:
                    row.stats_filter = json.dumps(check_filters(row.stats_filter, row.link_to), ensure_ascii=False)
                except ValidationError as e:
                    raise ValidationError(f"{where}: {e.message}", field="stats_filter")
            if row.type == "Report" and not local.db.exists("Report", row.link_to):
                raise ValidationError(f"{where}: Report {row.link_to!r} does not exist", field="link_to")

    def on_update(self):
        sync_public_share(self)


def shown_to(ws, user=None):
    """Whether the workspace's roles let ``user`` see it on their home page: no roles, one
    of them, its owner, or someone who manages workspaces."""
    user = user or local.user
    roles = {row.role for row in ws.get("roles") or []}
    if not roles or user in ("Administrator", ws.owner):
        return True
    return bool(get_roles(user) & (roles | {"System Manager"}))


@lowcode.whitelist(methods=["POST"])
def duplicate(name: str):
    """A private copy of a workspace the user may read, owned by them, with the same
    shortcuts, cards and charts (the cards and charts themselves are shared: a copy
    lists them, and the user adds their own); returns its name."""
    source = lowcode.get_doc("Workspace", name)
    if not has_permission("Workspace", "read", doc=source):
        raise PermissionError(_("Not permitted: read %(doctype)s") % {"doctype": "Workspace"}, doctype="Workspace")
    label = base = _("%(label)s (copy)") % {"label": source.label}
    n = 1
    while local.db.exists("Workspace", label):
        n += 1
        label = f"{base} {n}"
    copy = lowcode.get_doc({
        "doctype": "Workspace", "label": label, "module": source.module, "is_public": 0,
        "sequence_id": source.sequence_id,
        "shortcuts": [_row(r, ("type", "link_to", "label", "stats_filter")) for r in source.shortcuts or []],
        "number_cards": [_row(r, ("number_card",)) for r in source.number_cards or []],
        "charts": [_row(r, ("chart", "width")) for r in source.charts or []]}).insert()
    return {"name": copy.name}


def _row(row, fields):
    return {f: row.get(f) for f in fields}
