"""Property Setter: one changed property of a DocType or of one of its fields (label,
options, mandatory, hidden, field order...), kept apart from the app's definition."""
import json

from lowcode import meta as meta_module, schema
from lowcode.document import Document
from lowcode.exceptions import ValidationError

_DOCTYPE_PROPERTIES = {"title_field", "search_fields", "sort_field", "sort_order", "image_field",
                       "allow_rename", "track_changes", "autoname", "naming_rule", "description",
                       "quick_entry", "field_order", "editable_grid"}
_FIELD_PROPERTIES = {"label", "options", "reqd", "unique", "default", "in_list_view", "in_standard_filter",
                     "in_global_search", "search_index", "depends_on", "mandatory_depends_on",
                     "read_only_depends_on", "read_only", "hidden", "permlevel", "length", "precision",
                     "description", "bold", "collapsible", "allow_on_submit", "fetch_from", "fetch_if_empty",
                     "no_copy", "print_hide", "report_hide", "ignore_user_permissions", "non_negative",
                     "columns", "width", "fieldtype", "allow_in_quick_entry"}


class PropertySetter(Document):
    def validate(self):
        meta = meta_module.get_meta(self.doc_type)
        if self.doctype_or_field == "DocType":
            if self.property not in _DOCTYPE_PROPERTIES:
                raise ValidationError(f"property {self.property!r} of a DocType cannot be customised", field="property")
            self.field_name = None
        else:
            if self.property not in _FIELD_PROPERTIES:
                raise ValidationError(f"property {self.property!r} of a field cannot be customised", field="property")
            if not meta.has_field(self.field_name or ""):
                raise ValidationError(f"{self.doc_type} has no field {self.field_name!r}", field="field_name")
        definition = meta.as_dict()
        value = self.value
        if self.property == "field_order":
            try:
                order = json.loads(value or "[]")
            except ValueError:
                raise ValidationError("field_order must be a JSON list of fieldnames", field="value")
            if not isinstance(order, list) or set(order) - {f.get("fieldname") for f in definition["fields"]}:
                raise ValidationError("field_order names fields that do not exist", field="value")
        elif self.doctype_or_field == "DocType":
            definition[self.property] = value
        else:
            for f in definition["fields"]:
                if f.get("fieldname") == self.field_name:
                    f[self.property] = value
        meta_module.validate_definition(definition, meta_module.get_known_doctypes(),
                                        source=f"Property Setter {self.name or self.property}")

    def on_update(self):
        meta_module.clear_cache()
        schema.sync_table(meta_module.get_meta(self.doc_type))

    def on_trash(self):
        meta_module.clear_cache()
