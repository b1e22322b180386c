"""User avatars: the user's picture (User ``user_image``, Frappe's field) when there is
one, else their initials on a colour derived from the user's id (the same user always
gets the same colour). One query per request for all the users a page shows."""
import markupsafe

from .. import query
from ..context import local
from ..meta import get_meta
from ..permissions import role_access
from ..urls import safe_url

#: colours of initials avatars: desk.css .avatar-0 … .avatar-7
PALETTE = 8


def initials(text, length=2):
    """Frappe's get_abbr: the first letters of the first words, upper-cased
    ("Parisa Ahmadi" -> "PA", "sales.user@example.com" -> "SU", "پریسا احمدی" -> "پا")."""
    text = (text or "").split("@")[0] if " " not in (text or "").strip() else text
    words = [w for w in text.replace(".", " ").replace("_", " ").replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:length]).upper() or "?"


def colour(user):
    """The palette index of a user: the sum of the id's code points (stable across runs,
    unlike Python's salted hash())."""
    return sum(map(ord, user or "")) % PALETTE


def _users(users):
    """{user: {"full_name", "user_image"}} memoised for the request; users the current
    user may not read keep their id."""
    memo = local.cache.setdefault("_desk_avatars", {})
    missing = [u for u in dict.fromkeys(users) if u and u not in memo]
    if missing and role_access("User", "read") is not None:  # else initials of the ids, never a refused page
        fields = ["name", "full_name"] + (["user_image"] if get_meta("User").has_field("user_image") else [])
        for row in query.get_list("User", fields=fields, filters=[["name", "in", missing]], limit_page_length=0):
            memo[row["name"]] = row
    for u in missing:
        memo.setdefault(u, {})
    return memo


def avatar(user, size="sm"):
    """The avatar HTML of a user (``avatar`` in templates): a picture or initials, with
    the full name as its title."""
    if not user:
        return ""
    info = _users([user])[user]
    name = info.get("full_name") or user
    image = safe_url(info.get("user_image") or "")
    if image:
        return markupsafe.Markup('<img class="avatar avatar-{}" src="{}" alt="" title="{}">').format(size, image, name)
    # (the user's id, an e-mail address, is not printed: people are shown by name)
    return markupsafe.Markup('<span class="avatar avatar-{} avatar-{}" title="{}" aria-hidden="true">{}</span>').format(
        size, colour(user), name, initials(name))


def assignees(value):
    """The users of a row's ``_assign`` (Frappe's JSON list), or []."""
    import json
    try:
        users = json.loads(value or "[]")
    except ValueError:
        return []
    return [u for u in users if isinstance(u, str)] if isinstance(users, list) else []


def assigned(rows, limit=3):
    """{row name: avatars HTML of its first assignees} for list rows, the users read in
    one query."""
    per_row = {row["name"]: assignees(row.get("_assign")) for row in rows}
    _users([u for users in per_row.values() for u in users[:limit]])
    return {name: markupsafe.Markup("").join(avatar(u) for u in users[:limit]) for name, users in per_row.items() if users}
