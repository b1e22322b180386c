"""Admin-written templates (print formats, e-mail templates), rendered in Jinja's
sandbox, and HTML turned into PDF.

Every render has a deadline (MAX_SECONDS) and size limits (output, widths, values
built): a runaway template stops with a clear 417 instead of hanging the worker.

A template sees only plain data: ``doc`` (the document's fields the user may read,
child rows included), ``meta`` (the DocType's name and fields) and a few helpers:
``format(value, fieldname)`` (the desk's formatting, in the user's calendar and
digits), ``_`` (gettext), ``jalali(date)`` and ``now()``. Attribute access to
anything private (``__class__`` and friends) raises SecurityError, which reaches the
user as a clear 417 error; nothing of the template runs past it.
"""
import contextvars
import datetime
import functools
import os
import re
import string
import time
from urllib.parse import unquote, urlsplit

import jdatetime
import jinja2
from django.utils import translation
from django.utils.translation import gettext as _
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .context import local
from .exceptions import ValidationError
from .meta import get_meta
from .urls import safe_url
from .utils import now as now_text

# What one render may take and build: more is a runaway template (nested loops,
# ``center(10**8)``, doubling a string), stopped before it hangs or fills the worker.
MAX_EXPONENT = 100
MAX_REPEAT = 100_000
MAX_SECONDS = 5           # wall clock, checked at every loop step, call and chunk of output
MAX_OUTPUT = 2_000_000    # characters of output, and of any one value built on the way
MAX_WIDTH = 10_000        # a padding or field width (center, ljust, "%10000d", "{:>10000}")
MAX_INT_BITS = 100_000    # an integer built by * or ** (about 30,000 digits)
MAX_BUILT = 20_000_000    # characters built by a render's calls, filters and operators, in all


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


class _Undefined(jinja2.Undefined):
    """A missing value prints as nothing (templates often name empty fields), but a
    value the sandbox refused raises its SecurityError however it is used."""
    __slots__ = ()

    def _refused(self):
        exc = self._undefined_exception
        if isinstance(exc, type) and issubclass(exc, SecurityError):
            self._fail_with_undefined_error()

    def __str__(self):
        self._refused()
        return ""

    def __iter__(self):
        self._refused()
        return iter(())

    def __bool__(self):
        self._refused()
        return False

    def __len__(self):
        self._refused()
        return 0


class TemplateLimitError(Exception):
    """A render went past its time or size budget (reported as a TemplateError)."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind  # "time" or "size"


class _Budget:
    """One render's deadline, and the characters its calls, filters and operators have
    built so far (a bound on memory, however the template frees or shares them)."""
    __slots__ = ("deadline", "built")

    def __init__(self, seconds):
        self.deadline = time.monotonic() + seconds
        self.built = 0


_budget = contextvars.ContextVar("template_budget", default=None)


def _check_time():
    budget = _budget.get()
    if budget is not None and time.monotonic() > budget.deadline:
        raise TemplateLimitError("time")


def _weight(value):
    """Characters a value holds: its length for text, its items' for a list."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (list, tuple)):
        return len(value) + sum(len(v) for v in value if isinstance(v, str))
    return 0


def _check_size(value):
    """Charge a value just built to the render's budget; too large a value or too much
    built in all is a runaway template."""
    weight = _weight(value)
    if weight > MAX_OUTPUT:
        raise TemplateLimitError("size")
    budget = _budget.get()
    if budget is not None and weight:
        budget.built += weight
        if budget.built > MAX_BUILT:
            raise TemplateLimitError("size")
    return value


def _check_width(n):
    if isinstance(n, int) and not isinstance(n, bool) and n > MAX_WIDTH:
        raise SecurityError(f"a width of {n} is too large")


_PRINTF_WIDTHS = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_printf(fmt):
    """``"%10000000d" % 1`` builds a huge string from a tiny template."""
    for m in _PRINTF_WIDTHS.finditer(fmt):
        for n in m.groups():
            if n == "*":
                raise SecurityError("a width given as * is not allowed")
            if n:
                _check_width(int(n))


