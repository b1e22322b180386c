"""Announcement: news, events, new products and procedures for the roles it targets
(crm_app/announcements.py)."""
from lowcode.context import local
from lowcode.document import Document


class Announcement(Document):
    def on_trash(self):
        # Its read receipts go with it (they mean nothing without it).
        local.db.sql("DELETE FROM `tabAnnouncement Read` WHERE `announcement`=%s", (self.name,))
