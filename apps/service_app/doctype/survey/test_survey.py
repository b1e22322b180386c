"""Satisfaction surveys: one invitation per resolution, tokens hashed at rest and used
once, the public page (language, validation naming the field, CSRF, friendly 404/409,
guessing throttled), the scores written on the case, the follow-up task on a low score,
and CSAT/NPS figures against values computed by hand."""
import datetime
import hashlib
import logging
import re
import uuid

import pytest

import lowcode
from lowcode import auth
from lowcode.exceptions import ValidationError
from lowcode.workflow import apply_workflow

from crm_app.tests.helpers import as_user, refresh, write
from service_app import survey_page, survey_results, surveys
from service_app.tests.helpers import make_agent, make_case, make_contact, make_customer, make_team, tag


def make_survey(send_on_resolution=0, **values):
    return lowcode.get_doc(dict({
        "doctype": "Survey", "title": f"After your case {tag()}", "title_fa": "نظرسنجی پس از پرونده",
        "title_he": "סקר לאחר הפנייה", "intro": "Tell us how we did.", "intro_fa": "به ما بگویید چطور بودیم.",
        "active": 1, "send_on_resolution": send_on_resolution,
        "questions": [
            {"question": "How satisfied are you?", "question_fa": "چقدر راضی هستید؟",
             "question_he": "עד כמה אתה מרוצה?", "question_type": "Rating", "required": 1},
            {"question": "How likely are you to recommend us?", "question_fa": "چقدر ما را توصیه می‌کنید؟",
             "question_type": "NPS", "required": 1},
            {"question": "How fast was it?", "question_type": "Choice", "required": 0,
             "options": "Fast\nSlow", "options_fa": "سریع\nکند"},
            {"question": "Anything else?", "question_type": "Text", "required": 0},
        ]}, **values)).insert()


def resolved_case(unique, language="fa", **values):
    customer = make_customer().name
    contact = make_contact(customer)
    manager = make_agent(unique, "manager", roles=("Support Manager",))
    agent = make_agent(unique, "agent")
    team = make_team([agent], manager=manager)
    case = make_case(customer=customer, contact=contact.name, service_team=team, assigned_to=agent,
                     language=language, resolution_details="Replaced the modem", **values)
    return case, contact, manager


def resolve(case):
    apply_workflow(case, "Start")
    apply_workflow(lowcode.get_doc("Case", case.name), "Resolve")


def invitations(ctx, case):
    return ctx.db.sql("SELECT `name`, `status` FROM `tabSurvey Invitation` WHERE `case`=%s ORDER BY `sent_on`",
                      (case,), as_dict=True)


def address():
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


# -- sending -------------------------------------------------------------------------------------

def test_a_resolved_case_gets_one_invitation_per_resolution(ctx, unique):
    make_survey(send_on_resolution=1)  # the newest resolution survey is the one sent
    case, contact, _ = resolved_case(unique)
    resolve(case)
    first = invitations(ctx, case.name)
    assert [i["status"] for i in first] == ["Pending"]
    invitation = lowcode.get_doc("Survey Invitation", first[0]["name"])
    assert (invitation.contact, invitation.customer, invitation.language) == (contact.name, case.customer, "fa")
    # The link is logged on the case's timeline, where its agent sees it.
    logged = ctx.db.sql("SELECT `content`, `comment_type` FROM `tabComment` WHERE `reference_doctype`='Case' "
                        "AND `reference_name`=%s AND `content` LIKE %s", (case.name, "%/survey/%"), as_dict=True)
    assert len(logged) == 1 and logged[0]["comment_type"] == "Info" and contact.email_id in logged[0]["content"]
    token = re.search(r"/survey/([\w-]+)", logged[0]["content"]).group(1)
    assert surveys.invitation_for_token(token).name == invitation.name

    # Reopened and resolved again the same day: not asked twice.
    apply_workflow(lowcode.get_doc("Case", case.name), "Reopen")
    apply_workflow(lowcode.get_doc("Case", case.name), "Resolve")
    assert len(invitations(ctx, case.name)) == 1

    # Resolved again after RESEND_AFTER_HOURS: a new invitation; the old link stops working.
    long_ago = (datetime.datetime.now() - datetime.timedelta(hours=surveys.RESEND_AFTER_HOURS + 1))
    ctx.db.sql("UPDATE `tabSurvey Invitation` SET `sent_on`=%s WHERE `case`=%s",
               (long_ago.strftime("%Y-%m-%d %H:%M:%S"), case.name))
    apply_workflow(lowcode.get_doc("Case", case.name), "Reopen")
    apply_workflow(lowcode.get_doc("Case", case.name), "Resolve")
    assert [i["status"] for i in invitations(ctx, case.name)] == ["Superseded", "Pending"]
    # Saving a resolved case again (a note, a field) sends nothing; nor does inserting
    # one already resolved (an import of past cases).
    imported = lowcode.get_doc({"doctype": "Case", "subject": "Old", "customer": case.customer, "contact": contact.name,
                                "status": "Resolved", "resolution_details": "Old"}).insert(ignore_permissions=True)
    assert imported.status == "Resolved" and invitations(ctx, imported.name) == []
    again = lowcode.get_doc("Case", case.name)
    again.root_cause = "Firmware"
    again.save()
    assert len(invitations(ctx, case.name)) == 2


