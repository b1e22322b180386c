"""The DocType controller: a DocType saved here (from an app's JSON on migrate, or
from the browser or REST API at runtime) is checked, then its table is synced."""
import time

from lowcode import meta as meta_module, schema
from lowcode.context import local
from lowcode.document import Document
from lowcode.exceptions import PermissionError, ValidationError


class DocType(Document):
    def definition(self):
        d = self.as_dict()
        d["fields"] = [{k: v for k, v in f.items() if v is not None} for f in d["fields"]]
        d["permissions"] = [{k: v for k, v in p.items() if v is not None} for p in d["permissions"]]
        return d

    def before_validate(self):
        if not self.module:
            self.module = "Custom"
        if not local.db.exists("Module Def", self.module):
            from lowcode.document import get_doc
            get_doc({"doctype": "Module Def", "module_name": self.module,
                     "app_name": self.app or "lowcode"}).insert(ignore_permissions=True)

    def validate(self):
        if not local.flags.in_install and not local.flags.in_migrate:
            # DocTypes made at runtime are the site's own; app DocTypes change only through
            # their files, so a migrate never silently undoes an edit made here.
            if not self.is_new() and not int(self.custom or 0):
                raise ValidationError(f"{self.name} belongs to app {self.app or 'lowcode'}: customise it with "
                                      "Custom Fields and Property Setters instead", field="custom")
            self.custom = 1
            self.app = None
        known = meta_module.get_known_doctypes()
        known.update(local.flags.get("doctypes_in_batch") or {})
        known[self.name] = bool(int(self.istable or 0))
        meta_module.validate_definition(self.definition(), known, source=self.flags.source)

    def on_update(self):
        meta_module.clear_cache()
        schema.sync_table(meta_module.Meta(self.definition_with_customisations()))

    def definition_with_customisations(self):
        return meta_module.load_meta(self.name).definition if local.db.exists("DocType", self.name) \
            else self.definition()

    def on_trash(self):
        if not int(self.custom or 0) and not local.flags.in_uninstall:
            raise PermissionError(f"{self.name} belongs to app {self.app}: uninstall the app to remove it")

    def after_delete(self):
        db = local.db
        db.sql("DELETE FROM `tabCustom Field` WHERE `dt`=%s", (self.name,))
        db.sql("DELETE FROM `tabProperty Setter` WHERE `doc_type`=%s", (self.name,))
        db.sql("DELETE FROM `tabCustom DocPerm` WHERE `parent`=%s", (self.name,))
        if db.table_exists(self.name) and local.flags.in_uninstall:
            # Frappe's uninstall-app drops the app's tables (the CLI takes a backup first).
            db.sql(f"DROP TABLE `tab{self.name}`")
        elif db.table_exists(self.name):
            # Keep the data: the table is renamed aside, never dropped here. Its indexes go:
            # SQLite's index names are global and would stop a DocType of this name later.
            for index in db.get_indexes(self.name):
                if not index.startswith("sqlite_autoindex_"):  # the primary key's, renamed with the table
                    db.drop_index(self.name, index)
            backup = f"_deleted_{time.time_ns() // 1000}_{self.name}"[:60]  # microseconds: two deletes in a second
            db.sql(f"ALTER TABLE `tab{self.name}` RENAME TO `{backup}`")
        meta_module.clear_cache()
