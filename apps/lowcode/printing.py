"""Admin-written templates (print formats, e-mail templates), rendered in Jinja's
sandbox, and HTML turned into PDF.

Every render has a deadline and size limits (lowcode.sandbox): a runaway template
stops with a clear 417 instead of hanging the worker.

A template sees only plain data: ``doc`` (the document's fields the user may read,
child rows included), ``meta`` (the DocType's name and fields) and a few helpers:
``format(value, fieldname)`` (the desk's formatting, in the user's calendar and
digits), ``_`` (gettext), ``jalali(date)`` and ``now()``. Attribute access to
anything private (``__class__`` and friends) raises SecurityError, which reaches the
user as a clear 417 error; nothing of the template runs past it.
"""
import datetime
import functools
import traceback
from urllib.parse import unquote, urlsplit

import jdatetime
import jinja2
from django.utils.translation import gettext as _
from jinja2.sandbox import SecurityError

from . import i18n, sandbox
from .context import local
from .exceptions import ValidationError
from .meta import get_meta
from .urls import safe_url
from .utils import now as now_text


class TemplateError(ValidationError):
    """An admin template failed to compile or render (HTTP 417)."""


# -- what templates see ----------------------------------------------------------------------

class Record:
    """Read-only view of a document (or a child row) for templates: ``doc.items`` and
    ``doc["items"]`` both give the field, even when it is named like a dict method;
    missing fields read as None."""
    __slots__ = ("_data",)

    def __init__(self, data):
        self._data = data

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _wrap(self._data.get(name))

    def __getitem__(self, name):
        return _wrap(self._data.get(name))

    def __contains__(self, name):
        return name in self._data

    def __iter__(self):
        return iter(self._data)

    def __str__(self):
        return str(self._data.get("name") or "")


def _wrap(value):
    if isinstance(value, dict):
        return Record(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


@functools.lru_cache(maxsize=2)
def environment(autoescape=True):
    """The sandbox: HTML templates autoescape; plain-text ones (subjects) do not."""
    return sandbox.make_environment(autoescape, {"jalali": lambda value: jalali(value),
                                                 "safe_url": safe_url})  # for href/src of printed values


def check_syntax(source, field, label):
    """ValidationError naming the field and line when a template does not compile."""
    try:
        environment().parse(source or "")
    except jinja2.TemplateSyntaxError as e:
        raise ValidationError(_("%(field)s: line %(line)s: %(error)s") % {"field": _(label), "line": e.lineno,
                                                                       "error": e.message}, field=field)


def render(source, context, autoescape=True):
    """Render an admin template in the sandbox, within the sandbox's limits; any
    failure is a TemplateError with a readable message (never a traceback)."""
    try:
        with sandbox.limits():
            template = environment(autoescape).from_string(source or "")
            out, size = [], 0
            for chunk in template.generate(context):
                size += len(chunk)
                if size > sandbox.MAX_OUTPUT:
                    raise sandbox.LimitExceeded("size")
                sandbox.check_time()
                out.append(chunk)
            return "".join(out)
    except (sandbox.LimitExceeded, MemoryError) as e:
        if getattr(e, "kind", None) == "time":
            raise TemplateError(_("The template took too long (more than %(seconds)s seconds)")
                                % {"seconds": sandbox.MAX_SECONDS})
        raise TemplateError(_("The template's output is too large (more than %(size)s characters)")
                            % {"size": f"{sandbox.MAX_OUTPUT:,}"})
    except SecurityError as e:
        raise TemplateError(_("The template tried something that is not allowed: %(error)s") % {"error": e})
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(_("The template has an error on line %(line)s: %(error)s")
                            % {"line": e.lineno, "error": e.message})
    except jinja2.UndefinedError as e:
        raise _failed(e, str(e))
    except RecursionError:
        raise TemplateError(_("The template failed: a macro calls itself without end"))
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as e:
        raise _failed(e, f"{type(e).__name__}: {e}")


def _failed(exc, error):
    """A render-time failure, on the template line it happened at when Jinja's rewritten
    traceback tells it (a template from a string runs as "<template>")."""
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == "<template>"]
    if lines:
        return TemplateError(_("The template failed on line %(line)s: %(error)s") % {"line": lines[-1], "error": error})
    return TemplateError(_("The template failed: %(error)s") % {"error": error})


# -- helpers given to templates --------------------------------------------------------------

def _prefs():
    from .desk.render import prefs
    return prefs()


