"""/printview?doctype=X&name=Y&format=F (HTML) and the PDF download at
/api/method/frappe.utils.print_format.download_pdf (same arguments).

Both need the ``print`` permission on the document. The document is printed with the
chosen Print Format (its Jinja template runs in the sandbox, lowcode.printing), else
the DocType's default one, else a standard layout generated from the form's
sections; values are formatted in the user's calendar and digits. ``_lang`` (or
``language``) picks the language of the printed document; fa and he print
right-to-left."""
from urllib.parse import quote

from django.http import HttpResponse, JsonResponse
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from markupsafe import Markup

from ... import i18n, printing
from ...document import get_doc
from ...exceptions import DoesNotExistError, LowcodeError, PermissionError, ValidationError
from ...fields import registry, types_where
from ...meta import get_meta
from ...permissions import get_permlevels, has_permission
from ...query import get_all, get_list
from ...utils import route_for
from ..formatting import RTL_LANGUAGES, display_value, format_value
from ..layout import form_layout
from ..render import environment, prefs, render
from .common import desk_view
from .email_template import render_block

STANDARD = "Standard"
LANGUAGES = ("en", "fa", "he")
# Sheet width on screen per page size (portrait, landscape), so the HTML view looks
# like the printed page.
SHEET_WIDTH = {"A4": ("210mm", "297mm"), "A5": ("148mm", "210mm"), "Letter": ("216mm", "279mm")}
# Keeps a print format's scripts and outside resources from running in the desk's
# origin: the page needs only our own script and inline styles.
PRINT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
             "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
             "form-action 'self'; frame-ancestors 'self'")


def printable_doc(doctype, name):
    """The document, if the user may print it."""
    if not doctype or not name:
        raise ValidationError(_("doctype and name are required"), field="doctype" if not doctype else "name")
    doc = get_doc(doctype, name)
    if not has_permission(doctype, "print", doc=doc):
        raise PermissionError(_("Not permitted: print %(doctype)s %(name)s") % {"doctype": doctype, "name": name},
                              doctype=doctype)
    return doc


def print_formats(doctype):
    # Print formats are site configuration every user who may print a document needs:
    # read without the user's permissions, only ever for a document already checked.
    return get_all("Print Format", filters={"doc_type": doctype, "disabled": 0},
                   fields=["name", "is_default", "html", "custom_css", "page_size", "orientation"],
                   order_by="name asc")


def resolve_format(doctype, requested, formats=None):
    """The Print Format row to print with, or None for the standard layout."""
    formats = print_formats(doctype) if formats is None else formats
    if requested == STANDARD:
        return None
    if requested:
        for row in formats:
            if row["name"] == requested:
                return row
        raise DoesNotExistError(_("Print Format %(name)s not found for %(doctype)s")
                                % {"name": repr(requested), "doctype": doctype}, doctype="Print Format")
    return next((row for row in formats if int(row["is_default"] or 0)), None)


def _language(requested):
    lang = requested if requested in LANGUAGES else prefs().lang
    return lang, lang in RTL_LANGUAGES


def standard_sections(doc):
    """The form's sections as print data: [{label, columns: [[item]]}], an item being a
    field {label, value} or a child table {label, headers, rows}. Empty fields, hidden
    ones, print_hide ones and those of permission levels the user may not read are
    left out."""
    meta = doc.meta
    p = prefs()
    levels = get_permlevels(meta.name, "read", doc=doc)

    def text(value, df):
        shown = format_value(value, df, p)
        if registry[df.get("fieldtype")].option_list and shown:
            return i18n.translate(shown)  # a status shown in the site's words
        if registry[df.get("fieldtype")].rich_text and shown:
            return Markup(shown)  # sanitised by nh3 when it was saved
        return display_value(value, df, p)  # numbers, amounts and dates isolated left to right

    def visible(df):
        return int(df.permlevel or 0) in levels and not df.get("print_hide") and not df.get("hidden")

    sections = []
    for tab in form_layout(meta):
        for section in tab["sections"]:
            columns = []
            for column in section["columns"]:
                items = []
                for df in column:
                    if not visible(df) or df.fieldtype in types_where("layout"):  # static HTML
                        continue
                    if df.fieldtype in types_where("table"):
                        rows = doc.get(df.fieldname) or []
                        if not rows:
                            continue
                        child = get_meta(df.options)
                        shown = [c for c in child.data_fields if visible(c)]
                        cols = [c for c in shown if c.in_list_view] or shown[:6]
                        items.append({"label": df.label or df.fieldname,
                                      "headers": [c.label or c.fieldname for c in cols],
                                      "numeric": [c.fieldtype in types_where("numeric") for c in cols],
                                      "rows": [[text(row.get(c.fieldname), c) for c in cols] for row in rows]})
                        continue
                    shown = text(doc.get(df.fieldname), df)
                    if shown not in ("", None):
                        items.append({"label": df.label or df.fieldname, "value": shown, "fieldtype": df.fieldtype,
                                      "rich": registry[df.fieldtype].rich_text})
                if items:
                    columns.append(items)
            if columns:
                sections.append({"label": section["label"], "columns": columns})
    return sections


