"""A ToDo: one assignment of a document to a user. The assignee gets the ToDo shared
with them (read and write) so they can see and close it; closing or cancelling it
takes them off the document's ``_assign`` list."""
from lowcode.assignments import remove_assignment
from lowcode.context import local
from lowcode.document import Document, check_reference, load_doc
from lowcode.exceptions import PermissionError
from lowcode.permissions import has_permission
from lowcode.workflow import add_comment

from ..public_share import share_with_user


class ToDo(Document):
    def before_insert(self):
        # Who assigned it is who created it: a user cannot pass a ToDo off as a colleague's.
        self.assigned_by = self.assigned_by if self.flags.ignore_permissions else local.user

    def validate(self):
        """A ToDo about a document needs read access to it. Closing or cancelling one
        takes its assignee off the document, which only they or an editor of the
        document may do; moving it (another assignee or document) likewise needs an
        editor, since it would leave the document's assignments behind."""
        check_reference(self, "reference_type", "reference_name")
        before = self._doc_before_save
        if before is None or self.flags.ignore_permissions:
            return
        self.assigned_by = before.assigned_by
        closes = before.status == "Open" and self.status in ("Closed", "Cancelled")
        moves = any(self.get(f) != before.get(f) for f in ("allocated_to", "reference_type", "reference_name"))
        if before.reference_type and before.reference_name and (moves or (closes and before.allocated_to != local.user)):
            if not has_permission(before.reference_type, "write", doc=load_doc(before.reference_type,
                                                                                before.reference_name)):
                raise PermissionError(f"Only {before.allocated_to} or someone who may edit {before.reference_type} "
                                      f"{before.reference_name} may close or move this assignment",
                                      field="status" if closes else "allocated_to", doctype="ToDo")

    def after_insert(self):
        if self.allocated_to and self.allocated_to != self.owner:
            share_with_user("ToDo", self.name, self.allocated_to, write=1)

    def on_update(self):
        before = self._doc_before_save
        if self.status in ("Closed", "Cancelled") and before is not None and before.status == "Open" \
                and self.reference_type and self.reference_name:
            remove_assignment(self.reference_type, self.reference_name, self.allocated_to)
            add_comment(self.reference_type, self.reference_name, "Assignment Completed",
                        f"{self.allocated_to}: {self.status}")


def delete_for_reference(doc, method=None):
    """doc_events["*"]["on_trash"]: a deleted document takes its ToDos (and their
    shares) with it, so its own assignments never block the delete (the engine refuses
    to delete a document a Dynamic Link still points at)."""
    if doc.doctype == "ToDo" or doc.meta.istable or not local.db.table_exists("ToDo"):
        return
    names = local.db.sql("SELECT `name` FROM `tabToDo` WHERE `reference_type`=%s AND `reference_name`=%s",
                         (doc.doctype, doc.name), pluck=True)
    for name in names:
        local.db.sql("DELETE FROM `tabDocShare` WHERE `share_doctype`='ToDo' AND `share_name`=%s", (name,))
        local.db.sql("DELETE FROM `tabToDo` WHERE `name`=%s", (name,))
