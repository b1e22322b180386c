"""Employee: a person working for the business, linked to the User they log in as
(one employee per user, as ERPNext's Employee), with a reporting line without loops."""
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError


class Employee(Document):
    def validate(self):
        self.validate_user()
        self.validate_reports_to()

    def validate_user(self):
        """Checked here to name the other employee; the unique index still guards a race."""
        if not self.user_id:
            return
        other = local.db.sql("SELECT `name` FROM `tabEmployee` WHERE `user_id`=%s AND `name`!=%s LIMIT 1",
                             (self.user_id, self.name or ""))
        if other:
            raise ValidationError(f"User ID: {self.user_id} is already linked to Employee {other[0][0]}",
                                  field="user_id")

    def validate_reports_to(self):
        """Up the chain from reports_to: meeting this employee again would be a loop."""
        if self.reports_to and self.reports_to == self.name:
            raise ValidationError("Reports to: an employee cannot report to themselves", field="reports_to")
        seen, manager = set(), self.reports_to
        while manager and manager not in seen:  # a loop above, made before this check existed, ends the climb
            if manager == self.name:
                raise ValidationError(f"Reports to: {self.reports_to} already reports to {self.name} (directly or "
                                      "through others), so this would make a loop", field="reports_to")
            seen.add(manager)
            manager = local.db.get_value("Employee", manager, "reports_to")

    def on_update(self):
        from crm_app.parties import refresh_link_titles
        refresh_link_titles(self)
