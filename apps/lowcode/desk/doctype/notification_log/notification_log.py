"""Notification Log: something a user should know about (a mention, an assignment, a
share, an alert). Each record is owned by the user it is for, so the DocType's
``if_owner`` rule shows every user their own notifications, and nobody else's, in
every read path (navbar, list, REST API)."""
from lowcode.document import Document


class NotificationLog(Document):
    def before_insert(self):
        self.owner = self.for_user
