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
        self.mobile_e164 = normalised_phone(self.mobile_no)
        check = int(lowcode.get_doc("CRM Settings").check_lead_duplicates or 0)
        self.duplicate_of = find_duplicate(self) if check else None
        self.is_duplicate = 1 if self.duplicate_of else 0


def normalised_phone(number):
    """+989121234567 for '09121234567' or '+98 912 123 4567': the same phone matches
    however it was typed."""
    if not number:
        return None
    import phonenumbers
    from lowcode.fields.text import default_phone_region
    try:
        parsed = phonenumbers.parse(number, None if number.startswith("+") else default_phone_region())
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


DUPLICATE_KEYS = ("email_id", "mobile_e164", "company_name")


def _duplicate_names(lead, earlier_only, limit=None):
    names = []
    for field in DUPLICATE_KEYS:
        value = (lead.get(field) or "").strip()
        if not value:
            continue
        sql = (f"SELECT `name` FROM `tabLead` WHERE LOWER(`{field}`)=LOWER(%s) AND `name`!=%s "
               "AND `status`!='Converted'")
        values = [value, lead.name or ""]
        if earlier_only and lead.creation and not lead.is_new():
            sql += " AND `creation` < %s"  # only earlier leads: the original is never the duplicate
            values.append(lead.creation)
        sql += " ORDER BY `creation`" + (f" LIMIT {int(limit)}" if limit else "")
        names += [n for n in local.db.sql(sql, values, pluck=True) if n not in names]
    return names


def find_duplicate(lead):
    found = _duplicate_names(lead, earlier_only=True, limit=1)
    return found[0] if found else None


@lowcode.whitelist()
def duplicates(lead: str):
    """Leads that share e-mail, mobile or organisation with this one (readable ones)."""
    doc = lowcode.get_doc("Lead", lead)
    doc.check_permission("read")
    names = _duplicate_names(doc, earlier_only=False, limit=50)  # case-insensitive on both engines
    if not names:
        return []
    return lowcode.get_list("Lead", fields=["name", "lead_name", "company_name", "email_id", "mobile_no", "status"],
                            filters=[["name", "in", names]], limit_page_length=20)


@lowcode.whitelist(methods=["POST"])
def merge(source: str, target: str):
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
def merge_into_duplicate(lead: str):
    """Merge a lead flagged as a duplicate into the earlier lead it duplicates."""
    doc = lowcode.get_doc("Lead", lead)
    if not doc.duplicate_of:
        raise ValidationError(f"Lead {lead} is not marked as a duplicate", field="duplicate_of")
    return {"name": merge(doc.name, doc.duplicate_of)}
