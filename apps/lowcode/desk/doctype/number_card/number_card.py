"""A number on a workspace: a count, sum, average, minimum or maximum over the
documents of one DocType that match the card's filters. The value is computed for
the person looking at it, through the permission-checked query layer: they see the
figure over the rows they may read, and no card at all without read access."""
from lowcode import params, query
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.fields import types_where
from lowcode.meta import get_meta

FUNCTIONS = {"Count": "count", "Sum": "sum", "Average": "avg", "Minimum": "min", "Maximum": "max"}


def parse_filters_json(text, fieldname="filters_json"):
    """A card's or chart's filters: a JSON list in Frappe's form. Frappe saves them as
    ``[doctype, field, op, value, false]``; the trailing flag (hidden in the UI) means
    nothing to a query, so it is dropped."""
    if not text:
        return []
    value = params.loads(text, fieldname, error=ValidationError) if isinstance(text, str) else text
    if isinstance(value, dict):
        return value
    if not isinstance(value, list):
        raise ValidationError("Filters: must be a JSON list of [field, operator, value]", field=fieldname)
    out = []
    for f in value:
        if isinstance(f, list) and len(f) == 5 and isinstance(f[4], bool):
            f = f[:4]
        out.append(f)
    return out


def check_filters(text, doctype):
    """A card's or chart's filters must name fields and operators of ``doctype``: refused
    on save (naming the bad field or operator), not when the card is first shown."""
    from lowcode.exceptions import InvalidFieldError
    try:
        return query.check_filters(parse_filters_json(text), doctype)
    except InvalidFieldError as e:
        raise ValidationError(f"Filters: {e.message}", field="filters_json")


def check_field(meta, fieldname, types, what, field):
    """The fieldname an admin typed must be a field of ``types`` on the DocType."""
    if fieldname in ("creation", "modified") and query.STANDARD_TYPES[fieldname] in types:
        return
    df = meta.get_field(fieldname or "")
    if df is None or df.fieldtype not in types:
        raise ValidationError(f"{what}: {meta.name} has no {' / '.join(sorted(types))} field {fieldname!r}", field=field)


class NumberCard(Document):
    def validate(self):
        meta = get_meta(self.document_type)
        if meta.istable or meta.issingle:
            raise ValidationError(f"{self.document_type} cannot be counted: choose a DocType with a list",
                                  field="document_type")
        if self.function != "Count":
            check_field(meta, self.aggregate_function_based_on, types_where("numeric"), "Aggregate Function Based On",
                        "aggregate_function_based_on")
        check_filters(self.filters_json, self.document_type)

    def get_value(self, user=None):
        """The card's figure for ``user`` (the current user by default). Raises
        PermissionError when they may not read the DocType."""
        fn = FUNCTIONS.get(self.function or "Count", "count")
        target = "*" if fn == "count" else self.aggregate_function_based_on
        rows = query.get_list(self.document_type, fields=[f"{fn}({target}) as value"],
                              filters=parse_filters_json(self.filters_json), limit_page_length=0, user=user)
        value = rows[0]["value"] if rows else None
        return 0 if value is None and fn in ("count", "sum") else value
