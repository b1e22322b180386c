"""A workspace on the desk home: shortcuts, number cards and charts (rendered by
lowcode/desk/views/dashboard.py). Public workspaces are shared with everyone."""
import json

from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.meta import doctype_exists
from lowcode.permissions import get_roles
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
