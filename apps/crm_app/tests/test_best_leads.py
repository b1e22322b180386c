"""/app/best-leads, "my best leads to call today" (crm_app/best_leads.py): a salesperson's
own open leads by score (then predicted conversion), without the leads called or written to
today, the converted ones, or anyone else's, however good; on both engines, through the
page as the salesperson and escaped."""
import datetime

import lowcode
from lowcode.testing.http import csrf_header, login

from crm_app.best_leads import best_leads
from crm_app.tests.helpers import as_user, make_lead, make_user


def _scored(owner, first_name, score, probability=None, status=None):
    name = make_lead(first_name=first_name, lead_owner=owner).name
    lowcode.db.sql("UPDATE `tabLead` SET `lead_score`=%s, `conversion_probability`=%s, `status`=COALESCE(%s, `status`) "
                   "WHERE `name`=%s", (score, probability, status, name))
    return name


def _setup(unique):
    rep, other = make_user(unique, "rep"), make_user(unique, "other")
    leads = {
        "low": _scored(rep, "Low", 5),
        "top": _scored(rep, "<b>Top</b>", 40),
        "tie_likelier": _scored(rep, "Tie likelier", 20, 70),
        "tie": _scored(rep, "Tie", 20, 30),
        "called": _scored(rep, "Called", 90),
        "mailed": _scored(rep, "Mailed", 80),
        "won": _scored(rep, "Won", 99, status="Converted"),
        "theirs": _scored(other, "Theirs", 95),
    }
    now = datetime.datetime.now().replace(microsecond=0)
    lowcode.get_doc({"doctype": "Call Log", "phone": "09121234567", "reference_doctype": "Lead",
                     "reference_name": leads["called"], "outcome": "No Answer", "started_at": now}).insert()
    lowcode.get_doc({"doctype": "Communication", "subject": "Hello", "reference_doctype": "Lead",
                     "reference_name": leads["mailed"], "communication_date": now}).insert()
    # a call yesterday does not count as today's
    lowcode.get_doc({"doctype": "Call Log", "phone": "09121234567", "reference_doctype": "Lead",
                     "reference_name": leads["low"], "outcome": "Connected",
                     "started_at": now - datetime.timedelta(days=1, hours=1)}).insert()
    for name, score in (("called", 90), ("mailed", 80), ("low", 5)):  # the logged activity rescored them
        lowcode.db.sql("UPDATE `tabLead` SET `lead_score`=%s WHERE `name`=%s", (score, leads[name]))
    return rep, leads


def test_best_leads_are_my_open_leads_by_score_not_contacted_today(ctx, unique):
    rep, leads = _setup(unique)
    with as_user(rep):
        got = [r["name"] for r in best_leads()]
    assert got == [leads["top"], leads["tie_likelier"], leads["tie"], leads["low"]]


def test_the_best_leads_page(ctx, client, unique):
    rep, leads = _setup(unique)
    login(ctx, client, rep)
    html = client.get("/app/best-leads").content.decode()
    table = html.split('id="best-leads"', 1)[1]
    assert table.index(leads["top"]) < table.index(leads["tie_likelier"]) < table.index(leads["low"])
    assert "&lt;b&gt;Top&lt;/b&gt;" in table and "<b>Top</b>" not in table
    for name in ("called", "mailed", "won", "theirs"):
        assert leads[name] not in table


def test_the_lead_list_shows_filters_and_sorts_by_score(ctx, client, unique):
    rep, leads = _setup(unique)
    login(ctx, client, rep)
    html = client.get("/app/lead", {"order_by": "lead_score desc", "filters": '[["lead_score", ">=", 20]]'}
                      ).content.decode()
    assert ">Score<" in html
    shown = [key for key in leads if leads[key] in html]
    assert sorted(shown) == sorted(["won", "called", "mailed", "top", "tie_likelier", "tie"])  # not "low", not theirs
    assert html.index(leads["won"]) < html.index(leads["called"]) < html.index(leads["top"]) < html.index(leads["tie"])
    assert client.get("/app/lead", {"lead_score": "40"}).content.decode().count(leads["top"]) >= 1


def test_without_a_model_the_pages_say_why(ctx, client, unique):
    from lowcode.testing.http import write
    model = lowcode.get_doc("Lead Scoring Model")
    model.status, model.coefficients, model.decided_leads, model.converted_leads = "No model", None, 3, 1
    model.save(ignore_permissions=True)
    rep, _leads = _setup(unique)
    admin = make_user(unique, "admin", roles=("CRM Admin",))
    csrf = login(ctx, client, rep)
    page = client.get("/app/best-leads").content.decode()
    assert 'id="best-leads-no-model"' in page and "the history has 3 decided leads, 1 converted" in page
    # the salesperson may not train the model; a CRM Admin may (in the background)
    train = "/api/method/crm_app.scoring.train_now"
    assert client.post(train, {"model": "Lead Scoring Model"}, **csrf_header(csrf)).status_code == 403
    write(ctx)
    csrf = login(ctx, client, admin)
    form = client.get("/app/lead-scoring-model", follow=True).content.decode()
    assert "Not enough won and lost leads to learn from yet" in form and "Train now" in form
    assert client.post(train, {"model": "Lead Scoring Model"}, **csrf_header(csrf)).status_code == 200
