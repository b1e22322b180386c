"""Custom Field: a field an admin adds to any DocType; stored apart from the DocType
so app upgrades keep it, and given a real column at once."""
from lowcode import meta as meta_module, schema
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import ValidationError


class CustomField(Document):
    def autoname(self):
        # The name ("{dt}-{fieldname}", from the JSON's autoname) is made before
        # before_validate runs, so a field given only a label needs its fieldname now:
        # otherwise every such field of a DocType is named "{dt}-" and the second clashes.
        self._set_fieldname()

    def before_validate(self):
        self._set_fieldname()

    def _set_fieldname(self):
        if not self.fieldname and self.label:
            from lowcode.utils import scrub
            self.fieldname = scrub(self.label)[:64]
        if self.fieldname and not self.fieldname.startswith(("custom_",)) and not local.flags.in_migrate \
                and not local.flags.in_install and self.is_new() and not self.flags.keep_fieldname:
            # As Frappe does: custom fieldnames never collide with fields an app adds later.
            self.fieldname = "custom_" + self.fieldname

    def validate(self):
        if not self.is_new():
            before = self._doc_before_save
            if before and (before.fieldname != self.fieldname or before.dt != self.dt):
                raise ValidationError("the fieldname and DocType of a custom field cannot change", field="fieldname")
        target = meta_module.get_meta(self.dt)
        definition = target.as_dict()
        fields = [f for f in definition["fields"] if f.get("fieldname") != self.fieldname or not f.get("is_custom_field")]
        if any(f.get("fieldname") == self.fieldname for f in fields):
            raise ValidationError(f"{self.dt} already has a field {self.fieldname!r}", field="fieldname")
        if self.insert_after and not any(f.get("fieldname") == self.insert_after for f in fields):
            raise ValidationError(f"insert_after: {self.dt} has no field {self.insert_after!r}", field="insert_after")
        mine = {k: v for k, v in self.as_dict().items() if k not in ("doctype", "name", "owner", "creation",
                "modified", "modified_by", "docstatus", "idx", "dt", "insert_after") and v not in (None, "")}
        definition["fields"] = fields + [mine]
        meta_module.validate_definition(definition, meta_module.get_known_doctypes(),
                                        source=f"Custom Field {self.dt}.{self.fieldname}")
        # The column before the record: on MariaDB an ALTER commits the transaction it
        # runs in, so a record written first would stay even if the ALTER then failed (a
        # busy table, see MariaDBDatabase.alter_table), and every read of the DocType
        # would ask for a column that is not there. A column without its record is harmless.
        schema.sync_table(meta_module.Meta(definition))

    def on_update(self):
        meta_module.clear_cache()
        # validate made the column already, unless a Data Import skipped the validate hooks
        schema.sync_table(meta_module.get_meta(self.dt))

    def on_trash(self):
        meta_module.clear_cache()
