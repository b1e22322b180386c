"""Notification: who is told what, by which channel, on which document event
(see lowcode.channels.notifications). Saving checks everything the sending will rely
on, so a mistyped field or template is refused here, naming the field, not found later
in a failed job."""
from django.utils.translation import gettext as _

import lowcode
from lowcode.channels import notifications
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.fields import types_where
from lowcode.meta import STANDARD_FIELDS, get_meta



class Notification(Document):
    def validate(self):
        meta = self._document_meta()
        if self.event == "Method" and self.method not in notifications.METHODS:
            raise ValidationError(_("Trigger Method: must be one of %(methods)s")
                                  % {"methods": ", ".join(notifications.METHODS)}, field="method")
        if self.event in notifications.DATE_EVENTS:
            df = meta.get_field(self.date_changed or "")
            if df is None or df.fieldtype not in types_where("dated"):
                raise ValidationError(_("Reference Date: %(doctype)s has no date field %(field)s")
                                      % {"doctype": self.document_type, "field": self.date_changed or ""},
                                      field="date_changed")
            if int(self.days_in_advance or 0) < 0:
                raise ValidationError(_("Days Before or After: must not be negative"), field="days_in_advance")
        if self.event == "Value Change":
            self._check_field(meta, self.value_changed, "value_changed", _("Value Changed"))
        if self.set_property_after_alert:
            self._check_field(meta, self.set_property_after_alert, "set_property_after_alert",
                              _("Set Property After Alert"))
        self._check_condition(self.condition, "condition", _("Condition"))
        from lowcode.printing import check_syntax
        check_syntax(self.subject, "subject", "Subject")
        check_syntax(self.message, "message", "Message")
        if self.channel in ("Email", "System Notification") and not (self.subject or "").strip():
            raise ValidationError(_("Subject: required for the %(channel)s channel") % {"channel": _(self.channel)},
                                  field="subject")
        if self.channel in ("Email", "SMS") and not (self.message or "").strip():
            raise ValidationError(_("Message: required for the %(channel)s channel") % {"channel": _(self.channel)},
                                  field="message")
        for row in self.get("recipients") or []:
            self._check_recipient(meta, row)
        if self.sender:
            rows = lowcode.db.sql("SELECT `enable_outgoing`, `user` FROM `tabEmail Account` WHERE `name`=%s",
                                  (self.sender,), as_dict=True)
            account = rows[0] if rows else None
            if not account or not int(account.get("enable_outgoing") or 0):
                raise ValidationError(_("Sender: %(account)s does not send e-mail") % {"account": self.sender},
                                      field="sender")
            if account.get("user"):  # the job sends as whoever saved the document: only shared accounts
                raise ValidationError(_("Sender: %(account)s is a user's own account; choose a shared one")
                                      % {"account": self.sender}, field="sender")
        if not self.is_new():
            # The daily run's stamp is the job's, whatever an open form sends back.
            self.last_daily_run = lowcode.db.get_value("Notification", self.name, "last_daily_run")

    def _document_meta(self):
        if not self.document_type or not lowcode.db.exists("DocType", self.document_type):
            raise ValidationError(_("Document Type: %(doctype)s does not exist")
                                  % {"doctype": self.document_type or ""}, field="document_type")
        meta = get_meta(self.document_type)
        if meta.istable or meta.issingle:
            raise ValidationError(_("Document Type: %(doctype)s is a child table or a single DocType")
                                  % {"doctype": self.document_type}, field="document_type")
        return meta

    def _check_field(self, meta, fieldname, field, label):
        df = meta.get_field(fieldname or "")
        if fieldname not in STANDARD_FIELDS and (df is None or df.fieldtype in types_where("layout") | types_where("table")):
            raise ValidationError(_("%(label)s: %(doctype)s has no field %(field)s")
                                  % {"label": label, "doctype": self.document_type, "field": fieldname or ""},
                                  field=field)

    def _check_condition(self, condition, field, label):
        if not (condition or "").strip():
            return
        from lowcode.expressions import _parsed
        try:
            _parsed(condition.strip())
        except SyntaxError as e:
            raise ValidationError(_("%(label)s: %(error)s") % {"label": label, "error": e.msg}, field=field)

    def _check_recipient(self, meta, row):
        spec = row.receiver_by_document_field
        if spec:
            fieldname, _sep, table = (part.strip() for part in spec.partition(","))
            target = meta
            if table:
                tf = meta.get_field(table)
                if tf is None or tf.fieldtype not in types_where("table"):
                    raise ValidationError(_("Recipients: %(doctype)s has no table %(field)s")
                                          % {"doctype": self.document_type, "field": table}, field="recipients")
                target = get_meta(tf.options)
            if fieldname not in notifications.USER_FIELDS and target.get_field(fieldname) is None:
                raise ValidationError(_("Recipients: %(doctype)s has no field %(field)s")
                                      % {"doctype": target.name, "field": fieldname}, field="recipients")
        self._check_condition(row.condition, "recipients", _("Recipients"))

    def on_update(self):
        notifications.clear_cache()

    def on_trash(self):
        notifications.clear_cache()