def jalali(value):
    """A date (or datetime) as a Jalali date YYYY/MM/DD, in the user's digits."""
    from .desk.formatting import digits
    if not value:
        return ""
    d = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])
    if isinstance(d, datetime.datetime):
        d = d.date()
    return digits(jdatetime.date.fromgregorian(date=d).strftime("%Y/%m/%d"), _prefs())


def _guess_fieldtype(value):
    if isinstance(value, datetime.datetime):
        return "Datetime"
    if isinstance(value, datetime.date):
        return "Date"
    if isinstance(value, bool):
        return "Check"
    if isinstance(value, int):
        return "Int"
    if isinstance(value, float):
        return "Float"
    return "Data"


def formatter(meta, prefs):
    """``format(value, fieldname[, doctype])``: the desk's display text for a value of a
    field of the document (or of one of its child tables)."""
    from .desk.formatting import format_value

    def format(value, fieldname=None, doctype=None):  # noqa: A001 - the name templates use
        df = None
        if fieldname:
            if doctype:
                df = get_meta(doctype).get_field(fieldname)
            elif meta is not None:
                df = meta.get_field(fieldname)
                for tf in ([] if df else meta.table_fields):
                    df = get_meta(tf.options).get_field(fieldname)
                    if df:
                        break
        df = df or {"fieldname": fieldname, "fieldtype": _guess_fieldtype(value)}
        return format_value(value, df, prefs)
    return format


def meta_record(meta):
    if meta is None:
        return None
    return Record({"name": meta.name, "title_field": meta.get_title_field(),
                   "istable": bool(meta.istable), "is_submittable": bool(meta.is_submittable),
                   "fields": [{"fieldname": df.fieldname, "label": df.label, "fieldtype": df.fieldtype,
                               "options": df.options} for df in meta.fields]})


def doc_data(doc):
    """A document as the current user may see it (fields of unreadable permission
    levels left out), as plain data."""
    from .client import doc_for_user
    return doc_for_user(doc) if doc is not None else {}


def template_context(doc=None, data=None):
    """What a template sees for ``doc`` (a Document, or None for no document)."""
    prefs = _prefs()
    meta = doc.meta if doc is not None else None
    return {"doc": Record(data if data is not None else doc_data(doc)), "meta": meta_record(meta),
            "format": formatter(meta, prefs), "_": i18n.translate, "jalali": jalali,
            "now": now_text}


# -- e-mail templates --------------------------------------------------------------------------

def render_email_parts(subject, response, doc=None):
    """(subject, html) of an e-mail from template texts, for ``doc`` (may be None)."""
    context = template_context(doc)
    text = render(subject, context, autoescape=False)
    # A subject is one header line: a line break in it could add headers.
    text = " ".join(text.split())
    return text, render(response, context)


def render_email_template(template_name, doc=None):
    """(subject, html) of the Email Template ``template_name`` for ``doc`` (a Document,
    a ``(doctype, name)`` pair, or None). App code calls this to compose a message; the
    fields the template can show are those the current user may read."""
    from .document import get_doc
    from .query import get_value
    row = get_value("Email Template", template_name, ["subject", "response"], as_dict=True,
                    ignore_permissions=True)
    if row is None:
        from .exceptions import DoesNotExistError
        raise DoesNotExistError(f"Email Template {template_name!r} not found", doctype="Email Template")
    if isinstance(doc, (tuple, list)):
        doc = get_doc(*doc)
        doc.check_permission("read")
    return render_email_parts(row["subject"], row["response"], doc)


# -- PDF ------------------------------------------------------------------------------------

def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SiteFetcher(URLFetcher):
        """Images and stylesheets a PDF may load: inline ``data:`` URLs and the site's
        public files. Nothing else: a template or a field value must not make the
        server fetch other addresses (internal services included)."""

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "https" and parts.netloc == local.site and parts.path.startswith("/files/"):
                from .api.files import read_stored
                try:  # through the site's storage: its folder or its bucket
                    return URLFetcherResponse(url, read_stored(unquote(parts.path)), {})
                except FileNotFoundError:
                    pass
            raise ValueError(f"not loaded in a PDF: {url}")
    return SiteFetcher


def html_to_pdf(html):
    """PDF bytes of an HTML page (WeasyPrint; fonts from the system's fontconfig)."""
    import weasyprint
    return weasyprint.HTML(string=html, base_url=f"https://{local.site}/",
                           url_fetcher=_fetcher_class()()).write_pdf()
