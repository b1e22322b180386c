"""Helpers shared by the CRM tests: users with roles, acting as them, the usual CRM
records with unique names, committing so HTTP requests see the data, and reading
HTTP answers.

Every name a helper makes carries a fresh random part, because the sites are shared by
the whole test session (and committed data stays on them)."""
import contextlib
import datetime
import json
import uuid

import pytest

import lowcode
from lowcode import auth
from lowcode.testing.http import body, ok, refresh, token, write  # noqa: F401 - the CRM tests import them from here
from lowcode.workflow import apply_workflow

PASSWORD = "Correct-Horse-9"


def tag():
    return uuid.uuid4().hex[:8]


def today():
    return datetime.date.today().isoformat()


def days_from_today(n):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


# -- users --------------------------------------------------------------------------------------

def ensure_role(role):
    if not lowcode.db.exists("Role", role):
        lowcode.get_doc({"doctype": "Role", "role_name": role}).insert(ignore_permissions=True)


def make_user(unique, name, roles=("Sales User",), password=None):
    """A user ``<name>-<unique>-<random>@example.com`` with ``roles``; returns the e-mail."""
    email = f"{name}-{unique}-{tag()[:4]}@example.com".lower()
    for role in roles:
        ensure_role(role)
    lowcode.get_doc({"doctype": "User", "email": email, "first_name": name.title(), "last_name": "Tester",
                     "roles": [{"role": r} for r in roles]}).insert(ignore_permissions=True)
    if password:
        auth.set_password(email, password)
    return email


@contextlib.contextmanager
def as_user(user):
    """Run engine calls as ``user``; back to the previous user afterwards."""
    previous = lowcode.local.user
    lowcode.set_user(user)
    try:
        yield user
    finally:
        lowcode.set_user(previous)


# -- records ------------------------------------------------------------------------------------

def make_territory(name, parent=None, manager=None, is_group=0):
    return lowcode.get_doc({"doctype": "Territory", "territory_name": name, "parent_territory": parent,
                            "territory_manager": manager, "is_group": is_group}).insert(
        ignore_permissions=True).name


def make_lead(first_name="Sara", **values):
    data = {"doctype": "Lead", "first_name": first_name, "last_name": values.pop("last_name", "Karimi"),
            "email_id": values.pop("email_id", f"lead-{tag()}@example.com")}
    data.update(values)
    return lowcode.get_doc(data).insert()


def qualify(lead):
    """New -> Contacted -> Qualified, through the workflow."""
    apply_workflow(lead, "Contact")
    apply_workflow(lead, "Qualify")
    return lead


def make_customer(name=None, **values):
    data = {"doctype": "Customer", "customer_name": name or f"Customer {tag()}"}
    data.update(values)
    return lowcode.get_doc(data).insert()


def make_opportunity(party_name, amount=1000, opportunity_from="Customer", **values):
    data = {"doctype": "Opportunity", "title": values.pop("title", f"Deal {tag()}"),
            "opportunity_from": opportunity_from, "party_name": party_name, "opportunity_amount": amount}
    data.update(values)
    return lowcode.get_doc(data).insert()


def make_product(rate=100, **values):
    code = values.pop("product_code", f"P-{tag()}")
    return lowcode.get_doc(dict({"doctype": "Product", "product_code": code, "product_name": f"Product {code}",
                                 "standard_rate": rate}, **values)).insert(ignore_permissions=True).name


def make_quotation(customer, items, **values):
    data = {"doctype": "Quotation", "quotation_to": "Customer", "party_name": customer, "items": items}
    data.update(values)
    return lowcode.get_doc(data).insert()


def make_segment(doctype="Lead", filters=None, **values):
    return lowcode.get_doc(dict({"doctype": "Segment", "segment_name": f"Segment {tag()}", "segment_doctype": doctype,
                                 "filters_json": json.dumps(filters or [])}, **values)).insert()


def move(doc, *actions):
    for action in actions:
        apply_workflow(doc, action)
    return doc


# -- fixtures (import them into a test module to use them) ---------------------------------------

@pytest.fixture
def team(ctx, unique):
    """A Sales User and a Sales Manager managing a territory (the workflow tests by role of
    leads, opportunities and quotations)."""
    user = make_user(unique, "rep")
    manager = make_user(unique, "boss", roles=("Sales Manager",))
    territory = make_territory(f"WF Territory {unique}", manager=manager)
    return {"user": user, "manager": manager, "territory": territory}


# -- transactions and HTTP -----------------------------------------------------------------------

def unique_mobile(prefix="0912"):
    """A valid Iranian mobile number no other test uses."""
    import random
    import phonenumbers
    while True:
        number = prefix + "".join(random.choice("0123456789") for _ in range(11 - len(prefix)))
        if phonenumbers.is_valid_number(phonenumbers.parse(number, "IR")):
            return number
