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
