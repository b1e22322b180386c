"""Email Template: a subject and an HTML message, both Jinja templates rendered in the
sandbox for a document (lowcode.printing.render_email_template)."""
from django.utils.translation import gettext as _

from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.printing import check_syntax


class EmailTemplate(Document):
    def validate(self):
        if self.subject and ("\n" in self.subject or "\r" in self.subject):
            raise ValidationError(_("Subject: must be one line"), field="subject")
        check_syntax(self.subject, "subject", "Subject")
        check_syntax(self.response, "response", "Message")
