"""/app/help: the user guide (desk/guide.py) in the user's language, its contents and
one page at a time; every desk page's Help link opens the section about that page."""
from ...exceptions import DoesNotExistError
from .. import guide
from ..render import prefs, render
from .common import desk_view


@desk_view
def contents(request):
    return render("help.html", pages=guide.pages(prefs().lang), page=None)


@desk_view
def help_page(request, slug):
    lang = prefs().lang
    page = guide.page(slug, lang)
    if page is None:
        raise DoesNotExistError(f"No guide page {slug!r}")
    return render("help.html", pages=guide.pages(lang), page=page)