def test_nothing_is_sent_without_a_contact(ctx, unique):
    survey = make_survey().name
    case = make_case(resolution_details="Done")
    assert surveys.send_survey(case, survey) is None
    assert invitations(ctx, case.name) == []


def test_the_token_is_stored_only_as_its_hash(ctx, unique):
    case, _, _ = resolved_case(unique)
    invitation, path = surveys.send_survey(case, make_survey().name)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 40
    row = ctx.db.sql("SELECT * FROM `tabSurvey Invitation` WHERE `name`=%s", (invitation.name,), as_dict=True)[0]
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in str(value) for value in row.values())
    assert surveys.invitation_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_a_choice_needs_options_in_every_language_alike(ctx):
    with pytest.raises(ValidationError) as err:
        make_survey(questions=[{"question": "Which?", "question_type": "Choice", "options": "A\nB",
                                "options_he": "א"}])
    assert err.value.field == "options_he"
    with pytest.raises(ValidationError) as err:
        make_survey(questions=[{"question": "Which?", "question_type": "Choice", "options": "A"}])
    assert err.value.field == "options"


# -- the public page -----------------------------------------------------------------------------

def _open(client, path, ip, **extra):
    response = client.get(path, REMOTE_ADDR=ip, **extra)
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', response.content.decode())
    return response, token.group(1) if token else None


