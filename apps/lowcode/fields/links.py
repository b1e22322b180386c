"""References to other documents: Link (options = target DocType) and Dynamic Link
(options = the field holding the target DocType). Existence is checked by the
document, which has the database at hand."""
from .base import FieldType, register


@register
class Link(FieldType):
    name = "Link"

    def length(self, df):
        return 140


@register
class DynamicLink(FieldType):
    name = "Dynamic Link"

    def length(self, df):
        return 140
