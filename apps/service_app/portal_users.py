"""Portal users: a customer's contacts who log in to /portal.

A portal user is a Website User with the Customer role whose Contact names it in
``Contact.user`` (Frappe's field); the customers that contact is linked to are the
ones whose records the user reaches (service_app/permissions.py). Two ways in:

- an agent invites a contact (the Contact form's "Invite to the portal"): a single-use
  link valid for INVITATION_DAYS, whose token is kept only as a SHA-256 digest (a
  random 256-bit token needs no slow hash), shown once to the agent;
- a visitor asks on /portal/signup; a Support Manager sets the customer on the
  request and approves it, which makes the contact and the invitation link.

Accepting the link sets a password under the engine's password policy and logs in."""
import datetime
import hashlib
import secrets

from django.utils.translation import gettext

import lowcode
from lowcode import auth
from lowcode.context import local
from lowcode.desk.render import render
from lowcode.desk.views.common import desk_view
from lowcode.exceptions import DoesNotExistError, ValidationError
from lowcode.utils import now_datetime

from service_app.permissions import CUSTOMER_ROLE

INVITATION_DAYS = 7
INVITER_ROLES = ("Support Agent", "Support Manager", "CRM Admin", "System Manager")
APPROVER_ROLES = ("Support Manager", "CRM Admin", "System Manager")


def _digest(token):
    return hashlib.sha256((token or "").encode()).hexdigest()


def _contact_customer(contact):
    from service_app.cases import customer_of_contact
    return customer_of_contact(contact)


def invite(contact):
    """A new invitation for ``contact``; returns (invitation, token). The token is not
    stored: only its digest is."""
    lowcode.only_for(INVITER_ROLES)
    doc = lowcode.get_doc("Contact", contact)
    doc.check_permission("read")
    if not doc.email_id:
        raise ValidationError(gettext("The contact has no e-mail address: add one before inviting"), field="email_id")
    customer = _contact_customer(contact)
    if not customer:
        raise ValidationError(gettext("The contact is not linked to a customer"), field="links")
    _check_not_staff(doc.email_id.strip().lower(), "email_id")
    token = secrets.token_urlsafe(32)
    expires = now_datetime() + datetime.timedelta(days=INVITATION_DAYS)
    invitation = lowcode.get_doc({"doctype": "Portal Invitation", "contact": contact, "customer": customer,
                                  "email": doc.email_id.strip().lower(), "token_hash": _digest(token),
                                  "expires_on": expires}).insert(ignore_permissions=True)
    return invitation, token


def _check_not_staff(email, field):
    # An invitation must never hand a desk account's password to whoever holds the link.
    row = local.db.sql("SELECT `user_type` FROM `tabUser` WHERE `name`=%s", (email,))
    if row and row[0][0] != "Website User":
        raise ValidationError(gettext("This e-mail address belongs to a staff user: it cannot be a portal login"),
                              field=field)


def invitation_for(token):
    """The open invitation a token names, or DoesNotExistError (the same for an unknown,
    used or expired token: a visitor learns nothing more)."""
    if not token or len(token) > 100:
        raise DoesNotExistError(gettext("This invitation link is not valid (any more)"))
    rows = local.db.sql("SELECT `name` FROM `tabPortal Invitation` WHERE `token_hash`=%s AND `used_on` IS NULL "
                        "AND `expires_on` > %s", (_digest(token), now_datetime()), pluck=True)
    if not rows:
        raise DoesNotExistError(gettext("This invitation link is not valid (any more)"))
    return lowcode.get_doc("Portal Invitation", rows[0])


def accept(token, password, confirm, language=None):
    """Set the password and make (or reuse) the contact's Website User; returns the user.
    The invitation is marked used in the same transaction: a second use finds nothing."""
    # Locked (MariaDB; SQLite serialises writers anyway), so two posts of one link
    # cannot both use it: the second waits and then finds it used.
    invitation = lowcode.get_doc("Portal Invitation", invitation_for(token).name, for_update=True)
    if invitation.used_on:
        raise DoesNotExistError(gettext("This invitation link is not valid (any more)"))
    if password != confirm:
        raise ValidationError(gettext("The two passwords differ"), field="confirm")
    _check_not_staff(invitation.email, "password")
    contact = lowcode.get_doc("Contact", invitation.contact)
    user = invitation.email
    if not local.db.exists("User", user):
        # Checked before the user exists, so a refused password leaves nothing behind.
        auth.check_password_strength(user, password)
        lowcode.get_doc({"doctype": "User", "email": user, "first_name": contact.first_name or user,
                         "last_name": contact.last_name, "user_type": "Website User", "enabled": 1,
                         "language": language if language in ("en", "fa", "he") else None,
                         # Portal users have no settings page: Persian speakers get the Jalali calendar.
                         "calendar": "Jalali" if language == "fa" else "Gregorian",
                         "roles": [{"role": CUSTOMER_ROLE}]}).insert(ignore_permissions=True)
    else:
        u = lowcode.get_doc("User", user)
        if CUSTOMER_ROLE not in [r.role for r in u.roles]:
            u.append("roles", {"role": CUSTOMER_ROLE})
        u.enabled = 1
        u.save(ignore_permissions=True)
    auth.set_password(user, password)
    local.db.sql("UPDATE `tabContact` SET `user`=%s WHERE `name`=%s", (user, contact.name))
    invitation.used_on = now_datetime()
    invitation.user = user
    invitation.save(ignore_permissions=True)
    return user


