"""Assignment Rule (applied by crm_app/assignment.py)."""
from django.utils.translation import gettext as _

import lowcode
from lowcode.document import Document
from lowcode.exceptions import ValidationError


class AssignmentRule(Document):
    def validate(self):
        # Frappe's "Based on Field": the user comes from a field of the document, which must exist.
        if self.rule == "Based on Field" and self.document_type and (
                not self.field or not lowcode.get_meta(self.document_type).has_field(self.field)):
            raise ValidationError(_("%(field)s: %(doctype)s has no field %(name)s") % {
                "field": _("Field"), "doctype": self.document_type, "name": repr(self.field or "")}, field="field")
