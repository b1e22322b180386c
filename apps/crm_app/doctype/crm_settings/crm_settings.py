"""CRM Settings: the app's defaults and rules."""
import lowcode
from lowcode.document import Document

DUPLICATE_RULE = ("check_lead_duplicates", "duplicate_match_email", "duplicate_match_mobile",
                  "duplicate_match_organisation")


def get_settings():
    """The CRM Settings document, read once per request or job (every lead's save reads
    it); a save of the settings is seen at once (caches.memo_records). Read-only: save a
    copy from lowcode.get_doc to change them."""
    from lowcode.caches import memo_records
    return memo_records("CRM Settings", "doc", lambda: lowcode.get_doc("CRM Settings"))


class CRMSettings(Document):
    def on_update(self):
        before = self._doc_before_save
        if before is None or any(before.get(f) != self.get(f) for f in DUPLICATE_RULE):
            # Leads flagged under the old rule are flagged again under the new one.
            lowcode.enqueue("crm_app.doctype.lead.lead.recheck_duplicates", queue="long")
