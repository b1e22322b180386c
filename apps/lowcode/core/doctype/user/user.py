"""Users: named by e-mail (Administrator and Guest keep their names), roles in a
child table, passwords and API secrets kept in tabAuth, never in the document."""
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError

STANDARD_USERS = ("Administrator", "Guest")


class User(Document):
    def autoname(self):
        if self.name in STANDARD_USERS:
            return
        if not isinstance(self.email or "", str):  # named before fields are coerced
            raise ValidationError(f"email must be text, got {type(self.email).__name__}", field="email")
        self.name = (self.email or "").strip().lower()

    def validate(self):
        self.full_name = " ".join(p for p in (self.first_name, self.last_name) if p)
        if self.name in STANDARD_USERS and not self.is_new():
            before = self._doc_before_save
            if before and int(before.enabled or 0) and not int(self.enabled or 0):
                raise ValidationError(f"{self.name} cannot be disabled", field="enabled")
        roles = [r.role for r in self.roles]
        if len(roles) != len(set(roles)):
            raise ValidationError("a role is listed twice", field="roles")

    def on_update(self):
        from lowcode.permissions import permissions_changed
        permissions_changed()  # roles may have changed
        if not int(self.enabled or 0):
            from lowcode.auth import drop_sessions, drop_token_cache
            drop_sessions(self.name)
            drop_token_cache(self.name)

    def on_trash(self):
        if self.name in STANDARD_USERS:
            raise ValidationError(f"{self.name} cannot be deleted")
        from lowcode.auth import drop_sessions, drop_token_cache
        drop_token_cache(self.name)
        drop_sessions(self.name)  # a deleted user's session must not live on (as "All")

    def after_delete(self):
        local.db.sql("DELETE FROM `tabAuth` WHERE `doctype`='User' AND `name`=%s", (self.name,))
        local.db.sql("DELETE FROM `tabHas Role` WHERE `parent`=%s AND `parenttype`='User'", (self.name,))
        from lowcode.permissions import permissions_changed
        permissions_changed()
