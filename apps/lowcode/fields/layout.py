"""Layout types: they shape the form and store nothing."""
from .base import FieldType, register


class Layout(FieldType):
    column = None
    operators = frozenset()
    layout = True

    def coerce(self, value, df):
        return None


@register
class SectionBreak(Layout):
    name = "Section Break"
    starts = "section"


@register
class ColumnBreak(Layout):
    name = "Column Break"
    starts = "column"


@register
class TabBreak(Layout):
    name = "Tab Break"
    starts = "tab"


@register
class HTML(Layout):
    """Static HTML shown on the form (``options``), sanitised when rendered."""
    name = "HTML"
