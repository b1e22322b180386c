"""A site's own translation of a desk string (Frappe's Translation): layered over the
shipped catalog by i18n.translate; the cached map of its language is forgotten on
every change so the next page shows it."""
from lowcode.document import Document


class Translation(Document):
    def validate(self):
        self.source_text = (self.source_text or "").strip()
        self.translated_text = (self.translated_text or "").strip()

    def on_change(self):
        self._forget()

    def after_delete(self):
        self._forget()

    def _forget(self):
        from lowcode.i18n import forget_translations
        before = getattr(self, "_doc_before_save", None)
        forget_translations(self.language, before.language if before else None)
