"""Text for matching: one normal form for stored search columns and for what people
type, so Persian, Arabic and Hebrew spellings of the same word meet, and LIKE patterns
built from user text that match it literally on SQLite and MariaDB alike.

Written by hand (a few Unicode rules): the Persian normaliser packages pull in
tokenisers and models for this small job. The rules:
- NFKC (Arabic presentation forms and full-width Latin to their plain letters);
- Arabic yeh and alef maksura (ي ى) to Persian yeh (ی), Arabic kaf (ك) to Persian keheh (ک);
- zero-width and direction marks (ZWNJ U+200C, ZWJ, LRM/RLM, BOM, soft hyphen: category
  Cf), combining marks (Arabic harakat, Hebrew niqqud: category Mn) and tatweel removed;
- every decimal digit (Persian, Arabic-Indic, ...) to ASCII; Latin case-folded;
- runs of white space to one space."""
import re
import unicodedata

_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u0640": None})
_SPACES = re.compile(r"\s+")
LIKE_ESCAPE = "!"  # the SQL says ESCAPE '!': no backslash, whose meaning differs between engines


def _char(c):
    category = unicodedata.category(c)
    if category in ("Cf", "Mn"):
        return ""
    if category == "Nd":
        return str(unicodedata.decimal(c))
    return c


def normalise(text):
    """The matching form of ``text`` (None and "" give "")."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).translate(_LETTERS)
    text = "".join(_char(c) for c in text).casefold()
    return _SPACES.sub(" ", text).strip()


def words(text, most=8):
    """The distinct normalised words of a query, at most ``most`` of them, longest first
    (they narrow the search most)."""
    seen = dict.fromkeys(normalise(text).split(" "))
    return sorted((w for w in seen if w), key=len, reverse=True)[:most]


def like_contains(text):
    """A LIKE pattern matching values that contain ``text`` literally: its % and _ (and
    the escape character) escaped. Use with ``LIKE %s ESCAPE '!'``."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"
