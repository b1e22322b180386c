"""Webhook: what to send where on which document event (see lowcode.channels.webhooks)."""
from django.utils.translation import gettext as _

import lowcode
from lowcode.channels import webhooks
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.meta import STANDARD_FIELDS, get_meta


class Webhook(Document):
    def validate(self):
        if self.webhook_docevent not in webhooks.EVENTS:
            raise ValidationError(_("Doc Event: must be one of %(events)s") % {"events": ", ".join(webhooks.EVENTS)},
                                  field="webhook_docevent")
        webhooks.check_target(self.request_url)
        if self.condition:
            from lowcode.expressions import _parsed
            try:
                _parsed(self.condition.strip())
            except SyntaxError as e:
                raise ValidationError(_("Condition: %(error)s") % {"error": e.msg}, field="condition")
        if self.webhook_json:
            from lowcode.printing import check_syntax
            check_syntax(self.webhook_json, "webhook_json", "JSON Request Body")
        if self.webhook_doctype and lowcode.db.exists("DocType", self.webhook_doctype):
            meta = get_meta(self.webhook_doctype)
            for row in self.get("webhook_data") or []:
                if row.fieldname not in STANDARD_FIELDS and not meta.has_field(row.fieldname):
                    raise ValidationError(_("Data: %(doctype)s has no field %(field)s")
                                          % {"doctype": self.webhook_doctype, "field": row.fieldname},
                                          field="webhook_data")
        for row in self.get("webhook_headers") or []:
            if any(c in (row.key or "") + (row.value or "") for c in "\r\n"):
                raise ValidationError(_("Headers: a header must be one line"), field="webhook_headers")
        # The secret moves to tabAuth on save; the document keeps only a mask.
        if self.webhook_secret and self.webhook_secret != webhooks.MASK:
            self.flags.new_secret = self.webhook_secret
            self.webhook_secret = webhooks.MASK
        if self.enable_security and not self.webhook_secret:
            raise ValidationError(_("Webhook Secret: required when security is enabled"), field="webhook_secret")

    def on_update(self):
        if self.flags.new_secret:
            webhooks.store_secret(self.name, self.flags.new_secret)
            self.flags.new_secret = None
        webhooks.clear_cache()

    def on_trash(self):
        # Its delivery log and secret go with it (Frappe ignores the log's link on delete too).
        lowcode.db.sql("DELETE FROM `tabWebhook Request Log` WHERE `webhook`=%s", (self.name,))
        webhooks.store_secret(self.name, None)
        webhooks.clear_cache()
