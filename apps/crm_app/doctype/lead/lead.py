"""Lead: the first contact of a prospective customer."""
import lowcode
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.utils import now


class Lead(Document):
    def validate(self):
        self.lead_name = " ".join(p for p in (self.first_name, self.last_name) if p)
        self.flag_duplicates()
        if self.status == "Contacted" and not self.first_contacted_on:
            self.first_contacted_on = now()[:19]

    def flag_duplicates(self):
        """Mark a lead sharing e-mail, mobile or organisation with an earlier one; the
        form shows the warning and offers to merge."""
        self.duplicate_of = find_duplicate(self)
        self.is_duplicate = 1 if self.duplicate_of else 0


def find_duplicate(lead):
    checks = [("email_id", (lead.email_id or "").strip().lower()), ("mobile_no", (lead.mobile_no or "").strip()),
              ("company_name", (lead.company_name or "").strip())]
    for field, value in checks:
        if not value:
            continue
        rows = local.db.sql(f"SELECT `name` FROM `tabLead` WHERE LOWER(`{field}`)=LOWER(%s) AND `name`!=%s "
                            "AND `status`!='Converted' ORDER BY `creation` LIMIT 1", (value, lead.name or ""))
        if rows:
            return rows[0][0]
    return None


@lowcode.whitelist()
def duplicates(lead):
    """Leads that share e-mail, mobile or organisation with this one (readable ones)."""
    doc = lowcode.get_doc("Lead", lead)
    doc.check_permission("read")
    or_filters = [[f, "=", doc.get(f)] for f in ("email_id", "mobile_no", "company_name") if doc.get(f)]
    if not or_filters:
        return []
    return lowcode.get_list("Lead", fields=["name", "lead_name", "company_name", "email_id", "mobile_no", "status"],
                            filters=[["name", "!=", doc.name]], or_filters=or_filters, limit_page_length=20)


@lowcode.whitelist(methods=["POST"])
def merge(source, target):
    """Fold lead ``source`` into ``target``: its activities, notes, files and links move
    to the target and the source is removed (rename with merge)."""
    if source == target:
        raise ValidationError("a lead cannot be merged into itself", field="target")
    lowcode.get_doc("Lead", target).check_permission("write")
    lowcode.rename_doc("Lead", source, target, merge=True)
    lead = lowcode.get_doc("Lead", target)
    lead.save()
    return lead.name


@lowcode.whitelist(methods=["POST"])
def merge_into_duplicate(lead):
    """Merge a lead flagged as a duplicate into the earlier lead it duplicates."""
    doc = lowcode.get_doc("Lead", lead)
    if not doc.duplicate_of:
        raise ValidationError(f"Lead {lead} is not marked as a duplicate", field="duplicate_of")
    return {"name": merge(doc.name, doc.duplicate_of)}
