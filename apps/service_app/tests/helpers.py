"""Helpers shared by the service tests: agents and teams, customers with a contact,
cases. Names carry a random part: the sites are shared by the whole test session."""
import lowcode

from crm_app.tests.helpers import make_customer, make_user, tag


def make_team(agents=(), manager=None, name=None, **member_values):
    """A service team whose members are ``agents`` (user names); returns its name."""
    return lowcode.get_doc({"doctype": "Service Team", "team_name": name or f"Team {tag()}", "manager": manager,
                            "members": [dict(member_values, user=a) for a in agents]}).insert(
        ignore_permissions=True).name


def make_agent(unique, name="agent", roles=("Support Agent",), password=None):
    return make_user(unique, name, roles=roles, password=password)


def make_contact(customer, email=None, first_name="Nika"):
    return lowcode.get_doc({"doctype": "Contact", "first_name": first_name, "last_name": tag(),
                            "email_id": email or f"contact-{tag()}@example.com",
                            "links": [{"link_doctype": "Customer", "link_name": customer}]}).insert(
        ignore_permissions=True)


def make_case(subject=None, **values):
    return lowcode.get_doc(dict({"doctype": "Case", "subject": subject or f"Case {tag()}"}, **values)).insert()


__all__ = ["make_agent", "make_case", "make_contact", "make_customer", "make_team", "make_user", "tag"]
