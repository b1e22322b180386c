"""Case Reply: a message on a case that the customer sees (Frappe Helpdesk's reply, as
against a Comment, which stays an internal note and is never shown on the portal).

Written by an agent on the desk or by the customer on the portal; a customer's reply on
a case waiting on them moves it back to In Progress through the workflow."""
from django.utils.translation import gettext

import lowcode
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import PermissionError, ValidationError
from lowcode.workflow import apply_workflow

from service_app.permissions import is_portal_customer


class CaseReply(Document):
    def validate(self):
        if not (self.content or "").strip():
            raise ValidationError(gettext("The reply is empty"), field="content")
        if self.is_new():
            self.sent_by = local.user
            self.from_customer = int(is_portal_customer(local.user))
        elif not self.flags.ignore_permissions:
            raise PermissionError(gettext("A reply cannot be changed once sent"), doctype=self.doctype)
        if not self.flags.ignore_permissions and not lowcode.has_permission(
                "Case", "read", doc=lowcode.get_doc("Case", self.case)):
            raise PermissionError(gettext("Not permitted to reply on this case"), doctype="Case")

    def after_insert(self):
        if not self.from_customer:
            return
        case = lowcode.get_doc("Case", self.case)
        if case.status == "Waiting on Customer":
            apply_workflow(case, "Customer Replied")
        # The case's agent hears of it in the desk's notifications.
        from lowcode.desk.views.collaboration import notify
        notify(case.get("assigned_to"), "Alert", f"{case.name}: {case.subject}", doc=case, content=self.content)
