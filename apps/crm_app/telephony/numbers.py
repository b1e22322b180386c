"""Caller IDs to E.164 and the Contacts, Customers and Leads that have the number.

PBXs give caller IDs in many shapes (09121234567, 9121234567, 989121234567,
00989121234567, +989121234567); all become one E.164 number, read in Telephony
Settings' default region when there is no country code. Records keep their numbers
normalised in indexed columns (``mobile_e164``, ``phone_e164``, filled on save and by
``patches.fill_phone_numbers``), so a lookup is a few index probes at any size."""
from urllib.parse import quote

import phonenumbers

import lowcode
from lowcode.utils import route_for

DEFAULT_REGION = "IR"

# (DocType, its normalised number columns, its title field), in the order a call is
# linked: a contact is the person, a customer the organisation, a lead the prospect.
SOURCES = (
    ("Contact", ("mobile_e164", "phone_e164"), "full_name"),
    ("Customer", ("mobile_e164",), "customer_name"),
    ("Lead", ("mobile_e164", "phone_e164"), "lead_name"),
)


def parse(raw, region=None):
    """The phonenumbers object of a valid number, else None."""
    text = str(raw or "").strip()
    if not text:
        return None
    region = (region or DEFAULT_REGION).upper()
    candidates = [text]
    if text[:1].isdigit() and not text.startswith("0"):
        candidates.append("+" + text)  # a country code without its plus, as many trunks send it
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
    return None


def normalise(raw, region=None):
    """E.164 (+989121234567) of a caller ID, or None when it is not a phone number
    (an internal extension, "anonymous")."""
    number = parse(raw, region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else None


def display(e164, region=None):
    """The number as people of ``region`` write it: national at home, else international."""
    number = parse(e164, region)
    if number is None:
        return e164 or ""
    same = phonenumbers.region_code_for_number(number) == (region or DEFAULT_REGION).upper()
    kind = phonenumbers.PhoneNumberFormat.NATIONAL if same else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, kind)


def find_records(e164, user=None, ignore_permissions=False, limit=5):
    """[{doctype, name, title, url}] of the records with the number that ``user`` may
    read (their row rules apply, in SQL), most recently changed first per DocType."""
    if not e164:
        return []
    out = []
    for doctype, columns, title in SOURCES:
        rows = lowcode.get_list(doctype, fields=["name", title], or_filters=[[c, "=", e164] for c in columns],
                                order_by="modified desc", limit_page_length=limit, user=user,
                                ignore_permissions=ignore_permissions)
        for row in rows:
            out.append({"doctype": doctype, "name": row["name"], "title": row.get(title) or row["name"],
                        "url": f"/app/{route_for(doctype)}/{quote(row['name'], safe='')}"})
    return out
