"""Data fixes run after every migrate (hooks.py ``after_migrate``); each one only
touches rows that still need it, so running it again changes nothing."""
from lowcode.caches import forget_records
from lowcode.context import local


def fill_business_dates():
    """Leads and opportunities made before they had a business date take their
    creation day, the best estimate there is, so reports filtering on the dates still
    count them; records created since get the date on insert."""
    local.db.sql("UPDATE `tabLead` SET `lead_date`=DATE(`creation`) WHERE `lead_date` IS NULL")
    local.db.sql("UPDATE `tabOpportunity` SET `transaction_date`=DATE(`creation`) WHERE `transaction_date` IS NULL")


def split_net_and_gross():
    """Quotations get their net total, and opportunities won by accepting one, which
    used to take its grand total (taxes included), go back to the net amount."""
    local.db.sql("UPDATE `tabQuotation` SET `net_total`=COALESCE(`total`, 0)-COALESCE(`discount_amount`, 0) "
                 "WHERE `net_total` IS NULL")
    rows = local.db.sql(
        "SELECT o.`name`, q.`net_total`, q.`grand_total` FROM `tabOpportunity` o JOIN `tabQuotation` q "
        "ON q.`opportunity`=o.`name` AND q.`status`='Accepted' AND q.`grand_total`=o.`opportunity_amount` "
        "WHERE o.`sales_stage`='Won' AND o.`grand_total` IS NULL")
    for name, net, gross in rows:
        local.db.sql("UPDATE `tabOpportunity` SET `opportunity_amount`=%s, `won_amount`=%s, `grand_total`=%s "
                     "WHERE `name`=%s", (net, net, gross, name))


def fill_customer_mobiles():
    """Customers made before they kept their mobile normalised (``mobile_e164``) get it:
    conversion finds an existing customer by it, and erasure removes a person's mobile
    from a customer by it."""
    from crm_app.doctype.lead.lead import normalised_phone
    rows = local.db.sql("SELECT `name`, `mobile_no` FROM `tabCustomer` WHERE `mobile_e164` IS NULL "
                        "AND `mobile_no` IS NOT NULL AND `mobile_no`!=''")
    for name, mobile in rows:
        number = normalised_phone(mobile)
        if number:
            local.db.sql("UPDATE `tabCustomer` SET `mobile_e164`=%s WHERE `name`=%s", (number, name))


def default_duplicate_rule():
    """CRM Settings saved before the duplicate rule was configurable got its new Check
    columns as 0 (a Check column is added with DEFAULT 0), which would switch e-mail and
    mobile matching off on upgrade, though they always counted before. Such a row still
    has no organisation choice (any save since writes one), so it takes the rule's
    defaults; a rule someone has set is left alone."""
    local.db.sql("UPDATE `tabCRM Settings` SET `duplicate_match_email`=1, `duplicate_match_mobile`=1, "
                 "`duplicate_match_organisation`='With the same name' WHERE `duplicate_match_organisation` IS NULL")
    forget_records("CRM Settings")


def fill_phone_numbers():
    """Contacts and leads made before they kept their phones normalised (``mobile_e164``,
    ``phone_e164``) get them, so the caller lookup of an incoming call finds them too."""
    from crm_app.doctype.lead.lead import normalised_phone
    for doctype, pairs in (("Contact", (("mobile_no", "mobile_e164"), ("phone", "phone_e164"))),
                           ("Lead", (("phone", "phone_e164"),))):
        for typed, normalised in pairs:
            rows = local.db.sql(f"SELECT `name`, `{typed}` FROM `tab{doctype}` WHERE `{normalised}` IS NULL "
                                f"AND `{typed}` IS NOT NULL AND `{typed}`!=''")
            for name, number in rows:
                number = normalised_phone(number)
                if number:
                    local.db.sql(f"UPDATE `tab{doctype}` SET `{normalised}`=%s WHERE `name`=%s", (number, name))


def lead_lower_indexes():
    """SQLite: indexes on LOWER(e-mail), and LOWER(organisation) with LOWER(name), which the
    duplicate check of every lead save compares (lead.py: _same); MariaDB needs none, its
    columns compare case-insensitively through their own indexes."""
    if local.db.db_type != "sqlite":
        return
    local.db.sql("CREATE INDEX IF NOT EXISTS `tabLead_lower_email_id` ON `tabLead` (LOWER(`email_id`))")
    local.db.sql("CREATE INDEX IF NOT EXISTS `tabLead_lower_company_lead_name` ON `tabLead` "
                 "(LOWER(`company_name`), LOWER(`lead_name`))")
