"""Satisfaction surveys: who is asked, with which link, and what an answer changes.

- ``send_survey(case)`` invites the case's contact to answer a survey through a link
  ``/survey/<token>``. The token is random (256 bits) and single-use; only its SHA-256
  is stored on the invitation (as API secrets are). Until e-mail and SMS sending exist,
  the link is logged on the case's timeline (an Info comment) for the agent to pass on.
- A case that becomes Resolved is sent the resolution survey (``on_case_update``), once
  per resolution: resolving it again more than RESEND_AFTER_HOURS after the last
  invitation sends a new one (the older, unanswered link stops working: one case, one
  open question); a case reopened and resolved again sooner is not asked twice.
- ``record_response`` stores the answers, writes the case's CSAT (mean of the rating
  answers), NPS score and answer time, and opens a follow-up task for the manager when
  the customer is unhappy (CSAT <= LOW_CSAT or NPS <= LOW_NPS).
- ``pending_for_customer(customer)`` lists the open invitations for the portal.

The public page is service_app/survey_page.py; the results are service_app/survey_results.py."""
import datetime
import hashlib
import html
import secrets
import statistics

from django.utils import translation
from django.utils.translation import gettext

import lowcode
from lowcode.context import local
from lowcode.exceptions import LowcodeError
from lowcode.utils import now_datetime
from lowcode.workflow import add_comment

VALID_DAYS = 30                  # an invitation's link works this long
RESEND_AFTER_HOURS = 24          # a case resolved again sooner is not asked twice
LOW_CSAT, LOW_NPS = 2, 6         # at or below: a follow-up task for the manager
MAX_TEXT = 2000                  # characters of a free-text answer
RANGES = {"Rating": (1, 5), "NPS": (0, 10)}
MANAGER_ROLE = "Support Manager"


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


def survey_path(token):
    return f"/survey/{token}"


def _stamp(value):
    return value.strftime("%Y-%m-%d %H:%M:%S")


# -- sending ---------------------------------------------------------------------------------

def resolution_survey():
    """The survey sent when a case is resolved: the newest active one marked for it."""
    rows = local.db.sql("SELECT `name` FROM `tabSurvey` WHERE `active`=1 AND `send_on_resolution`=1 "
                        "ORDER BY `modified` DESC LIMIT 1", pluck=True)
    return rows[0] if rows else None


def on_case_update(doc, method=None):
    """doc_events hook: a case that has just become Resolved gets its survey. A case
    inserted already resolved (an import of past cases, demo data) has not become
    resolved now, so it sends nothing."""
    before = doc._doc_before_save
    if doc.status == "Resolved" and before is not None and before.status != "Resolved":
        send_survey(doc)


def send_survey(case, survey=None):
    """Invite the contact of ``case`` (a Case or its name) to answer ``survey`` (default:
    the resolution survey). Returns ``(invitation, path)``: the path holds the raw token,
    which exists nowhere else but in the comment logged on the case. Returns None
    when there is nothing to send: no survey, no contact, or an invitation for this case
    sent less than RESEND_AFTER_HOURS ago. Campaigns call it too."""
    case = lowcode.get_doc("Case", case) if isinstance(case, str) else case
    survey = survey or resolution_survey()
    if not survey or not case.contact:
        return None
    now = now_datetime()
    recent = local.db.sql("SELECT 1 FROM `tabSurvey Invitation` WHERE `case`=%s AND `sent_on`>=%s LIMIT 1",
                          (case.name, _stamp(now - datetime.timedelta(hours=RESEND_AFTER_HOURS))))
    if recent:
        return None
    for name in local.db.sql("SELECT `name` FROM `tabSurvey Invitation` WHERE `case`=%s AND `status`='Pending'",
                             (case.name,), pluck=True):
        older = lowcode.get_doc("Survey Invitation", name)
        older.status = "Superseded"
        older.save(ignore_permissions=True)
    token = secrets.token_urlsafe(32)
    invitation = lowcode.get_doc({
        "doctype": "Survey Invitation", "survey": survey, "case": case.name, "customer": case.customer,
        "contact": case.contact, "agent": case.get("assigned_to"), "language": case.get("language") or "",
        "token_hash": hash_token(token), "status": "Pending", "sent_on": _stamp(now),
        "expires_on": _stamp(now + datetime.timedelta(days=VALID_DAYS)),
    }).insert(ignore_permissions=True)
    path = survey_path(token)
    _log_on_case(case, path)
    return invitation, path


