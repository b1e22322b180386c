"""The public survey page (hooks: web_pages "survey"), outside the desk, no login:

- ``/survey/<token>``: the link sent to the customer; the token is looked up by its hash.
- ``/survey/invitation/<name>``: the same survey opened from the portal by the signed-in
  contact it was sent to (see surveys.pending_for_customer).

GET shows the questions in the visitor's language (``?lang=``, else the case's language,
else the browser's), right-to-left in Persian and Hebrew; POST stores the answers once.
An unknown, expired or superseded link gets the same friendly 404 whatever the reason,
and every such miss counts against the visitor's address: after MAX_MISSES in
MISS_SECONDS the address gets 429 for every link, valid or not, so guessing tokens
tells nothing. A second answer gets a polite 409 and writes nothing.

Guests have no session, so the form carries its own CSRF defence, as the login page
does: a double-submit token. A random nonce lives in an HttpOnly, SameSite=Strict
cookie; the form holds HMAC(nonce, invitation), so a form posted from another site,
or for another invitation, is refused. Signed-in visitors' posts also pass the
middleware's session CSRF check (the form carries ``csrf_token``)."""
import hashlib
import hmac
import secrets

from django.utils import translation
from django.utils.translation import gettext

import lowcode
from lowcode.caches import cache
from lowcode.context import local
from lowcode.web.pages import render_web, visitor_language

from service_app import surveys

MAX_MISSES = 20
MISS_SECONDS = 600
FORM_COOKIE = "survey_form"


def view(request, path):
    response = _view(request, path)
    # The path is a secret: no cache keeps the page, and Django's request log, which
    # prints the path of every 4xx answer, leaves these out (the miss counter above
    # is what watches for guessing).
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True
    return response


def _view(request, path):
    misses = f"survey-miss:ip:{request.META.get('REMOTE_ADDR')}"
    if cache().counter(misses) >= MAX_MISSES:
        with translation.override(visitor_language(request)):
            return _message(request, 429, gettext("Too many attempts"),
                            gettext("Please wait a few minutes and open the link from your message again."))
    invitation = _invitation(path)
    survey = lowcode.get_doc("Survey", invitation.survey) if invitation is not None else None
    if invitation is None or invitation.status in ("Expired", "Superseded") or not int(survey.active or 0) or \
            (invitation.status == "Pending" and not surveys.is_open(invitation)):
        cache().incr(misses, ttl=MISS_SECONDS)
        # The same page, in the same language, whether the link ever existed or not.
        with translation.override(visitor_language(request)):
            return _message(request, 404, gettext("Survey not found"),
                            gettext("This survey link is not valid or has expired. Thank you for your interest."))
    # Messages are made in the language the page renders in (the case's, unless chosen).
    with translation.override(visitor_language(request, invitation.language)):
        if invitation.status == "Answered":
            return _already_answered(request, invitation)
        if request.method == "POST":
            return _answer(request, invitation, survey)
        return _form(request, invitation, survey)


def _invitation(path):
    if path.startswith("invitation/"):
        return surveys.invitation_for_user(path[len("invitation/"):], local.user)
    return surveys.invitation_for_token(path)


def _answer(request, invitation, survey):
    nonce = request.COOKIES.get(FORM_COOKIE) or ""
    if not nonce or not hmac.compare_digest(request.POST.get("form_token") or "", _form_token(nonce, invitation)):
        return _form(request, invitation, survey, status=400, values=request.POST,
                     error=gettext("The form expired: please send your answers again."))
    answers, errors = surveys.parse_answers(survey, request.POST)
    if errors:
        return _form(request, invitation, survey, status=417, values=request.POST, errors=errors,
                     error=gettext("Some answers need your attention."))
    try:
        surveys.record_response(invitation, answers)
    except surveys.AlreadyAnswered:
        return _already_answered(request, invitation)
    return _message(request, 200, gettext("Thank you!"),
                    gettext("Your answers were received. They help us serve you better."),
                    invitation=invitation)


def _form_token(nonce, invitation):
    return hmac.new(nonce.encode(), invitation.name.encode(), hashlib.sha256).hexdigest()


def _form(request, invitation, survey, status=200, values=None, errors=None, error=None):
    lang = visitor_language(request, invitation.language)
    values, errors = values or {}, errors or {}
    questions = []
    for q in survey.questions:
        name = surveys.field_name(q)
        low, high = surveys.RANGES.get(q.question_type, (0, -1))
        questions.append({
            "name": name, "type": q.question_type, "required": int(q.required or 0),
            "text": surveys.localized(q, "question", lang), "value": (values.get(name) or "").strip(),
            "error": errors.get(name), "scale": [str(n) for n in range(low, high + 1)],
            "options": list(enumerate(surveys.choice_options(q, lang))),
        })
    nonce = request.COOKIES.get(FORM_COOKIE) or secrets.token_urlsafe(24)
    response = render_web(request, "service_app/survey.html", status=status, preferred_lang=invitation.language,
                          title=surveys.localized(survey, "title", lang),
                          intro=surveys.localized(survey, "intro", lang), questions=questions, error=error,
                          form_token=_form_token(nonce, invitation), max_text=surveys.MAX_TEXT)
    response.set_cookie(FORM_COOKIE, nonce, max_age=86400, path="/survey/", httponly=True, samesite="Strict",
                        secure=request.is_secure())
    return response


def _already_answered(request, invitation):
    return _message(request, 409, gettext("Already answered"),
                    gettext("This survey has already been answered. Thank you for your feedback!"),
                    invitation=invitation)


def _message(request, status, heading, text, invitation=None):
    return render_web(request, "service_app/survey_message.html", status=status,
                      preferred_lang=invitation.language if invitation is not None else None,
                      heading=heading, text=text)
