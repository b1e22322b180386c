"""A user's saved list view: named filters and sort for one DocType, shown as links
above that DocType's list (see lowcode/desk/views/bulk.py)."""
import json

from lowcode import query
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError


class ListViewSettings(Document):
    def validate(self):
        if self.is_new() or not self.user:
            self.user = self.owner or local.user
        if self.user != self.owner:
            raise ValidationError("A saved view belongs to the user who made it", field="user")
        for key in ("filters", "columns"):
            try:
                value = json.loads(self.get(key) or "[]")
            except ValueError as e:
                raise ValidationError(f"{key}: not valid JSON ({e.msg})", field=key)
            if not isinstance(value, list):
                raise ValidationError(f"{key}: must be a JSON list", field=key)
        query.normalise_filters(self.filters or "[]", self.ref_doctype)
