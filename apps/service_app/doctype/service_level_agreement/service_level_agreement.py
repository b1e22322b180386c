"""Service Level Agreement (ERPNext's shape): targets per priority in working time, the
working hours and holiday list they are counted in, and which cases it covers."""
from lowcode import _
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError

from service_app import sla


class ServiceLevelAgreement(Document):
    def validate(self):
        sla.fill_working_week(self)  # also refuses hours that end before they start
        priorities = [row.priority for row in self.priorities]
        if len(set(priorities)) != len(priorities):
            raise ValidationError(_("Each priority may have one row of targets"), field="priorities")
        if self.default_priority and self.default_priority not in priorities:
            raise ValidationError(_("The default priority needs a row of targets"), field="default_priority")
        if self.default_service_level_agreement:
            other = local.db.sql("SELECT `name` FROM `tabService Level Agreement` WHERE "
                                 "`default_service_level_agreement`=1 AND `name`!=%s LIMIT 1", (self.name or "",))
            if other:
                raise ValidationError(_("{0} is already the default service level agreement", other[0][0]),
                                      field="default_service_level_agreement")