def _check_format_spec(fmt):
    """``"{:>10000000}".format(1)``, and widths given as nested fields, refused."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # str.format reports the broken format itself
    for _literal, _name, spec, _conversion in fields:
        if spec and "{" in spec:
            raise SecurityError("a width given as a field is not allowed")
        for n in re.findall(r"\d+", spec or ""):
            _check_width(int(n))


def _check_call(obj, args):
    """Text methods that grow a string: refused when the result would be too large."""
    owner = getattr(obj, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(obj, "__name__", "")
    if name in ("center", "ljust", "rjust", "zfill", "expandtabs"):
        for a in args:
            _check_width(a)
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        count = owner.count(args[0]) if args[0] else len(owner) + 1
        if len(owner) + count * max(len(args[1]) - len(args[0]), 0) > MAX_OUTPUT:
            raise TemplateLimitError("size")
    elif name == "join" and args:
        _check_join(owner, args[0])


def _check_join(separator, items):
    if isinstance(items, (list, tuple)) and _weight(items) + len(separator) * len(items) > MAX_OUTPUT:
        raise TemplateLimitError("size")


def _guarded_filter(name, fn):
    """A filter that checks the clock, and its arguments when it can grow text."""
    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        _check_time()
        values = [a for a in args if not isinstance(a, (jinja2.runtime.Context, jinja2.nodes.EvalContext,
                                                        jinja2.Environment))]
        if name in ("center", "indent", "truncate", "wordwrap"):
            for a in list(values[1:]) + list(kwargs.values()):
                _check_width(a)
        elif name == "format" and values and isinstance(values[0], str):
            _check_printf(values[0])
        elif name == "join" and values:
            _check_join(values[1] if len(values) > 1 and isinstance(values[1], str) else "", values[0])
        elif name == "replace" and len(values) >= 3 and all(isinstance(v, str) for v in values[:3]):
            _check_call(values[0].replace, values[1:3])
        return _check_size(fn(*args, **kwargs))
    return guarded


def _steps(iterable):
    """What a ``{% for %}`` walks: the clock is checked at every step, so nested loops
    over ranges (which print nothing) still stop at the deadline."""
    for item in iterable:
        _check_time()
        yield item


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox (no private attributes, no changing lists or dicts),
    also refusing what would hang or fill the worker: huge powers, repetitions,
    widths and concatenations, and, with a render's deadline, any loop, call or
    attribute lookup past it."""
    intercepted_binops = frozenset(["**", "*", "+", "%"])

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        # Loops walk their items through _steps; ``a ~ b`` results are size-checked.
        for loop in tree.find_all(jinja2.nodes.For):
            loop.iter = jinja2.nodes.Filter(loop.iter, "_steps", [], [], None, None, lineno=loop.lineno)
        for concat in list(tree.find_all(jinja2.nodes.Concat)):
            concat.nodes = [jinja2.nodes.Filter(n, "_sized", [], [], None, None, lineno=concat.lineno)
                            for n in concat.nodes]
        return tree

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's signature
        _check_time()
        _check_call(__obj, args)
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj, attribute):
        _check_time()
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format_spec(value.__self__)
        return wrapped

    def call_binop(self, context, operator, left, right):
        _check_time()
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is too large")
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and \
                left.bit_length() * max(right, 0) > MAX_INT_BITS:
            raise SecurityError("the number is too large")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and \
                        max(len(seq), _weight(seq)) * n > MAX_REPEAT:
                    raise SecurityError("the repeated text or list is too long")
            if isinstance(left, int) and isinstance(right, int) and \
                    left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise SecurityError("the number is too large")
        if operator == "+" and _weight(left) + _weight(right) > MAX_OUTPUT:
            raise TemplateLimitError("size")
        if operator == "%" and isinstance(left, str):
            _check_printf(left)
        return _check_size(super().call_binop(context, operator, left, right))


@functools.lru_cache(maxsize=2)
def environment(autoescape=True):
    """The sandbox: HTML templates autoescape; plain-text ones (subjects) do not."""
    env = _Sandbox(autoescape=autoescape, undefined=_Undefined,
                   finalize=lambda value: "" if value is None else value)
    env.filters["jalali"] = lambda value: jalali(value)
    env.filters["safe_url"] = safe_url  # for href/src of values a template prints
    env.filters = {name: _guarded_filter(name, fn) for name, fn in env.filters.items()}
    env.filters["_steps"] = _steps
    env.filters["_sized"] = _check_size
    env.globals.pop("lipsum", None)  # random text of any length: nothing a real template needs
    return env


def check_syntax(source, field, label):
    """ValidationError naming the field and line when a template does not compile."""
    try:
        environment().parse(source or "")
    except jinja2.TemplateSyntaxError as e:
        raise ValidationError(_("%(field)s: line %(line)s: %(error)s") % {"field": _(label), "line": e.lineno,
                                                                       "error": e.message}, field=field)


def render(source, context, autoescape=True):
    """Render an admin template in the sandbox, within MAX_SECONDS and MAX_OUTPUT; any
    failure is a TemplateError with a readable message (never a traceback)."""
    token = _budget.set(_Budget(MAX_SECONDS))
    try:
        template = environment(autoescape).from_string(source or "")
        out, size = [], 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateLimitError("size")
            _check_time()
            out.append(chunk)
        return "".join(out)
    except TemplateLimitError as e:
        if e.kind == "time":
            raise TemplateError(_("The template took too long (more than %(seconds)s seconds)")
                                % {"seconds": MAX_SECONDS})
        raise TemplateError(_("The template's output is too large (more than %(size)s characters)")
                            % {"size": f"{MAX_OUTPUT:,}"})
    except MemoryError:
        raise TemplateError(_("The template's output is too large (more than %(size)s characters)")
                            % {"size": f"{MAX_OUTPUT:,}"})
    except SecurityError as e:
        raise TemplateError(_("The template tried something that is not allowed: %(error)s") % {"error": e})
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(_("The template has an error on line %(line)s: %(error)s")
                            % {"line": e.lineno, "error": e.message})
    except jinja2.UndefinedError as e:
        raise TemplateError(_("The template failed: %(error)s") % {"error": e})
    except RecursionError:
        raise TemplateError(_("The template failed: a macro calls itself without end"))
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as e:
        raise TemplateError(_("The template failed: %(error)s") % {"error": f"{type(e).__name__}: {e}"})
    finally:
        _budget.reset(token)


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
            "format": formatter(meta, prefs), "_": translation.gettext, "jalali": jalali,
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
                name = os.path.basename(unquote(parts.path))
                path = os.path.join(local.site_path, "public", "files", name)
                if name and os.path.isfile(path):
                    with open(path, "rb") as f:
                        return URLFetcherResponse(url, f.read(), {})
            raise ValueError(f"not loaded in a PDF: {url}")
    return SiteFetcher


def html_to_pdf(html):
    """PDF bytes of an HTML page (WeasyPrint; fonts from the system's fontconfig)."""
    import weasyprint
    return weasyprint.HTML(string=html, base_url=f"https://{local.site}/",
                           url_fetcher=_fetcher_class()()).write_pdf()
