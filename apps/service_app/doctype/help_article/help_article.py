"""Help Article: a knowledge-base page in one language, moved Draft -> Review ->
Published (and back) by the Help Article Flow workflow: Support Agents write drafts and
send them for review, Support Managers publish and unpublish.

The controller keeps what nobody types: the author, the route (a slug of the title,
unique), the publication time, and the normalised search columns (see
lowcode.search_text) that knowledge-base search matches against. View and vote counts
change only by their own atomic UPDATEs (service_app.knowledge_base), never through a
save, so a client cannot set them and a save never overwrites a concurrent count."""
from django.utils.text import slugify

from lowcode.context import local
from lowcode.desk.views.collaboration import plain_text
from lowcode.document import Document
from lowcode.search_text import normalise
from lowcode.utils import now_datetime

ROUTE_PREFIX = "kb/article/"
COUNTS = ("views", "helpful", "not_helpful")


class HelpArticle(Document):
    def validate(self):
        before = self._doc_before_save
        for field in COUNTS:  # only knowledge_base's UPDATEs move them
            self.set(field, int(before.get(field) or 0) if before is not None else 0)
        if not self.author:
            self.author = local.user if local.user != "Guest" else None
        self.route = self._unique_route(self.route or self.title)
        if self.status == "Published" and (before is None or before.status != "Published"):
            self.published_on = now_datetime()
        self.search_title = normalise(self.title)
        self.search_text = normalise(f"{self.title}\n{plain_text(self.content)}")

    def _unique_route(self, wanted):
        """``kb/article/<slug>``: the slug keeps Persian and Hebrew letters; a taken one
        gets -2, -3, ..."""
        slug = slugify(str(wanted).removeprefix(ROUTE_PREFIX), allow_unicode=True)[:120] or "article"
        route, n = ROUTE_PREFIX + slug, 1
        while local.db.sql("SELECT `name` FROM `tabHelp Article` WHERE `route`=%s AND `name`!=%s",
                           (route, self.name or ""), pluck=True):
            n += 1
            route = f"{ROUTE_PREFIX}{slug}-{n}"
        return route
