"""Helpers shared by the sales documents: who the party is, and the blocked rule."""
import lowcode
from lowcode.context import local
from lowcode.exceptions import ValidationError


class BlockedCustomerError(ValidationError):
    pass


def customer_of(party_type, party_name):
    """The Customer behind a party (a Customer itself, or a converted Lead)."""
    if not party_name:
        return None
    if party_type == "Customer":
        return party_name
    if party_type == "Lead":
        return local.db.get_value("Lead", party_name, "customer")
    return None


def party_title(party_type, party_name):
    if party_type == "Customer":
        return local.db.get_value("Customer", party_name, "customer_name")
    if party_type == "Lead":
        row = local.db.sql("SELECT `company_name`, `lead_name` FROM `tabLead` WHERE `name`=%s", (party_name,))
        return (row[0][0] or row[0][1]) if row else None
    return None


def check_not_blocked(customer, what):
    """A blocked customer gets no new opportunities or quotations."""
    if customer and int(local.db.get_value("Customer", customer, "is_blocked") or 0):
        reason = local.db.get_value("Customer", customer, "blocked_reason") or ""
        raise BlockedCustomerError(
            f"Customer {customer} is blocked{': ' + reason if reason else ''}; no new {what} can be made for it",
            field="party_name")


def settings():
    return lowcode.get_doc("CRM Settings")