def test_the_survey_page_answers_once_and_writes_the_case(ctx, client, unique, caplog):
    case, _, manager = resolved_case(unique, language="fa")
    survey = make_survey()
    invitation, path = surveys.send_survey(case, survey.name)
    refresh(ctx)
    ip = address()

    page, form_token = _open(client, path, ip)
    html = page.content.decode()
    assert page.status_code == 200 and 'dir="rtl"' in html and "چقدر راضی هستید؟" in html
    assert "How fast was it?" in html  # no Persian for this one: English
    assert "سریع" in html and form_token
    english, _ = _open(client, path + "?lang=en", ip)
    assert 'dir="ltr"' in english.content.decode() and "How satisfied are you?" in english.content.decode()
    client.cookies.pop("lang", None)

    # Bad answers: 417 naming each field, nothing written.
    with caplog.at_level(logging.INFO, logger="django.request"):
        bad = client.post(path, {"form_token": form_token, "q2": "11", "q3": "7"}, REMOTE_ADDR=ip)
    assert bad.status_code == 417 and bad["Cache-Control"] == "no-store"
    assert path not in caplog.text  # the token is a secret: never in the request log
    text = bad.content.decode()
    for field in ("q1", "q2", "q3"):
        assert f'data-field="{field}"' in text
    assert "لطفاً به این پرسش پاسخ دهید" in text  # the messages speak the page's language
    # No form token (a post from another site): refused, nothing written.
    assert client.post(path, {"q1": "2", "q2": "5"}, REMOTE_ADDR=ip).status_code == 400
    other_form = surveys.hash_token("another invitation")
    assert client.post(path, {"form_token": other_form, "q1": "2", "q2": "5"}, REMOTE_ADDR=ip).status_code == 400
    assert lowcode.db.sql("SELECT COUNT(*) FROM `tabSurvey Response` WHERE `invitation`=%s",
                          (invitation.name,))[0][0] == 0
    assert lowcode.get_doc("Survey Invitation", invitation.name).status == "Pending"

    done = client.post(path, {"form_token": form_token, "q1": "2", "q2": "5", "q3": "1",
                              "q4": "<b>Too slow</b>"}, REMOTE_ADDR=ip)
    assert done.status_code == 200 and "سپاسگزاریم!" in done.content.decode(), done.content.decode()[:500]
    write(ctx)
    stored = lowcode.get_doc("Case", case.name)
    assert (stored.satisfaction_score, stored.nps_score) == (2.0, 5) and stored.survey_answered_on
    response = lowcode.get_doc("Survey Response", ctx.db.sql(
        "SELECT `name` FROM `tabSurvey Response` WHERE `invitation`=%s", (invitation.name,), pluck=True)[0])
    assert (response.customer, response.agent, response.period) == (case.customer, case.assigned_to,
                                                                   str(stored.survey_answered_on)[:7])
    assert [(a.question_type, a.rating, a.number, a.choice, a.text) for a in response.answers] == [
        ("Rating", 2, None, None, None), ("NPS", None, 5, None, None), ("Choice", None, None, "Slow", None),
        ("Text", None, None, None, "<b>Too slow</b>")]
    # A low score: a follow-up task for the team's manager, linked to the case, comments escaped.
    task = ctx.db.sql("SELECT `assigned_to`, `description` FROM `tabTask` WHERE `reference_doctype`='Case' "
                      "AND `reference_name`=%s", (case.name,), as_dict=True)
    assert len(task) == 1 and task[0]["assigned_to"] == manager
    assert "&lt;b&gt;Too slow&lt;/b&gt;" in task[0]["description"] and "<b>Too slow" not in task[0]["description"]
    assert surveys.pending_for_customer(case.customer) == []
    refresh(ctx)

    # The same token again: refused politely, nothing more written.
    again = client.post(path, {"form_token": form_token, "q1": "5", "q2": "10"}, REMOTE_ADDR=ip)
    assert again.status_code == 409 and "<form" not in again.content.decode()
    assert client.get(path, REMOTE_ADDR=ip).status_code == 409
    write(ctx)
    assert ctx.db.sql("SELECT COUNT(*) FROM `tabSurvey Response` WHERE `invitation`=%s",
                      (invitation.name,))[0][0] == 1
    assert lowcode.get_doc("Case", case.name).satisfaction_score == 2.0


def test_a_good_score_opens_no_task(ctx, unique):
    case, _, _ = resolved_case(unique)
    invitation, _ = surveys.send_survey(case, make_survey().name)
    answers, errors = surveys.parse_answers(lowcode.get_doc("Survey", invitation.survey), {"q1": "4", "q2": "7"})
    assert errors == {}
    surveys.record_response(invitation, answers)
    assert ctx.db.sql("SELECT COUNT(*) FROM `tabTask` WHERE `reference_name`=%s", (case.name,))[0][0] == 0
    assert lowcode.get_doc("Case", case.name).nps_score == 7
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.record_response(invitation, answers)


def test_the_task_goes_to_a_support_manager_when_the_case_has_no_team_manager(ctx, unique):
    customer = make_customer().name
    case = make_case(customer=customer, contact=make_contact(customer).name, resolution_details="x")
    invitation, _ = surveys.send_survey(case, make_survey().name)
    surveys.record_response(invitation, surveys.parse_answers(lowcode.get_doc("Survey", invitation.survey),
                                                              {"q1": "3", "q2": "2"})[0])
    task = ctx.db.sql("SELECT `assigned_to` FROM `tabTask` WHERE `reference_name`=%s", (case.name,), pluck=True)
    assert task == [surveys.case_manager(case)] and task[0]
    assert "Support Manager" in lowcode.get_roles(task[0])


