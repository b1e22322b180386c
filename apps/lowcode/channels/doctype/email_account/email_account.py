"""Email Account (Frappe's shape): an SMTP server, login and from address, shared or one
user's own, and the IMAP folder its incoming mail is read from (channels/email_in.py).
The password and the inbound push token are kept in tabAuth like the users' secrets; the
document only ever holds asterisks, so no API answer, version or log carries them."""
from lowcode.channels import stored_secrets
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
        if int(self.enable_incoming or 0):
            self.validate_incoming()
        # A new password (or token) is taken out of the document before it is written.
        if self.password and set(self.password) != {"*"}:
            self._new_password = self.password
            self.password = MASK
        if self.inbound_token and set(self.inbound_token) != {"*"}:
            if len(self.inbound_token) < 16:
                raise ValidationError("inbound_token: at least 16 characters", field="inbound_token")
            self._new_token = self.inbound_token
            self.inbound_token = MASK

    def validate_incoming(self):
        if not self.email_server:
            raise ValidationError("email_server: needed to read incoming e-mail", field="email_server")
        if self.incoming_port is not None and not 0 < int(self.incoming_port) < 65536:
            raise ValidationError("incoming_port: must be between 1 and 65535", field="incoming_port")
        if int(self.use_starttls or 0) and int(self.use_ssl_for_incoming or 0):
            raise ValidationError("use_starttls: choose either SSL or STARTTLS", field="use_starttls")
        self.use_imap = 1  # the only incoming protocol
        self.imap_folder = (self.imap_folder or "INBOX").strip()
        if any(c in self.imap_folder for c in "\r\n\0"):
            raise ValidationError("imap_folder: line breaks are not allowed", field="imap_folder")
        from lowcode.apps import get_hooks
        makers = get_hooks("email_append_to", {})
        if self.append_to and self.append_to not in makers:
            raise ValidationError(f"append_to: one of {', '.join(sorted(makers)) or '(none installed)'}",
                                  field="append_to")
        if self.attachment_limit is not None and int(self.attachment_limit) < 0:
            raise ValidationError("attachment_limit: must not be negative", field="attachment_limit")
        # Only the poller moves the UID mark (by SQL): a form saved meanwhile keeps it.
        before = self._doc_before_save
        if before is None:
            self.uidvalidity, self.last_uid = None, 0
        elif (before.email_server, before.imap_folder, before.login_id) != \
                (self.email_server, self.imap_folder, self.login_id):
            self.uidvalidity, self.last_uid = None, 0  # another mailbox: start over there
        else:
            self.uidvalidity, self.last_uid = before.uidvalidity, before.last_uid

    def on_update(self):
        new = getattr(self, "_new_password", None)
        if new:
            store_password(self.name, new)
            self._new_password = None
        token = getattr(self, "_new_token", None)
        if token:
            stored_secrets.store_secret("Email Account", self.name, "inbound_token", token)
            self._new_token = None
        if int(self.default_outgoing or 0):
            local.db.sql("UPDATE `tabEmail Account` SET `default_outgoing`=0 WHERE `name`!=%s", (self.name,))

    def after_rename(self, old, new, merge=False):
        local.db.sql("UPDATE `tabAuth` SET `name`=%s WHERE `doctype`='Email Account' AND `name`=%s", (new, old))

    def after_delete(self):
        store_password(self.name, None)
        stored_secrets.store_secret("Email Account", self.name, "inbound_token", None)
