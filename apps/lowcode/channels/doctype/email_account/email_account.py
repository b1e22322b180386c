"""Email Account (Frappe's shape): an SMTP server, login and from address, shared or one
user's own. The password is kept in tabAuth like the users' secrets; the document only
ever holds asterisks, so no API answer, version or log carries it."""
from lowcode.channels.email import store_password
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError

MASK = "*" * 8


class EmailAccount(Document):
    def before_validate(self):
        # The status is the sender's (channels/status.py); a value stored before it was a
        # Select ("OK", "Failing: <error>") is read as what it meant.
        if self.status not in ("Active", "Failing"):
            self.status = "Failing" if str(self.status or "").startswith("Failing") else "Active"

    def validate(self):
        if int(self.enable_outgoing or 0) and not self.smtp_server:
            raise ValidationError("smtp_server: needed to send e-mail", field="smtp_server")
        if int(self.use_tls or 0) and int(self.use_ssl or 0):
            raise ValidationError("use_ssl: choose either SSL or STARTTLS", field="use_ssl")
        if self.smtp_port is not None and not 0 < int(self.smtp_port) < 65536:
            raise ValidationError("smtp_port: must be between 1 and 65535", field="smtp_port")
        if self.send_limit_per_minute is not None and int(self.send_limit_per_minute) < 0:
            raise ValidationError("send_limit_per_minute: must not be negative", field="send_limit_per_minute")
        # A new password is taken out of the document before it is written.
        if self.password and set(self.password) != {"*"}:
            self._new_password = self.password
            self.password = MASK

    def on_update(self):
        new = getattr(self, "_new_password", None)
        if new:
            store_password(self.name, new)
            self._new_password = None
        if int(self.default_outgoing or 0):
            local.db.sql("UPDATE `tabEmail Account` SET `default_outgoing`=0 WHERE `name`!=%s", (self.name,))

    def after_rename(self, old, new, merge=False):
        local.db.sql("UPDATE `tabAuth` SET `name`=%s WHERE `doctype`='Email Account' AND `name`=%s", (new, old))

    def after_delete(self):
        store_password(self.name, None)