def test_validation_checks_ranges_and_choices(ctx):
    survey = make_survey()
    for form, field in (({"q1": "0", "q2": "5"}, "q1"), ({"q1": "6", "q2": "5"}, "q1"),
                        ({"q1": "3.5", "q2": "5"}, "q1"),
                        ({"q1": "3", "q2": "-1"}, "q2"), ({"q1": "3"}, "q2"), ({"q1": "3", "q2": "5", "q3": "2"}, "q3"),
                        ({"q1": "3", "q2": "5", "q4": "x" * (surveys.MAX_TEXT + 1)}, "q4")):
        answers, errors = surveys.parse_answers(survey, form)
        assert list(errors) == [field], form
    answers, errors = surveys.parse_answers(survey, {"q1": "5", "q2": "0", "q3": "0"})
    assert errors == {} and surveys.scores(answers) == (5.0, 0)


def test_unknown_and_expired_tokens_get_a_friendly_404_and_guessing_is_throttled(ctx, client, unique):
    case, _, _ = resolved_case(unique, language="he")
    invitation, path = surveys.send_survey(case, make_survey().name)
    expired_case, _, _ = resolved_case(unique)
    expired, expired_path = surveys.send_survey(expired_case, make_survey().name)
    ctx.db.sql("UPDATE `tabSurvey Invitation` SET `expires_on`=%s WHERE `name`=%s",
               ("2001-01-01 00:00:00", expired.name))
    refresh(ctx)
    ip = address()
    unknown = client.get("/survey/" + "x" * 43, REMOTE_ADDR=ip)
    assert unknown.status_code == 404 and "<html" in unknown.content.decode()
    gone = client.get(expired_path, REMOTE_ADDR=ip)
    assert gone.status_code == 404 and gone.content == unknown.content  # nothing tells them apart
    assert client.post(expired_path, {"q1": "5", "q2": "10"}, REMOTE_ADDR=ip).status_code == 404
    page = client.get(path, REMOTE_ADDR=ip)
    assert page.status_code == 200 and 'dir="rtl"' in page.content.decode()  # the case is in Hebrew
    for _ in range(survey_page.MAX_MISSES):
        client.get(f"/survey/{uuid.uuid4().hex}", REMOTE_ADDR=ip)
    # Throttled: even a valid link answers the same 429, so guesses learn nothing.
    assert client.get(path, REMOTE_ADDR=ip).status_code == 429
    assert client.get("/survey/" + "y" * 43, REMOTE_ADDR=ip).status_code == 429
    assert client.get(path, REMOTE_ADDR=address()).status_code == 200
    write(ctx)
    assert lowcode.get_doc("Survey Invitation", invitation.name).status == "Pending"


def test_the_portal_opens_the_customers_pending_survey_for_its_contact_only(ctx, client, unique):
    case, contact, _ = resolved_case(unique)
    invitation, _ = surveys.send_survey(case, make_survey().name)
    pending = surveys.pending_for_customer(case.customer)
    assert pending == [{"case": case.name, "survey": invitation.survey,
                        "url": f"/survey/invitation/{invitation.name}"}]
    person = lowcode.get_doc({"doctype": "User", "email": contact.email_id, "first_name": "Nika"}).insert(
        ignore_permissions=True).name
    stranger = make_agent(unique, "stranger", roles=())
    ip = address()
    refresh(ctx)
    assert client.get(pending[0]["url"], REMOTE_ADDR=ip).status_code == 404  # a guest
    for user, status in ((stranger, 404), (person, 200)):
        client.cookies["sid"] = auth.start_session(user, desk=True).sid
        lowcode.db.commit()
        assert client.get(pending[0]["url"], REMOTE_ADDR=ip).status_code == status, user
    write(ctx)


# -- results -------------------------------------------------------------------------------------

