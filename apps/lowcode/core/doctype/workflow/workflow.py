"""Workflow: on save, the DocType gets its state field (a Custom Field, so the
app's definition stays untouched), the named states and actions exist, and only one
workflow per DocType is active."""
from lowcode import meta as meta_module
from lowcode.context import local
from lowcode.document import Document, get_doc
from lowcode.exceptions import ValidationError
from lowcode.fields import registry


class Workflow(Document):
    def validate(self):
        pairs = [(s.state, s.allow_edit) for s in self.states]
        if len(pairs) != len(set(pairs)):
            raise ValidationError("a state is listed twice for the same role", field="states")
        states = list(dict.fromkeys(s.state for s in self.states))
        for t in self.transitions:
            for key in ("state", "next_state"):
                if t.get(key) not in states:
                    raise ValidationError(f"transition row {t.idx}: {key} {t.get(key)!r} is not one of the states",
                                          field="transitions")
            if t.condition:
                from simpleeval import EvalWithCompoundTypes
                try:
                    EvalWithCompoundTypes().parse(t.condition)
                except SyntaxError as e:
                    raise ValidationError(f"transition row {t.idx}: condition is not a valid expression ({e.msg})",
                                          field="transitions")
        meta = meta_module.get_meta(self.document_type)
        for s in self.states:
            if s.update_field and not meta.has_field(s.update_field):
                raise ValidationError(f"state {s.state!r}: {self.document_type} has no field {s.update_field!r}",
                                      field="states")
            if int(s.doc_status or 0) and not meta.is_submittable:
                raise ValidationError(f"state {s.state!r}: {self.document_type} is not submittable", field="states")

    def before_validate(self):
        for s in self.states:
            _ensure("Workflow State", s.state, "workflow_state_name")
        for t in self.transitions:
            _ensure("Workflow Action Master", t.action, "workflow_action_name")
            _ensure("Workflow State", t.next_state, "workflow_state_name")
        for row in list(self.states) + list(self.transitions):
            for key in ("allow_edit", "allowed"):
                if row.get(key):
                    _ensure("Role", row.get(key), "role_name")

    def on_update(self):
        if int(self.is_active or 0):
            local.db.sql("UPDATE `tabWorkflow` SET `is_active`=0 WHERE `document_type`=%s AND `name`!=%s",
                         (self.document_type, self.name))
            self._ensure_state_field()
        meta_module.clear_cache()  # workflow.py forgets the active workflows (metadata_changed)

    def on_trash(self):
        meta_module.clear_cache()

    def _ensure_state_field(self):
        meta = meta_module.get_meta(self.document_type)
        field = self.workflow_state_field or "workflow_state"
        if meta.has_field(field):
            if registry[meta.get_field(field).fieldtype].option_list:
                # A Select must hold every state, or the first transition fails on the record's
                # save: its options are extended through a Property Setter (customisation's way;
                # Frappe's Workflow only adds the Link field and leaves a Select as it is).
                from lowcode.customize import extend_select_options
                extend_select_options(self.document_type, field, [s.state for s in self.states])
            return
        cf = get_doc({"doctype": "Custom Field", "dt": self.document_type, "fieldname": field,
                      "label": "Workflow State", "fieldtype": "Link", "options": "Workflow State",
                      "read_only": 1, "in_standard_filter": 1, "in_list_view": 1, "allow_on_submit": 1,
                      "no_copy": 1})
        cf.flags.keep_fieldname = True
        cf.insert(ignore_permissions=True)


def _ensure(doctype, name, field):
    if name and not local.db.exists(doctype, name):
        get_doc({"doctype": doctype, field: name}).insert(ignore_permissions=True)