# -- the desk page that shows a new invitation link once ---------------------------------------

@desk_view
def invite_page(request, name):
    """/app/portal-invite/<contact>: GET shows the contact and a button; the POST makes
    the invitation and shows its link this once (it is not stored)."""
    lowcode.only_for(INVITER_ROLES)
    if not name or not local.db.exists("Contact", name):
        raise DoesNotExistError(f"Contact {name!r} not found")
    contact = lowcode.get_doc("Contact", name)
    contact.check_permission("read")
    link, error = None, None
    if request.method == "POST":
        try:
            invitation, token = invite(name)
            link = request.build_absolute_uri(f"/portal/invite/{token}")
        except ValidationError as e:
            local.db.rollback()
            local.db.begin()
            error = e.message
    return render("service_app/portal_invite.html", contact=contact, link=link, error=error,
                  days=INVITATION_DAYS, status=417 if error else 200)


# -- sign-up requests ------------------------------------------------------------------------------

def request_signup(full_name, email, company_name=None, phone=None, message=None):
    """A visitor's request (from /portal/signup), written as Guest."""
    email = (email or "").strip().lower()
    for field, value in (("full_name", full_name), ("email", email)):
        if not (value or "").strip():
            raise ValidationError(gettext("This field is required") + f": {field}", field=field)
    req = lowcode.get_doc({"doctype": "Portal Sign-up Request", "full_name": full_name.strip(), "email": email,
                           "company_name": company_name, "phone": phone, "message": message,
                           "status": "Pending"}).insert(ignore_permissions=True)
    from lowcode.desk.views.collaboration import notify
    managers = local.db.sql("SELECT DISTINCT r.`parent` FROM `tabHas Role` r JOIN `tabUser` u ON u.`name`=r.`parent` "
                            "WHERE r.`parenttype`='User' AND r.`role`='Support Manager' AND u.`enabled`=1", pluck=True)
    for manager in managers:
        notify(manager, "Alert", f"{req.doctype}: {req.full_name} <{req.email}>", doc=req)
    return req


@lowcode.whitelist(methods=["POST"])
def approve_request(name: str):
    """Make the contact (or reuse the one with this e-mail) under the request's customer;
    the form action then opens the invitation page for it."""
    lowcode.only_for(APPROVER_ROLES)
    req = lowcode.get_doc("Portal Sign-up Request", name)
    req.check_permission("write")
    if req.status != "Pending":
        raise ValidationError(gettext("This request was already decided"), field="status")
    if not req.customer:
        raise ValidationError(gettext("Set the customer before approving"), field="customer")
    _check_not_staff(req.email, "email")
    from service_app.cases import contact_by_email
    contact = contact_by_email(req.email)
    if contact and _contact_customer(contact) != req.customer:
        raise ValidationError(gettext("A contact with this e-mail belongs to another customer"), field="customer")
    if not contact:
        first, _, last = req.full_name.partition(" ")
        contact = lowcode.get_doc({"doctype": "Contact", "first_name": first, "last_name": last or None,
                                   "email_id": req.email, "phone": req.phone,
                                   "links": [{"link_doctype": "Customer", "link_name": req.customer}]}).insert(
            ignore_permissions=True).name  # approvers need not be CRM users
    req.status, req.contact = "Approved", contact
    req.save(ignore_permissions=True)
    return {"name": req.name, "contact": contact}


@lowcode.whitelist(methods=["POST"])
def reject_request(name: str):
    lowcode.only_for(APPROVER_ROLES)
    req = lowcode.get_doc("Portal Sign-up Request", name)
    req.check_permission("write")
    req.status = "Rejected"
    req.save(ignore_permissions=True)
    return {"name": req.name}

