"""User Permission: restricts a user to documents linked to given values. Any change
tells every process to reload the user's restrictions (permissions version)."""
from lowcode.document import Document


class UserPermission(Document):
    def on_update(self):
        from lowcode.permissions import permissions_changed
        permissions_changed()

    def after_delete(self):
        from lowcode.permissions import permissions_changed
        permissions_changed()