def _log_on_case(case, path):
    """An Info comment on the case's timeline, which everyone who may read the case sees
    (an agent reads no Communications). E-mail and SMS sending will record their own
    Communication."""
    email = local.db.get_value("Contact", case.contact, "email_id")
    text = gettext("Survey link for %(contact)s (valid %(days)s days, single use):") % {
        "contact": email or case.contact, "days": VALID_DAYS}
    add_comment("Case", case.name, "Info", f'{html.escape(text)} <a href="{html.escape(path)}">{html.escape(path)}</a>')


def expire_invitations():
    """Daily: pending invitations past their date become Expired (the page refuses them
    already; this keeps lists and pending_for_customer honest)."""
    for name in local.db.sql("SELECT `name` FROM `tabSurvey Invitation` WHERE `status`='Pending' "
                             "AND `expires_on`<%s", (_stamp(now_datetime()),), pluck=True):
        doc = lowcode.get_doc("Survey Invitation", name)
        doc.status = "Expired"
        doc.save(ignore_permissions=True)


# -- finding an invitation -------------------------------------------------------------------

def invitation_for_token(token):
    """The invitation a link's token opens (any status), or None."""
    if not token or len(token) > 100:
        return None
    rows = local.db.sql("SELECT `name` FROM `tabSurvey Invitation` WHERE `token_hash`=%s", (hash_token(token),),
                        pluck=True)
    return lowcode.get_doc("Survey Invitation", rows[0]) if rows else None


def invitation_for_user(name, user):
    """An invitation opened from the portal by a signed-in user: only the invitation's
    own contact (the user whose e-mail is the contact's), else None."""
    if not name or user in ("Guest", None):
        return None
    rows = local.db.sql(
        "SELECT i.`name` FROM `tabSurvey Invitation` i JOIN `tabContact` c ON c.`name`=i.`contact` "
        "JOIN `tabUser` u ON u.`email`=c.`email_id` WHERE i.`name`=%s AND u.`name`=%s", (name, user), pluck=True)
    return lowcode.get_doc("Survey Invitation", rows[0]) if rows else None


def is_open(invitation):
    return invitation.status == "Pending" and str(invitation.expires_on) > _stamp(now_datetime())


def pending_for_customer(customer):
    """The customer's unanswered, unexpired invitations, newest first, for the portal:
    ``[{"case", "survey", "url"}]``. The url opens the survey for the signed-in contact
    (the raw token is not stored, so the portal cannot rebuild the e-mailed link)."""
    rows = local.db.sql("SELECT `name`, `case`, `survey` FROM `tabSurvey Invitation` WHERE `customer`=%s "
                        "AND `status`='Pending' AND `expires_on`>%s ORDER BY `sent_on` DESC",
                        (customer, _stamp(now_datetime())), as_dict=True)
    return [{"case": r["case"], "survey": r["survey"], "url": f"/survey/invitation/{r['name']}"} for r in rows]


# -- questions and answers -------------------------------------------------------------------

def localized(row, field, lang):
    """``row.<field>_<lang>`` when filled, else the English ``row.<field>``."""
    return (lang != "en" and row.get(f"{field}_{lang}")) or row.get(field) or ""


def choice_options(question, lang="en"):
    """A Choice question's options in ``lang`` (English where that language has none)."""
    english = [o.strip() for o in (question.options or "").splitlines() if o.strip()]
    other = [o.strip() for o in (question.get(f"options_{lang}") or "").splitlines() if o.strip()] \
        if lang != "en" else []
    return other if len(other) == len(english) else english


def field_name(question):
    return f"q{question.idx}"


def parse_answers(survey, form):
    """The answers posted for ``survey`` (form field ``q<idx>`` per question), checked:
    required ones present, ratings 1-5, NPS 0-10, a choice one of the options (sent as
    its position, so any language's form gives the same stored option). Returns
    ``(answers, errors)``: Survey Answer rows and ``{field: message}``."""
    answers, errors = [], {}
    for q in survey.questions:
        name = field_name(q)
        raw = (form.get(name) or "").strip()
        if not raw:
            if int(q.required or 0):
                errors[name] = gettext("Please answer this question")
            continue
        row = {"question": q.question, "question_type": q.question_type}
        if q.question_type in RANGES:
            low, high = RANGES[q.question_type]
            if not raw.isdigit() or not low <= int(raw) <= high:
                errors[name] = gettext("Choose a number from %(low)s to %(high)s") % {"low": low, "high": high}
                continue
            row["rating" if q.question_type == "Rating" else "number"] = int(raw)
        elif q.question_type == "Choice":
            options = choice_options(q)
            if not raw.isdigit() or not 0 <= int(raw) < len(options):
                errors[name] = gettext("Choose one of the options")
                continue
            row["choice"] = options[int(raw)]
        else:
            if len(raw) > MAX_TEXT:
                errors[name] = gettext("Please keep the answer under %(n)s characters") % {"n": MAX_TEXT}
                continue
            row["text"] = raw
        answers.append(row)
    return answers, errors


