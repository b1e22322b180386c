"""Select: one value out of the newline-separated ``options``."""
from .base import FieldType, register


def select_options(df):
    return [o.strip() for o in (df.get("options") or "").split("\n")]


@register
class Select(FieldType):
    name = "Select"
    groupable = True
    option_list = True
    control_template = "controls/select.html"
    grid_template = "controls/grid/select.html"
    filter_template = "controls/filter/select.html"

    def validate(self, value, df):
        super().validate(value, df)
        if value and value not in select_options(df):
            allowed = ", ".join(repr(o) for o in select_options(df) if o)
            raise self.error(df, f"{value!r} is not one of the options ({allowed})")

    def validate_definition(self, df, doctype, known_doctypes):
        default = df.get("default")
        if default and default not in select_options(df):
            raise ValueError(f"default {default!r} is not one of the options")

    def default(self, df):
        # Frappe starts a mandatory Select at its first option when no default is set.
        if df.get("default") in (None, "") and df.get("reqd"):
            first = next((o for o in select_options(df) if o), None)
            return first
        return super().default(df)
