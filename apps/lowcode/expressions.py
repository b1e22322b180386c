"""Safe expressions for ``depends_on``, ``mandatory_depends_on``,
``read_only_depends_on`` and workflow conditions. Evaluated with simpleeval: names,
comparisons, arithmetic and a few functions; no attribute access beyond the
document's fields, no imports, no calls to anything but the whitelisted functions.
The desk evaluates the same expressions in the browser with the same grammar.
"""
import functools
import threading

from simpleeval import EvalWithCompoundTypes, InvalidExpression

from .exceptions import ValidationError


class DocView:
    """Read-only view of a document for expressions: ``doc.status``, ``doc.items``."""
    __slots__ = ("_doc",)

    def __init__(self, doc):
        self._doc = doc

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        value = self._doc.get(name) if hasattr(self._doc, "get") else None
        if isinstance(value, list):
            return [DocView(v) for v in value]
        return value

    def __getitem__(self, name):
        return self.__getattr__(name)


_FUNCTIONS = {"len": len, "int": int, "float": float, "str": str, "bool": bool, "abs": abs,
              "min": min, "max": max, "round": round, "any": any, "all": all}


@functools.lru_cache(maxsize=2048)
def _parsed(expression):
    """The syntax tree of an expression: read once, shared by every thread (nothing
    changes a tree while evaluating it)."""
    return EvalWithCompoundTypes.parse(expression)


_per_thread = threading.local()


def _evaluator():
    """This thread's evaluator. An evaluator holds the names of the call in progress
    (``doc`` ...), so one shared by two threads answered for the other's document;
    one per thread is as fast and never mixes them up."""
    evaluator = getattr(_per_thread, "evaluator", None)
    if evaluator is None:
        evaluator = _per_thread.evaluator = EvalWithCompoundTypes(functions=_FUNCTIONS)
    return evaluator


def evaluate(expression, doc, extra=None):
    """``eval:doc.status=='Open'`` or a bare fieldname (true when the field is set)."""
    expression = (expression or "").strip()
    if not expression:
        return True
    if not expression.startswith("eval:"):
        value = doc.get(expression) if hasattr(doc, "get") else None
        return bool(value) and value != "0"
    body = expression[5:].strip().replace("&&", " and ").replace("||", " or ")
    body = body.replace("===", "==").replace("!==", "!=")
    try:
        tree = _parsed(body)
        evaluator = _evaluator()
        evaluator.names = {"doc": DocView(doc), "true": True, "false": False, "null": None,
                           "None": None, "True": True, "False": False, **(extra or {})}
        return bool(evaluator.eval(body, previously_parsed=tree))
    except (InvalidExpression, SyntaxError, TypeError, ValueError, AttributeError, KeyError) as e:
        raise ValidationError(f"cannot evaluate {expression!r}: {e}")
