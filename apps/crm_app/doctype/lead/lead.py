"""Lead: the first contact of a prospective customer."""
import lowcode
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.utils import now
from lowcode.workflow import add_comment

from crm_app.doctype.crm_settings.crm_settings import get_settings


class Lead(Document):
    def validate(self):
        self.lead_name = " ".join(p for p in (self.first_name, self.last_name) if p)
        self.phone_e164 = normalised_phone(self.phone)  # the caller lookup of telephony finds the lead by it
        self.flag_duplicates()
        if self.status == "Contacted" and not self.first_contacted_on:
            self.first_contacted_on = now()[:19]

    def flag_duplicates(self):
        """Mark a lead that is likely the same person as an earlier one (the rule is in
        CRM Settings, see duplicate_signals); the form shows the warning and offers to merge."""
        self.mobile_e164 = normalised_phone(self.mobile_no)
        settings = get_settings()
        self.duplicate_of = find_duplicate(self, settings) if int(settings.check_lead_duplicates or 0) else None
        self.is_duplicate = 1 if self.duplicate_of else 0


def normalised_phone(number):
    """+989121234567 for '09121234567' or '+98 912 123 4567': the same phone matches
    however it was typed."""
    if not number:
        return None
    import phonenumbers
    from lowcode.fields.text import default_phone_region, parse_phone
    try:  # (the field's own check parsed the same number just before: parse_phone remembers it)
        parsed = parse_phone(number, None if number.startswith("+") else default_phone_region())
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def duplicate_signals(lead, settings=None):
    """[(SQL condition, values)] that each mark another lead as the same person, from CRM
    Settings (``settings``, read when not given): a shared e-mail (any case) or mobile
    (however typed) is a strong signal; a shared organisation is weak (colleagues share
    it), so by default it counts only with the same person's name."""
    settings = settings or get_settings()
    email = (lead.email_id or "").strip().lower()
    company = (lead.company_name or "").strip().lower()
    name = (lead.lead_name or "").strip().lower()
    signals = []
    if email and int(settings.duplicate_match_email or 0):
        signals.append((_same("email_id"), [email]))
    if lead.mobile_e164 and int(settings.duplicate_match_mobile or 0):
        signals.append(("`mobile_e164`=%s", [lead.mobile_e164]))
    organisation = settings.duplicate_match_organisation or "With the same name"
    if company and organisation == "Alone":
        signals.append((_same("company_name"), [company]))
    elif company and name and organisation == "With the same name":
        signals.append((f"{_same('company_name')} AND {_same('lead_name')}", [company, name]))
    return signals


def _same(column):
    """``column`` equal to a lowercased value in any case, through an index (each save asks,
    so a scan of every lead made a 100k-lead import quadratic): MariaDB's columns compare
    case-insensitively already (utf8mb4_unicode_ci), so the column's own index serves;
    SQLite compares LOWER(column), served by the expression indexes of
    patches.lead_lower_indexes."""
    return f"`{column}`=%s" if local.db.db_type == "mariadb" else f"LOWER(`{column}`)=%s"


def _duplicate_names(lead, earlier_only, limit=None, settings=None):
    names = []
    for condition, values in duplicate_signals(lead, settings):
        sql = f"SELECT `name` FROM `tabLead` WHERE {condition} AND `name`!=%s AND `status`!='Converted'"
        values = values + [lead.name or ""]
        if earlier_only and lead.creation and not lead.is_new():
            sql += " AND `creation` < %s"  # only earlier leads: the original is never the duplicate
            values.append(lead.creation)
        sql += " ORDER BY `creation`" + (f" LIMIT {int(limit)}" if limit else "")
        names += [n for n in local.db.sql(sql, values, pluck=True) if n not in names]
    return names


