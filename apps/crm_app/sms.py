"""SMS consent for the engine's ``send_sms`` (hook ``sms_opt_out``).

A number is refused when any Lead or Contact with it has not agreed to SMS
("May receive SMS" unchecked) or, for a Contact, has unsubscribed: one refusal wins
over any other record's consent. Numbers that belong to no Lead or Contact are sent.
Leads keep their number in E.164 (``mobile_e164``); Contacts only as typed, so a
Contact's number is compared in the forms it is commonly typed in."""
import phonenumbers

from lowcode.context import local


def _typed_forms(e164):
    number = phonenumbers.parse(e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    digits = "".join(c for c in national if c.isdigit())
    return {e164, e164.lstrip("+"), "00" + e164.lstrip("+"), national, international, digits}


def refused_numbers(numbers):
    """The E.164 numbers among ``numbers`` whose Lead or Contact refused SMS."""
    db = local.db
    refused = set()
    if not numbers:
        return refused
    marks = ", ".join(["%s"] * len(numbers))
    for (mobile,) in db.sql(f"SELECT `mobile_e164` FROM `tabLead` WHERE `mobile_e164` IN ({marks}) "
                            "AND COALESCE(`consent_sms`, 0)=0", tuple(numbers)):
        refused.add(mobile)
    forms = {form: e164 for e164 in numbers for form in _typed_forms(e164)}
    marks = ", ".join(["%s"] * len(forms))
    for (mobile,) in db.sql(f"SELECT `mobile_no` FROM `tabContact` WHERE `mobile_no` IN ({marks}) "
                            "AND (COALESCE(`consent_sms`, 0)=0 OR COALESCE(`unsubscribed`, 0)=1)", tuple(forms)):
        refused.add(forms[mobile])
    return refused
