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


def set_link_titles(doc):
    """Each Dynamic Link row of a Contact or Address shows its party's title (a Customer's,
    Supplier's, Sales Partner's or Employee's name), as Frappe's link_title."""
    for link in doc.get("links") or []:
        if link.link_doctype and link.link_name:
            title = lowcode.get_meta(link.link_doctype).get_title_field()
            link.link_title = local.db.get_value(link.link_doctype, link.link_name, title) if title != "name" else None


def refresh_link_titles(doc):
    """A party's changed title reaches the Contact and Address rows linking to it (their
    link_title), so the contact's links do not keep the old name."""
    title_field = doc.meta.get_title_field()
    before = doc._doc_before_save
    if title_field != "name" and before is not None and before.get(title_field) != doc.get(title_field):
        local.db.sql("UPDATE `tabDynamic Link` SET `link_title`=%s WHERE `link_doctype`=%s AND `link_name`=%s",
                     (doc.get(title_field), doc.doctype, doc.name))


def check_not_blocked(customer, what):
    """A blocked customer gets no new opportunities or quotations."""
    if customer and int(local.db.get_value("Customer", customer, "is_blocked") or 0):
        reason = local.db.get_value("Customer", customer, "blocked_reason") or ""
        raise BlockedCustomerError(
            f"Customer {customer} is blocked{': ' + reason if reason else ''}; no new {what} can be made for it",
            field="party_name")


def settings():
    return lowcode.get_doc("CRM Settings")