def find_duplicate(lead, settings=None):
    """The earliest lead matching the first signal (in duplicate_signals' order) that matches
    any: one statement for all the signals (every lead's save asks, and a Data Import asks
    for every row), their OR answered by merging each signal's own index, the first
    matching signal's rank then the creation ordering the few matches. (A UNION of one
    subquery per signal answered the same in half again the time: a temporary table each.)"""
    signals = duplicate_signals(lead, settings)
    if not signals:
        return None
    matches = " OR ".join(f"({condition})" for condition, _ in signals)
    rank = " ".join(f"WHEN {condition} THEN {i}" for i, (condition, _) in enumerate(signals))
    params = [v for _, values in signals for v in values]
    sql = f"SELECT `name` FROM `tabLead` WHERE ({matches}) AND `name`!=%s AND `status`!='Converted'"
    values = params + [lead.name or ""]
    if lead.creation and not lead.is_new():
        sql += " AND `creation` < %s"  # only earlier leads: the original is never the duplicate
        values.append(lead.creation)
    found = local.db.sql(f"{sql} ORDER BY CASE {rank} END, `creation`, `name` LIMIT 1", values + params, pluck=True)
    return found[0] if found else None


def recheck_duplicates():
    """Flag every open lead again under the current rule (run in the background when CRM
    Settings change it): flags set under the old rule would otherwise stay. The flags are
    derived fields, so they are written directly, without new versions. Returns how
    many leads changed."""
    settings = lowcode.get_doc("CRM Settings")  # read once, not once per lead
    check = int(settings.check_lead_duplicates or 0)
    rows = local.db.sql("SELECT `name`, `creation`, `email_id`, `mobile_e164`, `company_name`, `lead_name`, "
                        "`duplicate_of` FROM `tabLead` WHERE `status`!='Converted' ORDER BY `creation`", as_dict=True)
    changed = 0
    for row in rows:
        found = find_duplicate(Document(dict(row, doctype="Lead")), settings) if check else None
        if found != row["duplicate_of"]:
            local.db.sql("UPDATE `tabLead` SET `is_duplicate`=%s, `duplicate_of`=%s WHERE `name`=%s",
                         (1 if found else 0, found, row["name"]))
            changed += 1
    return changed


@lowcode.whitelist()
def duplicates(lead: str):
    """Leads that the duplicate rule matches with this one (readable ones)."""
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
    to the target and the source is removed (rename with merge). A converted source
    hands its conversion (customer, opportunity, date) to the target, so the funnel
    still counts it; leads converted to two different customers are not merged."""
    if source == target:
        raise ValidationError("a lead cannot be merged into itself", field="target")
    survivor = lowcode.get_doc("Lead", target)
    survivor.check_permission("write")
    carried = _conversion_to_carry(lowcode.get_doc("Lead", source), survivor)
    lowcode.rename_doc("Lead", source, target, merge=True)
    lead = lowcode.get_doc("Lead", target)
    if carried:
        lead.update(carried)
        lead.flags.workflow_action = "Merge"  # the status follows the merged lead's conversion
    try:
        lead.save()
    finally:
        lead.flags.workflow_action = None
    if carried:
        add_comment("Lead", lead.name, "Workflow", f"Merged {source}: converted to customer {lead.customer}")
    return lead.name


def _conversion_to_carry(source, target):
    """The conversion fields ``target`` takes over from ``source``, or None."""
    if not source.customer or source.customer == target.customer:
        return None
    if target.customer:
        raise ValidationError(f"Leads {source.name} and {target.name} were converted to different customers "
                              f"({source.customer}, {target.customer}): merge the customers instead", field="target")
    contacted = [v for v in (source.first_contacted_on, target.first_contacted_on) if v]
    return {"customer": source.customer, "opportunity": source.opportunity, "converted_on": source.converted_on,
            "status": "Converted", "first_contacted_on": min(contacted, key=str) if contacted else None}


@lowcode.whitelist(methods=["POST"])
def merge_into_duplicate(lead: str):
    """Merge a lead flagged as a duplicate into the earlier lead it duplicates."""
    doc = lowcode.get_doc("Lead", lead)
    if not doc.duplicate_of:
        raise ValidationError(f"Lead {lead} is not marked as a duplicate", field="duplicate_of")
    return {"name": merge(doc.name, doc.duplicate_of)}
