"""Print Format: an admin's Jinja template (run in the sandbox, see lowcode.printing)
for printing one DocType's documents; at most one is the DocType's default."""
from django.utils.translation import gettext as _

from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.meta import get_meta
from lowcode.printing import check_syntax


class PrintFormat(Document):
    def validate(self):
        if self.doc_type and get_meta(self.doc_type).istable:
            raise ValidationError(_("%(doctype)s is a child table: print its parent instead") % {"doctype": self.doc_type},
                                  field="doc_type")
        check_syntax(self.html, "html", "HTML")

    def on_update(self):
        # One default per DocType: choosing this one un-chooses the others (a flag on
        # sibling records, like Workflow's is_active).
        if int(self.is_default or 0):
            local.db.sql("UPDATE `tabPrint Format` SET `is_default`=0 WHERE `doc_type`=%s AND `name`!=%s",
                         (self.doc_type, self.name))