@pytest.fixture
def scored(ctx, unique):
    """Five responses in January and February of a year nothing else uses (Y):

    resp customer agent category product csat nps  hours month
    r1   C1       A1    K1       P1      5    10   2     Y-01
    r2   C1       A2    K1       P2      4    9    4     Y-01
    r3   C2       A1    K2       P1      2    3    10    2001-02
    r4   C2       A2    K2       P2      3    7    6     Y-02
    r5   C1       A1    K2       P2      1.5  -    1     Y-02
    """
    year = f"{1000 + uuid.uuid4().int % 999:04d}"
    c1, c2 = make_customer().name, make_customer().name
    a1, a2 = make_agent(unique, "a1"), make_agent(unique, "a2")
    k1, k2 = [lowcode.get_doc({"doctype": "Case Category", "category_name": f"K{i} {tag()}"}).insert().name
              for i in (1, 2)]
    p1, p2 = [lowcode.get_doc({"doctype": "Product", "product_code": f"P{i}-{tag()}", "product_name": f"P{i}"}
                              ).insert().name for i in (1, 2)]
    survey = make_survey().name  # r1 and r3 answer it
    rows = [(c1, a1, k1, p1, 5, 10, 2, f"{year}-01-10"), (c1, a2, k1, p2, 4, 9, 4, f"{year}-01-20"),
            (c2, a1, k2, p1, 2, 3, 10, f"{year}-02-05"), (c2, a2, k2, p2, 3, 7, 6, f"{year}-02-06"),
            (c1, a1, k2, p2, 1.5, None, 1, f"{year}-02-07")]
    for i, (customer, agent, category, product, csat, nps, hours, day) in enumerate(rows):
        lowcode.get_doc({"doctype": "Survey Response", "survey": survey if i in (0, 2) else None,
                         "customer": customer, "agent": agent, "category": category,
                         "product": product, "csat": csat, "nps": nps, "hours_spent": hours,
                         "submitted_on": day + " 10:00:00", "period": day[:7]}).insert(ignore_permissions=True)
    return dict(year=year, survey=survey, c1=c1, c2=c2, a1=a1, a2=a2, k1=k1, k2=k2, p1=p1, p2=p2)


def _figures(s, group_by, survey=None):
    return {r[group_by]: (r["responses"], r["csat"], r["csat_satisfied_pct"], r["promoters"], r["detractors"],
                          r["nps"])
            for r in survey_results.scores(group_by, f"{s['year']}-01-01", f"{s['year']}-02-28", survey)}


def test_csat_and_nps_per_grouping_match_hand_computed_values(ctx, scored):
    s = scored
    assert _figures(s, "customer") == {s["c1"]: (3, 3.5, 66.7, 2, 0, 100.0), s["c2"]: (2, 2.5, 0.0, 0, 1, -50.0)}
    assert _figures(s, "agent") == {s["a1"]: (3, 2.83, 33.3, 1, 1, 0.0), s["a2"]: (2, 3.5, 50.0, 1, 0, 50.0)}
    assert _figures(s, "category") == {s["k1"]: (2, 4.5, 100.0, 2, 0, 100.0), s["k2"]: (3, 2.17, 0.0, 0, 1, -50.0)}
    assert _figures(s, "product") == {s["p1"]: (2, 3.5, 50.0, 1, 1, 0.0), s["p2"]: (3, 2.83, 33.3, 1, 0, 50.0)}
    assert _figures(s, "period") == {f"{s['year']}-01": (2, 4.5, 100.0, 2, 0, 100.0),
                                     f"{s['year']}-02": (3, 2.17, 0.0, 0, 1, -50.0)}
    assert survey_results.customer_scores(s["c2"]) == {
        "customer": s["c2"], "responses": 2, "csat": 2.5, "csat_satisfied_pct": 0.0, "nps_answers": 2,
        "promoters": 0, "detractors": 1, "nps": -50.0}
    assert survey_results.customer_scores(make_customer().name) is None
    # One survey's responses only (r1, r3).
    assert _figures(s, "customer", s["survey"]) == {s["c1"]: (1, 5.0, 100.0, 1, 0, 100.0),
                                                     s["c2"]: (1, 2.0, 0.0, 0, 1, -100.0)}
    with pytest.raises(ValidationError) as err:
        survey_results.scores("colour")
    assert err.value.field == "group_by"
    with pytest.raises(ValidationError) as err:
        survey_results.scores("period", "2001-13-01")
    assert err.value.field == "from_date"


def test_effort_vs_satisfaction_per_customer(ctx, scored):
    s = scored
    rows = survey_results.effort_vs_satisfaction(from_date=f"{s['year']}-01-01", to_date=f"{s['year']}-02-28")
    assert [(r["customer"], r["responses"], r["hours"], r["hours_per_case"], r["csat"], r["nps_score"])
            for r in rows] == [(s["c2"], 2, 16.0, 8.0, 2.5, 5.0), (s["c1"], 3, 7.0, 2.33, 3.5, 9.5)]


