"""The "Email" button on a record's form: /app/email?doctype=..&name=.. composes a
message to the record's e-mail address, optionally from an Email Template (rendered in
the sandbox for the record) and with the record's PDF, and queues it with ``sendmail``
so it lands on the record's timeline as a Communication.

Replying: /app/email?doctype=Communication&name=<a received message> is Frappe's reply
(To the sender, "Re: " subject, the message quoted, In-Reply-To its Message-ID when it
has one); the reply goes on the timeline of the record the message is about (or of the
message itself) and the message becomes Replied."""
import html
import re

from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from urllib.parse import quote

from ..desk.formatting import isolate
from ..desk.render import render
from ..desk.views.common import desk_view, open_doc
from ..exceptions import LowcodeError, ValidationError
from ..fields import registry
from ..meta import get_meta
from ..utils import route_for


def email_fields(meta):
    return [f.fieldname for f in meta.fields if registry[f.fieldtype].kind(f) == "Email"]


def has_email(doc):
    """Form action condition: the record has an e-mail address to write to, and the user
    the "email" permission on it (Frappe's DocPerm column)."""
    from ..permissions import has_permission
    return any(doc.get(f) for f in email_fields(get_meta(doc.doctype))) and has_permission(doc.doctype, "email", doc)


def _templates(doctype):
    import lowcode
    return lowcode.get_list("Email Template", fields=["name"], or_filters=[["reference_doctype", "=", doctype],
                            ["reference_doctype", "is", "not set"]], order_by="name asc", limit_page_length=0,
                            pluck="name")


def _record_pdf(doc):
    from ..desk.views.printview import download_pdf
    return {"fname": f"{doc.name}.pdf", "fcontent": download_pdf(doc.doctype, doc.name).content,
            "content_type": "application/pdf"}


def is_reply(doc):
    return doc.doctype == "Communication" and doc.get("sent_or_received") == "Received"


def reply_values(message):
    """The compose fields of a reply to a received message."""
    from .email import html_to_text
    subject = message.get("subject") or ""
    if not re.match(r"(?i)re:", subject):
        subject = f"Re: {subject}"
    text = html_to_text(message.get("content") or "")
    quoted = "\n".join("> " + line if line else ">" for line in text.splitlines())
    # the date and address isolated: in a Persian or Hebrew reply "2026-05-01 10:30" keeps its order
    intro = _("On %(date)s, %(sender)s wrote:") % {"date": isolate(str(message.get("communication_date") or "")[:16]),
                                                    "sender": isolate(message.get("sender") or "")}
    return {"to": message.get("sender") or "", "subject": subject, "message": f"\n\n{intro}\n{quoted}\n"}


def _mark_replied(message):
    # Frappe's reply sets the status of the message answered; bookkeeping, like "seen".
    from ..context import local
    local.db.sql("UPDATE `tabCommunication` SET `status`='Replied' WHERE `name`=%s AND `status`='Open'",
                 (message.name,))


@desk_view
def page(request, name=None):
    from ..printing import TemplateError, render_email_template
    from .email import sendmail
    args = request.POST if request.method == "POST" else request.GET
    doc = open_doc(args.get("doctype") or "", args.get("name") or "")
    doc.check_permission("email")
    form_url = f"/app/{route_for(doc.doctype)}/{quote(doc.name)}"
    values = {"to": ", ".join(doc.get(f) for f in email_fields(doc.meta) if doc.get(f)),
              "cc": "", "bcc": "", "subject": "", "message": "", "template": args.get("template") or "",
              "attach_pdf": bool(args.get("attach_pdf"))}
    reply = is_reply(doc)
    if reply:
        values.update(reply_values(doc))
    reference = (doc.doctype, doc.name)
    if reply and doc.get("reference_doctype") and doc.get("reference_name"):
        reference = (doc.reference_doctype, doc.reference_name)
    error = None
    if request.method == "POST":
        values.update({k: args.get(k, "") for k in ("to", "cc", "bcc", "subject", "message")})
        body = values["message"]
        if body and not re.search(r"<[a-zA-Z][^>]*>", body):  # typed as plain text: keep its lines
            body = html.escape(body).replace("\r\n", "\n").replace("\n", "<br>\n")
        try:
            attachments = [_record_pdf(doc)] if values["attach_pdf"] else None
            sendmail(values["to"], values["subject"], body, reference_doctype=reference[0],
                     reference_name=reference[1], cc=values["cc"], bcc=values["bcc"], attachments=attachments,
                     in_reply_to=(doc.get("message_id") or None) if reply else None,
                     # The form holds the template's text already; it is used only when left empty.
                     template=(values["template"] or None) if not (values["subject"] or values["message"]) else None)
            if reply:
                _mark_replied(doc)
            return HttpResponseRedirect(form_url)
        except ValidationError as e:
            # Shown again with the error; the request's status rolls back anything written.
            return render("email_compose.html", status=e.http_status, doc=doc, values=values, error=str(e),
                          field=e.field, templates=_templates(doc.doctype), form_url=form_url)
    elif values["template"]:
        try:
            values["subject"], values["message"] = render_email_template(values["template"], doc)
        except (TemplateError, LowcodeError) as e:
            error = str(e)
    return render("email_compose.html", doc=doc, values=values, error=error, field=None,
                  templates=_templates(doc.doctype), form_url=form_url)
