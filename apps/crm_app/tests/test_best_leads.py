"""/app/best-leads, "my best leads to call today" (crm_app/best_leads.py): a salesperson's
own open leads by score (then predicted conversion), without the leads called or written to
today, the converted ones, or anyone else's, however good; on both engines, through the
page as the salesperson and escaped."""
import datetime

import lowcode
from lowcode.testing.http import login

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
