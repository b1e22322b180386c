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
        if not self.calendar:  # not chosen: the language's own (a Persian user's is Jalali, in Persian digits)
            self.calendar = "Jalali" if self.language == "fa" else "Gregorian"
            if self.language == "fa":
                self.use_local_digits = 1
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


# -- passwords set by an admin, or by the user for themselves (Frappe's ``new_password``) --

def may_set_password(user):
    """Frappe's rule: the user themselves, or whoever may write their User record (a
    System Manager); the Administrator's password only by the Administrator. Decided
    on the stored record."""
    from lowcode.permissions import has_permission
    from lowcode.document import get_doc
    if user == "Guest" or local.user == "Guest":
        return False
    if user == local.user:
        return True
    if user == "Administrator":
        return False
    return has_permission("User", "write", doc=get_doc("User", user))


def set_new_password(user, password):
    """Set ``user``'s password through the policy (errors name ``new_password``): the
    hash goes to tabAuth, never into the document; the user's other sessions end (the
    caller's own stays when they change their own)."""
    from lowcode import auth
    from lowcode.exceptions import DoesNotExistError, PermissionError
    if not local.db.exists("User", user):
        raise DoesNotExistError(f"User {user} not found")
    if not may_set_password(user):
        raise PermissionError(f"Not permitted: set the password of {user}", doctype="User")
    if not isinstance(password, str):
        raise ValidationError("new_password: must be text", field="new_password")
    own = user == local.user and local.session is not None
    auth.set_password(user, password, keep_sid=local.session.sid if own else None, field="new_password")


def send_invitation(user):
    """E-mail ``user`` a one-time link to choose a password (expires, single use); for
    whoever may set their password."""
    from django.utils.translation import gettext, override
    from lowcode import auth
    from lowcode.channels.email import sendmail
    from html import escape
    from lowcode.exceptions import PermissionError
    if not may_set_password(user) or user == local.user:
        raise PermissionError(f"Not permitted: invite {user}", doctype="User")
    row = local.db.sql("SELECT `email`, `full_name`, `language`, `enabled` FROM `tabUser` WHERE `name`=%s",
                       (user,), as_dict=True)
    if not row or not row[0]["email"]:
        raise ValidationError("email: the user has no e-mail address", field="email")
    row = row[0]
    if not int(row["enabled"] or 0):
        raise ValidationError("enabled: the user is disabled", field="enabled")
    key = auth.make_password_key(user)
    # The site's configured address first: the request's Host header is the caller's to choose.
    request = local.request
    base = local.conf.get("host_name") or (request.build_absolute_uri("/") if request is not None else "")
    link = f"{base.rstrip('/')}/update-password?key={key}"
    with override(row["language"] or "en"):
        subject = gettext("Set your password")
        text = gettext("You have an account. Choose your password with this link; it works once, within "
                       "%(hours)s hours:") % {"hours": int(float(local.conf.get("password_link_hours")
                                                                  or auth.PASSWORD_LINK_HOURS))}
    message = f"<p>{escape(row['full_name'] or row['email'])},</p><p>{escape(text)}</p>" \
              f"<p><a href=\"{escape(link)}\">{escape(link)}</a></p>"
    # No reference document: a Communication on the User record would show the link to
    # everyone who may read users.
    sendmail([row["email"]], subject=subject, message=message)
    return key