def test_an_agent_sees_only_the_scores_of_their_own_cases(ctx, scored):
    s = scored
    with as_user(s["a1"]):
        assert {k: v[0] for k, v in _figures(s, "customer").items()} == {s["c1"]: 2, s["c2"]: 1}
        assert survey_results.effort_vs_satisfaction(s["c2"], f"{s['year']}-01-01")[0]["hours"] == 10.0


def test_the_results_page_shows_the_figures(ctx, client, scored):
    from lowcode.tests.desk_helpers import login
    refresh(ctx)
    assert client.get("/api/method/service_app.survey_results.scores").status_code == 403  # a guest
    write(ctx)
    login(ctx, client, "Administrator")
    page = client.get("/app/survey-results", {"group_by": "customer", "from": f"{scored['year']}-01-01",
                                                   "to": f"{scored['year']}-02-28"})
    html = page.content.decode()
    assert page.status_code == 200 and scored["c1"] in html and "66.7" in html and "-50.0" in html
    one = client.get(f"/app/survey-results/{scored['survey']}", {"group_by": "customer",
                                                                  "from": f"{scored['year']}-01-01"})
    assert one.status_code == 200 and "-100.0" in one.content.decode() and "66.7" not in one.content.decode()


def test_a_support_manager_builds_a_survey_on_the_desk_and_an_agent_cannot(ctx, client, unique):
    import json
    from crm_app.tests.helpers import body, token
    from lowcode.tests.desk_helpers import login
    manager = make_agent(unique, "builder", roles=("Support Manager",))
    agent = make_agent(unique, "reader")
    headers = token(manager)
    refresh(ctx)
    payload = {"title": f"Desk survey {tag()}", "title_fa": "نظرسنجی", "active": 1,
               "questions": [{"question": "Rate us", "question_type": "Rating", "required": 1},
                             {"question": "Which?", "question_type": "Choice", "options": "A\nB", "options_fa": "الف"}]}
    refused = client.post("/api/resource/Survey", json.dumps(payload), content_type="application/json", **headers)
    assert refused.status_code == 417 and body(refused)["field"] == "options_fa"
    payload["questions"][1]["options_fa"] = "الف\nب"
    made = client.post("/api/resource/Survey", json.dumps(payload), content_type="application/json", **headers)
    assert made.status_code == 200, made.content[:300]
    name = body(made)["data"]["name"]
    login(ctx, client, manager)
    form = client.get(f"/app/survey/{name}")
    assert form.status_code == 200 and "Rate us" in form.content.decode()
    assert f"/app/survey-results/{name}" in form.content.decode()  # the form's Results button
    assert client.get("/app/survey/new").status_code == 200
    agent_headers = token(agent)
    refresh(ctx)
    assert client.post("/api/resource/Survey", json.dumps(dict(payload, title=f"x {tag()}")),
                       content_type="application/json", **agent_headers).status_code == 403
    write(ctx)


def test_the_cases_agent_sees_the_survey_link_on_the_case(ctx, client, unique):
    from lowcode.tests.desk_helpers import login
    case, _, _ = resolved_case(unique)
    _, path = surveys.send_survey(case, make_survey().name)
    login(ctx, client, case.assigned_to)
    form = client.get(f"/app/case/{case.name}")
    assert form.status_code == 200 and path in form.content.decode()


def test_the_daily_job_expires_old_invitations(ctx, unique):
    case, _, _ = resolved_case(unique)
    invitation, _ = surveys.send_survey(case, make_survey().name)
    fresh_case, _, _ = resolved_case(unique)
    fresh, _ = surveys.send_survey(fresh_case, make_survey().name)
    ctx.db.sql("UPDATE `tabSurvey Invitation` SET `expires_on`=%s WHERE `name`=%s",
               ("2001-01-01 00:00:00", invitation.name))
    assert surveys.pending_for_customer(case.customer) == []  # already out of the portal's list
    surveys.expire_invitations()
    assert lowcode.get_doc("Survey Invitation", invitation.name).status == "Expired"
    assert lowcode.get_doc("Survey Invitation", fresh.name).status == "Pending"
    with pytest.raises(surveys.AlreadyAnswered):  # nor can it be answered
        surveys.record_response(invitation, [])
