"""Translations: the Persian and Hebrew catalogs live as .po files in
lowcode/locale/<lang>/LC_MESSAGES/django.po (and in any app's locale/); the .mo
files Django reads are compiled from them with Babel when missing or older, so no
binary build output is committed."""
import os

LOCALE_DIR = os.path.join(os.path.dirname(__file__), "locale")


def compile_catalogs(locale_dir=LOCALE_DIR):
    """Compile every stale .po under ``locale_dir``; returns the compiled paths."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    done = []
    if not os.path.isdir(locale_dir):
        return done
    for lang in sorted(os.listdir(locale_dir)):
        po = os.path.join(locale_dir, lang, "LC_MESSAGES", "django.po")
        mo = po[:-3] + ".mo"
        if not os.path.exists(po):
            continue
        if os.path.exists(mo) and os.path.getmtime(mo) >= os.path.getmtime(po):
            continue
        with open(po, "rb") as f:
            catalog = read_po(f, locale=lang)
        tmp = mo + ".tmp"
        with open(tmp, "wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        os.replace(tmp, mo)
        done.append(mo)
    return done


# -- the site's own translations (Frappe's Translation DocType) over the shipped catalog ---------

def _key(lang):
    return f"translations|{lang}"


def site_translations(lang):
    """{source text: translated text} of the site's Translation records in ``lang``,
    cached per site and language until a Translation changes (forget_translations)."""
    from .caches import cached_map
    return cached_map(_key(lang), lambda: _load(lang))


def _load(lang):
    from .context import local
    try:
        rows = local.db.sql("SELECT `source_text`, `translated_text` FROM `tabTranslation` WHERE `language`=%s "
                            "ORDER BY `modified`", (lang,))
    except Exception as e:  # noqa: BLE001 - a site installed before the DocType: nothing to layer
        if local.db.is_missing_table(e):
            return {}
        raise
    return {source: text for source, text in rows if source and text}  # the latest record wins


def forget_translations(*langs):
    from .caches import forget_map
    for lang in langs:
        if lang:
            forget_map(_key(lang))


def translate(text):
    """``text`` in the active language: the site's Translation record for it when there
    is one, else the shipped catalog (gettext). The one path of every string the desk
    shows, UI and data alike (status values, workspace and chart labels, field labels);
    stored values never change."""
    from django.utils import translation
    from .context import local
    text = str(text)
    lang = translation.get_language()
    if not (lang and local):  # (no site context: the catalog alone)
        return translation.gettext(text)
    # Memoised beside the site's map for the request: a list page asks for the same labels
    # and status values once per row (hundreds of calls), and gettext is the dear part. A
    # new map (a Translation saved, a rollback) starts a new memo.
    site_map = site_translations(lang)
    memo = local.cache.get(("translated", lang))
    if memo is None or memo[0] is not site_map:
        memo = local.cache[("translated", lang)] = (site_map, {})
    found = memo[1].get(text)
    if found is None:
        found = memo[1][text] = site_map.get(text) or translation.gettext(text)
    return found
