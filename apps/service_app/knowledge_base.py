"""The knowledge base's reads and counters: search (Persian-aware, see
lowcode.search_text), suggestions while someone types a case subject, view counts and
"was this helpful?" votes. The public pages (service_app/kb_pages.py) and the desk's
suggestions both come here.

Guests reach only Published articles: every public read here says so in its SQL."""
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

import lowcode
from lowcode.caches import cache
from lowcode.context import local
from lowcode.desk.views.collaboration import plain_text
from lowcode.exceptions import BadRequest, DuplicateEntryError, TooManyRequestsError
from lowcode.search_text import like_contains, normalise, words
from lowcode.web.pages import LANGUAGES

from .doctype.help_article.help_article import ROUTE_PREFIX  # noqa: F401 - the pages use it from here

MAX_QUERY = 200           # characters of a search or suggestion query
SUGGESTIONS = 5
VIEW_WINDOW = 3600        # a visitor's views of one article count once an hour
VOTES_PER_ADDRESS = 20    # votes from one address ...
VOTE_WINDOW = 600         # ... per ten minutes


def check_language(language, field="lang"):
    """A language code, "" for any; anything else is a 400 naming the parameter."""
    language = (language or "").strip()
    if language not in LANGUAGES + ("",):
        raise BadRequest(_("{0} must be one of en, fa, he").format(field), field=field)
    return language


def check_query(text, field="text"):
    if text is not None and not isinstance(text, str):
        raise BadRequest(_("{0} must be text").format(field), field=field)
    if len(text or "") > MAX_QUERY:
        raise BadRequest(_("{0} is too long: at most {1} characters").format(field, MAX_QUERY), field=field)
    return text or ""


def search(text, language="", limit=20, start=0):
    """Published articles whose title or body holds every word of ``text`` (normalised
    on both sides), title hits first (the whole phrase, then by how many words the title
    holds), then the most read. Rows: name, title, route, language, category, content,
    status, published_on, views."""
    terms = words(text)
    if not terms:
        return []
    phrase = normalise(text)
    where, values = ["`status`='Published'"], []
    for term in terms:
        where.append("`search_text` LIKE %s ESCAPE '!'")
        values.append(like_contains(term))
    if language:
        where.append("`language`=%s")
        values.append(language)
    # Title hits rank first: the phrase as typed, then each word the title holds.
    score = " + ".join(["(CASE WHEN `search_title` LIKE %s ESCAPE '!' THEN 1 ELSE 0 END)"] * len(terms))
    score_values = [like_contains(t) for t in terms]
    sql = (f"SELECT `name`, `title`, `route`, `language`, `category`, `content`, `status`, `published_on`, `views`, "
           f"(CASE WHEN `search_title` LIKE %s ESCAPE '!' THEN {len(terms) + 1} ELSE 0 END) + {score} AS `score` "
           f"FROM `tabHelp Article` WHERE {' AND '.join(where)} "
           f"ORDER BY `score` DESC, `views` DESC, `published_on` DESC, `name` LIMIT %s OFFSET %s")
    return local.db.sql(sql, [like_contains(phrase)] + score_values + values + [int(limit), int(start)],
                        as_dict=True)


def excerpt(content, length=160):
    text = " ".join(plain_text(content).split())
    return text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + "…"


def article_url(route):
    from urllib.parse import quote
    return "/" + quote(route or "")


@lowcode.whitelist(allow_guest=True, methods=["GET", "POST"])
def suggest(text: str = "", lang: str = ""):
    """Published articles matching what someone is typing (a case subject): at most
    five, as {title, route, url, excerpt}; for guests and desk users alike, since the
    suggestion is something to show a customer. ``lang`` narrows them to one language."""
    text = check_query(text, "text")
    lang = check_language(lang, "lang")
    if len(" ".join(words(text))) < 2:
        return []
    return [{"title": r["title"], "route": r["route"], "url": article_url(r["route"]),
             "excerpt": excerpt(r["content"])}
            for r in search(text, language=lang, limit=SUGGESTIONS)]


def published_article(route):
    """The Published article at ``route`` as a dict, or None."""
    rows = local.db.sql("SELECT `name`, `title`, `route`, `language`, `category`, `content`, `author`, "
                        "`published_on`, `modified`, `views`, `helpful`, `not_helpful` FROM `tabHelp Article` "
                        "WHERE `route`=%s AND `status`='Published'", (route,), as_dict=True)
    return rows[0] if rows else None


# -- counters: atomic UPDATEs of the stored row, so concurrent views never lose one and no
# save (with its version entry and stale-write check) is spent on them ------------------------

def count_view(article, visitor):
    """Count a view of a Published article, once per visitor an hour (a reload or
    a bot replaying the beacon does not inflate it). True when counted."""
    key = f"kb-view:{article}:{visitor}"
    if cache().incr(key, ttl=VIEW_WINDOW) > 1:
        return False
    local.db.sql("UPDATE `tabHelp Article` SET `views`=COALESCE(`views`, 0)+1 "
                 "WHERE `name`=%s AND `status`='Published'", (article,))
    return True


def _digest(text):
    """A keyed digest (the server's secret key): who voted cannot be found by hashing
    user names."""
    return salted_hmac("service_app.kb-vote", text, algorithm="sha256").hexdigest()[:32]


def vote_name(article, visitor):
    """The vote's name: a digest of the article and the visitor, so the primary key
    itself refuses a second vote (also between two simultaneous requests)."""
    return _digest(f"{article}\n{visitor}")


def has_voted(article, visitor):
    return bool(local.db.sql("SELECT 1 FROM `tabHelp Article Vote` WHERE `name`=%s",
                             (vote_name(article, visitor),)))


def vote(article, visitor, helpful, address=None):
    """Record one "was this helpful?" answer of a visitor on a Published article and
    count it. A second vote is a DuplicateEntryError (409); more than
    VOTES_PER_ADDRESS votes from one address in VOTE_WINDOW a TooManyRequestsError."""
    if address and cache().incr(f"kb-vote:{address}", ttl=VOTE_WINDOW) > VOTES_PER_ADDRESS:
        raise TooManyRequestsError(_("Too many votes from your address: try again in a few minutes"))
    if has_voted(article, visitor):
        raise DuplicateEntryError(_("You have already rated this article"), field="helpful")
    lowcode.get_doc({"doctype": "Help Article Vote", "name": vote_name(article, visitor), "article": article,
                     "helpful": 1 if helpful else 0,
                     "visitor": _digest(visitor)}).insert(ignore_permissions=True)
    column = "`helpful`" if helpful else "`not_helpful`"
    local.db.sql(f"UPDATE `tabHelp Article` SET {column}=COALESCE({column}, 0)+1 "
                 "WHERE `name`=%s AND `status`='Published'", (article,))