def document_html(doc, print_format, lang):
    """The printed document's body, in ``lang``."""
    with translation.override(lang):
        if print_format and (print_format.get("html") or "").strip():
            return Markup(printing.render(print_format["html"], printing.template_context(doc)))
        return Markup(environment().get_template("print_standard.html").render(
            doc=doc, meta=doc.meta, sections=standard_sections(doc), prefs=prefs(), tr=i18n.translate,
            status={0: "Draft", 1: "Submitted", 2: "Cancelled"}.get(int(doc.docstatus or 0))
            if doc.meta.is_submittable else None))


def print_page(doc, print_format, lang, rtl, pdf=False, error=None, status=200, formats=(), args=None):
    page_size = (print_format or {}).get("page_size") or "A4"
    orientation = (print_format or {}).get("orientation") or "Portrait"
    width = SHEET_WIDTH.get(page_size, SHEET_WIDTH["A4"])[orientation == "Landscape"]
    body = None
    if error is None:
        body = document_html(doc, print_format, lang)
    # Custom CSS sits inside <style>: "</" must not close the element early.
    css = ((print_format or {}).get("custom_css") or "").replace("</", "<\\/")
    return render("print_view.html", status=status, doc=doc, meta=doc.meta, body=body, error=error,
                  pdf=pdf, doc_lang=lang, doc_rtl=rtl, page_size=page_size, orientation=orientation,
                  sheet_width=width, custom_css=Markup(css), formats=formats, args=args or {},
                  current_format=(print_format or {}).get("name") or STANDARD,
                  form_url=f"/app/{route_for(doc.doctype)}/{quote(doc.name)}")


@desk_view
def printview(request):
    args = request.GET
    doc = printable_doc(args.get("doctype"), args.get("name"))
    lang, rtl = _language(args.get("_lang") or args.get("language"))
    rows = print_formats(doc.doctype)
    formats = [row["name"] for row in rows]
    print_format = resolve_format(doc.doctype, args.get("format"), rows)
    try:
        response = print_page(doc, print_format, lang, rtl, formats=formats, args=args)
    except printing.TemplateError as e:
        response = print_page(doc, print_format, lang, rtl, error=e.message, status=e.http_status,
                              formats=formats, args=args)
    response["Content-Security-Policy"] = PRINT_CSP
    return response


def download_pdf(doctype, name, format=None, language=None, _lang=None, **_ignored):  # noqa: A002 - Frappe's name
    """The document as a PDF file (Frappe's frappe.utils.print_format.download_pdf)."""
    doc = printable_doc(doctype, name)
    lang, rtl = _language(_lang or language)
    print_format = resolve_format(doc.doctype, format)
    html = print_page(doc, print_format, lang, rtl, pdf=True).content.decode("utf-8")
    response = HttpResponse(printing.html_to_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"{doc.name}.pdf")
    return response



# -- the Print Format form's live preview (desk/static/print_format_form.js) -----------------

def may_preview():
    """Previewing runs whatever template the caller sends: only for who may write print
    formats (as the e-mail template editor's preview)."""
    return has_permission("Print Format", "write")


@desk_view
def format_preview(request):
    """/app/print-format-preview. GET ?doc_type=: the preview panel (a record chooser
    holding the latest record of doc_type the user may read, and a sandboxed frame).
    POST the form's draft (doc_type, html, custom_css, page_size, orientation) and
    ``preview_name``: {"html": the printed page} or {"error", "field"} with the error's
    status. The draft is rendered, never saved; the record is read, and must be
    printable, with the user's permissions."""
    if not may_preview():
        message = _("Previewing needs the permission to edit print formats")
        if request.method == "GET":
            return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
        return JsonResponse({"error": message, "field": None}, status=403)
    if request.method == "GET":
        doctype = request.GET.get("doc_type") or ""
        latest = None
        if doctype and has_permission(doctype, "read") and not get_meta(doctype).istable:
            latest = next(iter(get_list(doctype, pluck="name", order_by="modified desc", limit=1)), None)
        return render_block("print_format_preview.html", "panel", doc_type=doctype, latest=latest)
    post = request.POST
    try:
        doctype = post.get("doc_type") or ""
        if not doctype:
            raise ValidationError(_("Choose the DocType first"), field="doc_type")
        doc = printable_doc(doctype, (post.get("preview_name") or "").strip())
        draft = {key: post.get(key) or "" for key in ("html", "custom_css", "page_size", "orientation")}
        lang, rtl = _language(None)
        page = print_page(doc, draft, lang, rtl, pdf=True)
    except LowcodeError as e:
        return JsonResponse({"error": e.message, "field": e.field}, status=e.http_status)
    return JsonResponse({"html": page.content.decode("utf-8")})
