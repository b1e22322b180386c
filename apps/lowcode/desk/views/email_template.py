"""/app/email-template-editor/<name> (or /new): edit an Email Template's subject and
message with a live preview rendered in the sandbox against a document the user
picks, among those they may read. Saving goes through the Email Template DocType."""
from urllib.parse import quote

from django.http import HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext as _

from ... import document as documents, printing
from ...context import local
from ...exceptions import LowcodeError, ValidationError
from ...meta import get_meta
from ...permissions import has_permission
from ..render import environment, prefs, render
from .common import desk_view, open_doc, readable_doctypes

FIELDS = ("reference_doctype", "subject", "response")


@desk_view
def editor_home(request):
    return HttpResponseRedirect("/app/email-template")


@desk_view
def editor(request, name):
    doc = open_doc("Email Template", name)
    if request.method == "GET":
        return _render_editor(doc, request.GET)
    try:
        if doc.is_new():
            doc.template_name = (request.POST.get("template_name") or "").strip() or None
        else:
            doc.modified = request.POST.get("modified") or doc.modified
        for f in FIELDS:
            doc.set(f, request.POST.get(f) or None)
        doc.save()
    except LowcodeError as e:
        local.db.rollback()
        local.db.begin()
        # The refused values are shown again, but rendered only for those who may preview.
        return _render_editor(doc, request.POST, error=e.message, error_field=e.field, status=e.http_status,
                              preview=may_preview())
    return HttpResponseRedirect("/app/email-template-editor/" + quote(doc.name))


def may_preview():
    """Previewing runs any template the caller writes: it needs the right to write
    e-mail templates (a stored template, written by such a user, renders for readers)."""
    return has_permission("Email Template", "write")


def _render_editor(doc, args, error=None, error_field=None, status=200, preview=True):
    preview_doctype = args.get("preview_doctype") or doc.reference_doctype or ""
    preview_name = args.get("preview_name") or ""
    can_save = has_permission("Email Template", "create" if doc.is_new() else "write",
                              doc=None if doc.is_new() else doc)
    preview = _preview(doc.subject, doc.response, preview_doctype, preview_name) \
        if preview and (doc.subject or doc.response) else None
    return render("email_template_editor.html", status=status, doc=doc, error=error, error_field=error_field,
                  doctypes=[d for _m, d in readable_doctypes()], preview_doctype=preview_doctype,
                  preview_name=preview_name, preview=preview, can_save=can_save)


def _preview(subject, response, doctype, name):
    """{subject, html} or {error}: the template rendered for the chosen document."""
    target = None
    try:
        if doctype and name:
            if get_meta(doctype).istable:
                raise ValidationError(_("%(doctype)s is a child table") % {"doctype": doctype}, field="preview_doctype")
            target = documents.get_doc(doctype, name)
            target.check_permission("read")
        text, html = printing.render_email_parts(subject or "", response or "", target)
    except LowcodeError as e:
        return {"error": e.message, "status": e.http_status}
    return {"subject": text, "html": html, "doc": target}


@desk_view
def preview(request):
    """POST the editor's form: the preview fragment (a template error or a document
    the user may not read is reported in it, with its status)."""
    if not may_preview():
        result = {"error": _("Previewing needs the permission to edit e-mail templates"), "status": 403}
        return render_block("email_template_editor.html", "preview", status=403, preview=result)
    result = _preview(request.POST.get("subject"), request.POST.get("response"),
                      request.POST.get("preview_doctype"), (request.POST.get("preview_name") or "").strip())
    return render_block("email_template_editor.html", "preview", status=result.get("status", 200), preview=result)


def render_block(template, block, status=200, **context):
    """One block of a desk template, in the user's language (for htmx fragments)."""
    p = prefs()
    with translation.override(p.lang):
        t = environment().get_template(template)
        html = "".join(t.blocks[block](t.new_context(dict(context, prefs=p, lang=p.lang, rtl=p.rtl))))
    return HttpResponse(html, status=status)
