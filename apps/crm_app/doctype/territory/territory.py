"""Territory: a tree by parent_territory (countries, provinces, cities). As Frappe's
nested sets refuse it, a territory may not be placed below itself or below one of its
own sub-territories: the loop would cut the branch off the tree (a manager's territories
are found by walking down from theirs, crm_app/permissions.py)."""
from lowcode import _
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError


class Territory(Document):
    def validate(self):
        parent, seen = self.parent_territory, set()
        while parent and parent not in seen:
            if parent == self.name:
                raise ValidationError(_("A territory cannot be placed below itself or one of its sub-territories"),
                                      field="parent_territory")
            seen.add(parent)
            parent = local.db.get_value("Territory", parent, "parent_territory")
