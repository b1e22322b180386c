"""Jinja's sandbox for admin-written templates (print formats, e-mail templates),
with resource limits: no private attributes, no changing lists or dicts (Jinja's
immutable sandbox), and nothing that would hang or fill the worker.

A render runs inside ``limits()``: a wall-clock deadline checked at every loop step,
call, attribute lookup and filter, and a budget of characters built. Growth is
refused before it happens where Python would build first and check after: widths
(``center``, ``ljust``, ``"%10000d"``, ``"{:>10000}"``), repetition, concatenation,
``replace`` and ``join``, and huge integers. A breach raises LimitExceeded (time or
size) or Jinja's SecurityError; lowcode.printing turns either into a clear 417.
"""
import contextlib
import contextvars
import functools
import re
import string
import time

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

# What one render may take and build: more is a runaway template (nested loops,
# ``center(10**8)``, doubling a string), stopped before it hangs or fills the worker.
MAX_EXPONENT = 100
MAX_REPEAT = 100_000
MAX_SECONDS = 5           # wall clock, checked at every loop step, call and chunk of output
MAX_OUTPUT = 2_000_000    # characters of output, and of any one value built on the way
MAX_WIDTH = 10_000        # a padding or field width (center, ljust, "%10000d", "{:>10000}")
MAX_INT_BITS = 100_000    # an integer built by * or ** (about 30,000 digits)
MAX_BUILT = 20_000_000    # characters built by a render's calls, filters and operators, in all


class Undefined(jinja2.Undefined):
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


class LimitExceeded(Exception):
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


def check_time():
    budget = _budget.get()
    if budget is not None and time.monotonic() > budget.deadline:
        raise LimitExceeded("time")


def _weight(value):
    """Characters a value holds: its length for text, its items' for a list."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (list, tuple)):
        return len(value) + sum(len(v) for v in value if isinstance(v, str))
    return 0


def check_size(value):
    """Charge a value just built to the render's budget; too large a value or too much
    built in all is a runaway template."""
    weight = _weight(value)
    if weight > MAX_OUTPUT:
        raise LimitExceeded("size")
    budget = _budget.get()
    if budget is not None and weight:
        budget.built += weight
        if budget.built > MAX_BUILT:
            raise LimitExceeded("size")
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
            raise LimitExceeded("size")
    elif name == "join" and args:
        _check_join(owner, args[0])


def _check_join(separator, items):
    if isinstance(items, (list, tuple)) and _weight(items) + len(separator) * len(items) > MAX_OUTPUT:
        raise LimitExceeded("size")


def _guarded_filter(name, fn):
    """A filter that checks the clock, and its arguments when it can grow text."""
    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        check_time()
        values = [a for a in args if not isinstance(a, (jinja2.runtime.Context, jinja2.nodes.EvalContext,
                                                        jinja2.Environment))]
        if name in ("center", "indent"):
            for a in list(values[1:]) + list(kwargs.values()):
                _check_width(a)
        elif name == "format" and values and isinstance(values[0], str):
            _check_printf(values[0])
        elif name == "join" and values:
            _check_join(values[1] if len(values) > 1 and isinstance(values[1], str) else "", values[0])
        elif name == "replace" and len(values) >= 3 and all(isinstance(v, str) for v in values[:3]):
            _check_call(values[0].replace, values[1:3])
        return check_size(fn(*args, **kwargs))
    return guarded


def _steps(iterable):
    """What a ``{% for %}`` walks: the clock is checked at every step, so nested loops
    over ranges (which print nothing) still stop at the deadline."""
    for item in iterable:
        check_time()
        yield item


class Sandbox(ImmutableSandboxedEnvironment):
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
        check_time()
        _check_call(__obj, args)
        return check_size(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj, attribute):
        check_time()
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format_spec(value.__self__)
        return wrapped

    def call_binop(self, context, operator, left, right):
        check_time()
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
            raise LimitExceeded("size")
        if operator == "%" and isinstance(left, str):
            _check_printf(left)
        return check_size(super().call_binop(context, operator, left, right))


@contextlib.contextmanager
def limits():
    """Run one render within MAX_SECONDS and MAX_BUILT."""
    token = _budget.set(_Budget(MAX_SECONDS))
    try:
        yield
    finally:
        _budget.reset(token)


def make_environment(autoescape, filters):
    """A sandbox environment with ``filters`` added, every filter guarded."""
    env = Sandbox(autoescape=autoescape, undefined=Undefined, finalize=lambda value: "" if value is None else value)
    env.filters.update(filters)
    env.filters = {name: _guarded_filter(name, fn) for name, fn in env.filters.items()}
    env.filters["_steps"] = _steps
    env.filters["_sized"] = check_size
    env.globals.pop("lipsum", None)  # random text of any length: nothing a real template needs
    return env
