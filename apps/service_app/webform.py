"""Public web forms a company puts on its website: ``/webform/contact`` ("contact us":
a Lead), ``/webform/quote`` ("request a quote") and ``/webform/support`` (a support
request): both a Case through ``create_case(channel="Web Form")``.

The forms are fixed in code (FORMS) rather than built in the browser: each maps a
few plain fields onto one document, and the mapping is the part worth reviewing.

Spam guard (``spam_guard``, also used by the portal's sign-up form):
- a rate limit per address: at most ``webform_rate_limit`` posts (site config, default
  RATE_LIMIT) per RATE_WINDOW seconds (``lowcode.rate_limit``: Redis when configured);
- a honeypot field hidden from people (bots fill every field);
- a signed time stamp set when the form is shown: a post sooner than
  ``webform_min_seconds`` (default MIN_SECONDS) after it, or with a stamp that is
  missing, forged or older than a day, is refused.
A honeypot or too-fast post gets the normal thank-you page and writes nothing, so a
bot learns nothing; a person who trips the rate limit is told to wait (429).

The pages may be framed by other sites (the embed snippet in docs/PORTAL.md):
``frame-ancestors`` is opened for these pages only; everything else keeps DENY."""
import html
import time

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import Http404
from django.utils.translation import gettext, gettext_lazy as _  # _: lazy labels, found by the extractor

import lowcode
from lowcode import rate_limit
from lowcode.context import local
from lowcode.exceptions import TooManyRequestsError, ValidationError
from lowcode.utils import today
from lowcode.web.pages import render_web

from service_app.cases import create_case

RATE_LIMIT = 5
RATE_WINDOW = 3600
MIN_SECONDS = 3
MAX_AGE = 86400
HONEYPOT = "homepage"
STAMP = "form_stamp"

# name: (title, document made, fields: (fieldname, label, required, max length, widget))
PERSON_FIELDS = [("full_name", _("Your name"), True, 140, "text"),
           ("email", _("E-mail"), True, 140, "email"),
           ("phone", _("Phone"), False, 40, "tel"),
           ("company_name", _("Company"), False, 140, "text")]
FORMS = {
    "contact": (_("Contact us"), "Lead",
                PERSON_FIELDS + [("message", _("Message"), True, 5000, "textarea")]),
    "quote": (_("Request a quote"), "Case",
              PERSON_FIELDS + [("subject", _("What would you like a quote for?"), True, 140, "text"),
                         ("message", _("Details"), True, 5000, "textarea")]),
    "support": (_("Support request"), "Case",
                PERSON_FIELDS + [("subject", _("Subject"), True, 140, "text"),
                           ("message", _("Describe the problem"), True, 5000, "textarea")]),
}


def stamp(at=None):
    """The signed time a form was shown (the site's name in the salt: a stamp from one
    site is no good on another)."""
    return signing.Signer(salt=f"webform:{local.site}").sign(str(int(at if at is not None else time.time())))


def _shown_at(value):
    try:
        return int(signing.Signer(salt=f"webform:{local.site}").unsign(value or ""))
    except (signing.BadSignature, ValueError):
        return None


def client_address(request):
    return request.META.get("REMOTE_ADDR") or "unknown"


def spam_guard(request, key):
    """True when the post looks like a bot's (write nothing, answer as if done);
    TooManyRequestsError past the address's limit; BadRequest-like ValidationError for
    a missing or forged stamp (an expired page)."""
    rate_limit.hit(f"webform:{key}", client_address(request), int(local.conf.get("webform_rate_limit") or RATE_LIMIT),
                   RATE_WINDOW, message=gettext("Too many requests from your address: please try again later"))
    if (request.POST.get(HONEYPOT) or "").strip():
        return True
    shown = _shown_at(request.POST.get(STAMP))
    now = time.time()
    if shown is None or now - shown > MAX_AGE:
        raise ValidationError(gettext("The form expired: please reload the page and send it again"), field=STAMP)
    min_seconds = local.conf.get("webform_min_seconds")
    return now - shown < (MIN_SECONDS if min_seconds is None else float(min_seconds))


def clean(fields, data):
    """The posted values of ``fields``, stripped; ValidationError naming the first bad field."""
    values = {}
    for fieldname, label, required, max_length, widget in fields:
        value = (data.get(fieldname) or "").strip()
        if required and not value:
            raise ValidationError(gettext("%(field)s is required") % {"field": label}, field=fieldname)
        if len(value) > max_length:
            raise ValidationError(gettext("%(field)s is too long (at most %(n)s characters)")
                                  % {"field": label, "n": max_length}, field=fieldname)
        if value and widget == "email":
            try:
                validate_email(value)
            except DjangoValidationError:
                raise ValidationError(gettext("%(field)s is not a valid e-mail address") % {"field": label},
                                      field=fieldname)
            value = value.lower()
        values[fieldname] = value
    return values


def as_html(text):
    """Plain text typed by a visitor, for a Text Editor field: escaped, lines kept."""
    return "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"


def submit(name, values):
    """Write the form's document; returns it."""
    creates = FORMS[name][1]
    details = [f"{label}: {values[f]}" for f, label, *_ in FORMS[name][2] if f not in ("message", "subject")
               and values.get(f)]
    if creates == "Lead":
        first, _, last = values["full_name"].partition(" ")
        return lowcode.get_doc({"doctype": "Lead", "first_name": first, "last_name": last or None,
                                "email_id": values["email"], "phone": values["phone"] or None,
                                "company_name": values["company_name"] or None, "lead_date": today(),
                                "notes": as_html(values["message"])}).insert(ignore_permissions=True)
    subject = values["subject"] if name == "support" else f"{gettext('Quote request')}: {values['subject']}"
    return create_case(subject, channel="Web Form", raised_by=values["email"], ignore_permissions=True,
                       description=as_html(values["message"] + "\n\n" + "\n".join(details)))


def framable(response):
    """Let other sites frame this page (only this one): CSP frame-ancestors from the
    site config ``webform_frame_ancestors`` (default any site), no X-Frame-Options."""
    ancestors = local.conf.get("webform_frame_ancestors") or "*"
    response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {ancestors}")
    response.xframe_options_exempt = True
    return response


def page(request, path):
    name = path.strip("/")
    if name not in FORMS:
        raise Http404(name)
    title, _, fields = FORMS[name]
    values, error, field, status, done = {}, None, None, 200, False
    if request.method == "POST":
        values = {f[0]: (request.POST.get(f[0]) or "") for f in fields}
        try:
            spam = spam_guard(request, "webform")
            if not spam:
                submit(name, clean(fields, request.POST))
            done = True
        except (ValidationError, TooManyRequestsError) as e:
            error, field, status = e.message, getattr(e, "field", None), e.http_status
    elif request.method != "GET":
        raise Http404(name)
    return framable(render_web(request, "service_app/webform.html", status=status, form=name, title=title,
                               fields=fields, values=values, error=error, error_field=field, done=done,
                               stamp=stamp(), honeypot=HONEYPOT, stamp_field=STAMP))
