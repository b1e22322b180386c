"""A Comment on a document's timeline. Users write plain comments ("Comment") on
documents they may read; every other type (Workflow, Assigned, Shared, Info, ...) is a
record the engine writes about what happened (``workflow.add_comment``, with
``ignore_permissions``), so a user can neither forge nor edit nor remove one."""
from lowcode.context import local
from lowcode.document import Document, check_reference
from lowcode.exceptions import PermissionError
from lowcode.permissions import role_access

USER_TYPE = "Comment"


class Comment(Document):
    def before_insert(self):
        if not self.flags.ignore_permissions:
            self.comment_email = local.user  # a comment is signed by who wrote it

    def validate(self):
        if self.flags.ignore_permissions:
            return
        before = self._doc_before_save
        if (self.comment_type or USER_TYPE) != USER_TYPE or (before is not None and before.comment_type != USER_TYPE):
            raise PermissionError(f"{self.comment_type or before.comment_type} comments are written by the system "
                                  "only", field="comment_type", doctype="Comment")
        if before is not None:
            self.comment_email = before.comment_email
        check_reference(self, "reference_doctype", "reference_name")

    def on_trash(self):
        # The timeline's record of what happened stays, unless an administrator of
        # Comments (not the if_owner rule every user has) removes it.
        if (self.comment_type or USER_TYPE) != USER_TYPE and not self.flags.ignore_permissions \
                and role_access("Comment", "delete") != "all":
            raise PermissionError(f"{self.comment_type} comments are removed by the system only",
                                  field="comment_type", doctype="Comment")
