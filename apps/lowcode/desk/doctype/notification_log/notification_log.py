"""Notification Log: something a user should know about (a mention, an assignment, a
share, an alert). Each record is owned by the user it is for, so the DocType's
``if_owner`` rule shows every user their own notifications, and nobody else's, in
every read path (navbar, list, REST API)."""
from lowcode.context import local
from lowcode.document import Document


class NotificationLog(Document):
    def before_insert(self):
        self.owner = self.for_user

    def after_insert(self):
        # Frappe's event: the recipient's open desks update their bell after the commit.
        from lowcode.realtime import publish_realtime
        publish_realtime("notification", {"name": self.name, "type": self.type, "subject": self.subject,
                                          "document_type": self.document_type,
                                          "document_name": self.document_name}, user=self.for_user)


def delete_for_reference(doc, method=None):
    """doc_events["*"]["on_trash"]: the notifications about a deleted document go with it,
    as its ToDos do, so having been notified about a record never blocks deleting it (the
    engine refuses to delete a document a Dynamic Link still points at)."""
    if doc.doctype == "Notification Log" or doc.meta.istable or not local.db.table_exists("Notification Log"):
        return
    local.db.sql("DELETE FROM `tabNotification Log` WHERE `document_type`=%s AND `document_name`=%s",
                 (doc.doctype, doc.name))