def scores(answers):
    """(CSAT, NPS score): the mean of the rating answers and the first NPS answer, each
    None when there is none."""
    ratings = [a["rating"] for a in answers if a.get("rating") is not None]
    numbers = [a["number"] for a in answers if a.get("number") is not None]
    return (round(statistics.fmean(ratings), 2) if ratings else None), (numbers[0] if numbers else None)


class AlreadyAnswered(LowcodeError):
    http_status = 409


def record_response(invitation, answers):
    """Store checked ``answers`` for an open invitation and write their scores on the
    case. The invitation is claimed first with a conditional UPDATE, so of two answers
    sent at once only one is stored; the other gets AlreadyAnswered (409)."""
    now = _stamp(now_datetime())
    claimed = local.db.sql_cursor(
        "UPDATE `tabSurvey Invitation` SET `status`='Answered', `answered_on`=%s, `modified`=%s "
        "WHERE `name`=%s AND `status`='Pending' AND `expires_on`>%s", (now, now, invitation.name, now))
    if claimed.rowcount != 1:
        raise AlreadyAnswered("This survey has already been answered")
    csat, nps = scores(answers)
    case = lowcode.get_doc("Case", invitation.case) if invitation.case else None
    response = lowcode.get_doc({
        "doctype": "Survey Response", "survey": invitation.survey, "invitation": invitation.name,
        "case": invitation.case, "customer": invitation.customer, "contact": invitation.contact,
        "agent": (case.get("assigned_to") if case else None) or invitation.agent,
        "category": case.get("category") if case else None, "product": case.get("product") if case else None,
        "hours_spent": case.get("total_hours") if case else None,
        "language": invitation.language, "csat": csat, "nps": nps, "submitted_on": now, "period": now[:7],
        "answers": answers,
    }).insert(ignore_permissions=True)
    if case is not None:
        case.satisfaction_score, case.nps_score, case.survey_answered_on = csat, nps, now
        case.save(ignore_permissions=True)
        if (csat is not None and csat <= LOW_CSAT) or (nps is not None and nps <= LOW_NPS):
            follow_up_task(case, response)
    return response


# -- follow-up on a low score ----------------------------------------------------------------

def case_manager(case):
    """Who follows up on the case's unhappy customer: its team's manager, else the first
    Support Manager (by name), else nobody."""
    if case.get("service_team"):
        manager = local.db.get_value("Service Team", case.service_team, "manager")
        if manager:
            return manager
    rows = local.db.sql("SELECT u.`name` FROM `tabUser` u JOIN `tabHas Role` r ON r.`parent`=u.`name` "
                        "AND r.`parenttype`='User' WHERE r.`role`=%s AND u.`enabled`=1 ORDER BY u.`name` LIMIT 1",
                        (MANAGER_ROLE,), pluck=True)
    return rows[0] if rows else None


def follow_up_task(case, response):
    """A Task for the manager, linked to the case, carrying the scores and any comments;
    its subject in the manager's language (the request speaks the customer's)."""
    manager = case_manager(case)
    lang = (local.db.get_value("User", manager, "language") if manager else None) or local.conf.get("lang") or "en"
    with translation.override(lang):
        subject = gettext("Low satisfaction on case %(case)s") % {"case": case.name}
    comments = "".join(f"<p><b>{html.escape(a.question)}</b>: {html.escape(a.text)}</p>"
                       for a in response.answers if a.text)
    figures = ", ".join(f"{label}: {value}" for label, value in (("CSAT", response.csat), ("NPS", response.nps))
                        if value is not None)
    return lowcode.get_doc({
        "doctype": "Task", "subject": subject, "assigned_to": manager, "priority": "High", "status": "Open",
        "due_date": (now_datetime() + datetime.timedelta(days=1)).date().isoformat(),
        "reference_doctype": "Case", "reference_name": case.name, "customer": case.customer,
        "description": f"<p>{html.escape(figures)}</p>{comments}",
    }).insert(ignore_permissions=True)
