"""References to other documents: Link (options = target DocType) and Dynamic Link
(options = the field holding the target DocType). Each type checks that a value names
a document that exists (the document calls ``check_reference`` on save, unless told to
ignore links); the database comes from the context."""
from ..exceptions import LinkValidationError
from .base import FieldType, register


@register
class Link(FieldType):
    name = "Link"
    link = True
    groupable = True
    control_template = "controls/link.html"

    def length(self, df):
        return 140

    def target(self, df, doc):
        """The DocType the value names."""
        return df.options

    def check_target(self, target, df, label):
        """Refuse a target that cannot hold the referenced document."""

    def check_reference(self, value, df, doc, prefix=""):
        """Raise LinkValidationError (417, naming the field) unless ``value`` names an
        existing document of the target DocType."""
        from ..context import local
        from ..meta import get_meta
        label = f"{prefix}{df.label or df.fieldname}"
        target = self.target(df, doc)
        if not target:
            raise LinkValidationError(f"{label}: no DocType chosen for the link", field=df.fieldname)
        self.check_target(target, df, label)
        if value == doc.name and target == doc.doctype:
            return
        if get_meta(target).issingle:
            return
        if not local.db.exists(target, value):
            raise LinkValidationError(f"{label}: could not find {target} {value!r}", field=df.fieldname)


@register
class DynamicLink(Link):
    name = "Dynamic Link"
    control_template = "controls/dynamic_link.html"

    def target(self, df, doc):
        return doc.get(df.options)

    def check_target(self, target, df, label):
        # The DocType comes from another field's value, so it must be checked here:
        # a real DocType whose documents stand on their own (not a child table's rows).
        from ..meta import doctype_exists, get_meta
        if not doctype_exists(target):
            raise LinkValidationError(f"{label}: DocType {target!r} does not exist", field=df.fieldname)
        if get_meta(target).istable:
            raise LinkValidationError(f"{label}: {target} is a child table; link to its parent document",
                                      field=df.fieldname)
