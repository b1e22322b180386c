"""A Campaign Message (Frappe's Newsletter, for e-mail or SMS); sending is in crm_app/campaigns.py."""
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.printing import check_syntax

LOCKED_AFTER_SCHEDULING = ("segment", "channel", "subject", "subject_b", "message", "ab_test_percent")
# Written only by the Schedule/Cancel buttons (status, who scheduled: whose read access
# picks the members) and by the sending job (the figures): never taken from a client.
JOB_FIELDS = ("status", "scheduled_by", "ab_test_sent_on", "open_rate_a", "open_rate_b", "winner", "total_members",
              "sent", "delivered", "opened", "clicked", "unsubscribed", "replied", "bounced")


class CampaignMessage(Document):
    def validate(self):
        stored = self._doc_before_save
        if not self.flags.campaign_action:
            for field in JOB_FIELDS:
                self.set(field, stored.get(field) if stored is not None else None)
            if stored is None:
                self.status = "Draft"
        check_syntax(self.message, "message", "Message")
        for field in ("subject", "subject_b"):
            check_syntax(self.get(field), field, field.title())
        if int(self.ab_test_percent or 0) > 100:
            raise ValidationError("ab_test_percent: at most 100", field="ab_test_percent")
        if stored is not None and stored.status != "Draft":
            for field in LOCKED_AFTER_SCHEDULING:
                if (stored.get(field) or "") != (self.get(field) or ""):
                    raise ValidationError(f"{field}: cannot change once the message is scheduled", field=field)

    def validate_ready(self):
        if self.channel == "Email" and not (self.subject or "").strip():
            raise ValidationError("subject: an e-mail needs a subject", field="subject")
        if not (self.message or "").strip():
            raise ValidationError("message: the message is empty", field="message")
