"""Public campaign links (hooks: web_pages "campaign"), for guests, each carrying a token
signed in crm_app/campaigns.py:

- ``/campaign/unsubscribe/<token>``: GET shows a confirmation with a button and never
  writes; POST unsubscribes. The same POST is RFC 8058's one-click unsubscribe that mail
  providers send from the ``List-Unsubscribe`` header (no cookies, no form token: the
  signed token is the authority, and the worst a forged post can do is unsubscribe the
  token's own address).
- ``/campaign/open/<token>``: the 1x1 tracking pixel.
- ``/campaign/click/<token>``: redirects to the address signed in the token, never to one
  given in the request, so it is no open redirect.

Open and click are the one deliberate exception to "a GET never writes": a mail client
only ever GETs them. They write only the member's tracking fields (first time set once,
counters added), so a link fired from another site can do nothing but count.
A wrong or altered token is a 404 and writes nothing."""
import base64

from django.http import HttpResponse, HttpResponseRedirect
from django.utils import translation

from lowcode.context import local
from lowcode.urls import is_safe_url
from lowcode.web.pages import render_web, visitor_language

from crm_app import campaigns

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def view(request, path):
    kind, _, token = (path or "").partition("/")
    payload = campaigns.unsign(token)
    member = payload.get("m") if payload and payload.get("k") == kind else None
    if member and not local.db.exists("Campaign Member", member):
        member = None
    response = _answer(request, kind, member, payload) if member else _not_found(request)
    # The path is a capability: no cache keeps it, and Django's request log leaves it out.
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True
    return response


def _answer(request, kind, member, payload):
    if kind == "unsubscribe":
        return _unsubscribe(request, member)
    if request.method != "GET":
        return HttpResponse(status=405)
    if kind == "open":
        _tracking_write(campaigns.record_open, member)
        return HttpResponse(PIXEL, content_type="image/gif")
    if kind == "click":
        target = payload.get("u") or ""
        if not is_safe_url(target) or not target.lower().startswith(("http://", "https://")):
            return _not_found(request)
        _tracking_write(campaigns.record_click, member)
        return HttpResponseRedirect(target)
    return _not_found(request)


def _tracking_write(record, member):
    # The GET's read-only unit of work (which wrote nothing) ends, and the tracking
    # write gets one of its own (see the module docstring; lowcode.api.method.logout
    # does the same for logging out by GET).
    local.db.commit()
    local.db.set_read_only(False)
    local.db.begin()
    record(member)


def _unsubscribe(request, member):
    with translation.override(visitor_language(request)):
        _ = translation.gettext
        if request.method == "POST":
            campaigns.unsubscribe(member)
            return render_web(request, "crm_app/campaign_message_page.html", heading=_("You are unsubscribed"),
                              text=_("You will not receive these messages any more."), form=False)
        if request.method != "GET":
            return HttpResponse(status=405)
        address = local.db.get_value("Campaign Member", member, "email") or ""
        return render_web(request, "crm_app/campaign_message_page.html", heading=_("Unsubscribe"),
                          text=_("Stop sending campaign e-mails to {0}?").format(address), form=True)


def _not_found(request):
    with translation.override(visitor_language(request)):
        _ = translation.gettext
        return render_web(request, "crm_app/campaign_message_page.html", status=404,
                          heading=_("This link is not valid"),
                          text=_("Please use the link from your message as it was sent."), form=False)
