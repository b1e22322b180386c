"""References to other documents: Link (options = target DocType) and Dynamic Link
(options = the field holding the target DocType). Each type checks that a value names
a document that exists (the document calls ``check_reference`` on save, unless told to
ignore links); the database comes from the context and the target's metadata from the
caller's ``get_meta`` (the fields package sits below meta, which builds on it)."""
from ..caches import memo_records
from ..context import local
from ..exceptions import DoesNotExistError, LinkValidationError
from .base import FieldType, register, registry


def link_target(df, row):
    """The DocType a field's value in ``row`` (a document or a dict) names: a Link's
    options, a Dynamic Link's other field; None for a field that links nowhere."""
    ftype = registry.get(df.get("fieldtype"))
    return ftype.target(df, row) if ftype is not None and ftype.link else None


def links_to(df):
    """The DocType every value of the field names (a Link's options), or None: not a
    link, or a Dynamic Link (whose target varies by record)."""
    ftype = registry.get(df.get("fieldtype"))
    return (df.get("options") or None) if ftype is not None and ftype.link and not ftype.options_field else None


@register
class Link(FieldType):
    name = "Link"
    link = True
    groupable = True
    control_template = "controls/link.html"
    read_only_template = "controls/read_only/link.html"
    grid_template = "controls/grid/link.html"
    filter_template = "controls/filter/link.html"

    def length(self, df):
        return 140

    def target(self, df, doc):
        """The DocType the value names."""
        return df.options

    def validate_definition(self, df, doctype, known_doctypes):
        options = df.get("options")
        if not options:
            raise ValueError("a Link field needs options (the target DocType)")
        if options not in known_doctypes and options != doctype.get("name"):
            raise ValueError(f"Link to missing DocType {options!r}")
        if known_doctypes.get(options):
            raise ValueError(f"Link to child table {options!r}")
        super().validate_definition(df, doctype, known_doctypes)

    def check_target(self, target, df, label, get_meta):
        """Refuse a target that cannot hold the referenced document."""

    def check_reference(self, value, df, doc, get_meta, prefix=""):
        """Raise LinkValidationError (417, naming the field) unless ``value`` names an
        existing document of the target DocType (``get_meta``: DocType name -> Meta)."""
        label = f"{prefix}{df.label or df.fieldname}"
        target = self.target(df, doc)
        if not target:
            raise LinkValidationError(f"{label}: no DocType chosen for the link", field=df.fieldname)
        self.check_target(target, df, label, get_meta)
        if value == doc.name and target == doc.doctype:
            return
        if get_meta(target).issingle:
            return
        if not _exists(target, value):
            raise LinkValidationError(f"{label}: could not find {target} {value!r}", field=df.fieldname)


def _exists(doctype, name):
    """Whether the linked record exists. A Data Import names the same owner, source or
    territory row after row: within one it is asked once (the memo forgets the DocType
    when any of its records is written, so a record deleted meanwhile is asked again)."""
    if not local.flags.in_import:
        return local.db.exists(doctype, name)
    return memo_records(doctype, ("exists", name), lambda: local.db.exists(doctype, name) or None) is not None


@register
class DynamicLink(Link):
    name = "Dynamic Link"
    control_template = "controls/dynamic_link.html"
    # the target DocType is another field's value: the plain displays, not Link's
    read_only_template = FieldType.read_only_template
    grid_template = FieldType.grid_template
    filter_template = FieldType.filter_template

    options_field = True
    #: the types of the field a Dynamic Link's options may name (it holds the DocType)
    doctype_holders = ("Link", "Select", "Data")

    def target(self, df, doc):
        return doc.get(df.options)

    def validate_definition(self, df, doctype, known_doctypes):
        options = df.get("options")
        holder = next((f for f in doctype.get("fields") or [] if f.get("fieldname") == options), None)
        if not holder or holder.get("fieldtype") not in self.doctype_holders:
            raise ValueError(f"a Dynamic Link needs options naming a Link field to DocType, got {options!r}")
        FieldType.validate_definition(self, df, doctype, known_doctypes)

    def check_target(self, target, df, label, get_meta):
        # The DocType comes from another field's value, so it must be checked here:
        # a real DocType whose documents stand on their own (not a child table's rows).
        try:
            meta = get_meta(target)
        except DoesNotExistError:
            raise LinkValidationError(f"{label}: DocType {target!r} does not exist", field=df.fieldname) from None
        if meta.istable:
            raise LinkValidationError(f"{label}: {target} is a child table; link to its parent document",
                                      field=df.fieldname)
