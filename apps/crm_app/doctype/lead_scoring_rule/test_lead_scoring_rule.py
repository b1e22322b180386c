"""Lead Scoring Rules (crm_app/scoring.py): each criterion on a hand-made set of leads with
the totals computed by hand, the score kept up to date on save, on a logged call and by the
nightly job, bad rules refused naming the field, and a salesperson who may read the rules
but not change them. The tests remove the session's other rules inside their transaction
(rolled back afterwards), so the totals are exact."""
import datetime
import json

import pytest

import lowcode
from lowcode.exceptions import InvalidFieldError

from crm_app import scoring
from crm_app.tests.helpers import body, make_lead, make_territory, make_user, refresh, tag, token, write


def _clean():
    lowcode.db.sql("DELETE FROM `tabLead Scoring Rule`")


def _rule(points, criterion="Lead field", lead_field=None, operator="=", value=None, enabled=1):
    return lowcode.get_doc({"doctype": "Lead Scoring Rule", "rule_name": f"Rule {tag()}", "criterion": criterion,
                            "lead_field": lead_field, "operator": operator, "value": value, "points": points,
                            "enabled": enabled}).insert()


def _named(doctype, field, prefix):
    return lowcode.get_doc({"doctype": doctype, field: f"{prefix} {tag()}"}).insert(ignore_permissions=True).name


def _call(lead, outcome="Connected", when=None):
    return lowcode.get_doc({"doctype": "Call Log", "phone": "09121234567", "reference_doctype": "Lead",
                            "reference_name": lead, "outcome": outcome, "direction": "Outgoing",
                            "started_at": when or datetime.datetime.now().replace(microsecond=0)}).insert()


def _opened(lead):
    campaign = lowcode.get_doc({"doctype": "Campaign", "campaign_name": f"Scoring {tag()}"}).insert().name
    segment = lowcode.get_doc({"doctype": "Segment", "segment_name": f"Scoring {tag()}"}).insert().name
    message = lowcode.get_doc({"doctype": "Campaign Message", "campaign": campaign, "channel": "SMS",
                               "segment": segment, "message": "hi"}).insert().name
    return lowcode.get_doc({"doctype": "Campaign Member", "campaign_message": message, "member_doctype": "Lead",
                            "member_name": lead, "opened_on": datetime.datetime.now().replace(microsecond=0)}).insert()


def _score(lead):
    return lowcode.db.get_value("Lead", lead, "lead_score")


@pytest.fixture
def world(ctx, unique):
    """Three leads and nine rules, one per criterion kind:

      R1 source = Expo                +10     R6 calls connected >= 2        +15
      R2 territory = North            +5      R7 e-mails opened > 0          +4
      R3 employees in 51-200,201-1000 +7      R8 days since last contact > 30 -6 (never contacted too)
      R4 annual revenue >= 1,000,000  +8      R9 industry is set             +2
      R5 status = Unqualified         -20     R10 (disabled) city = Tehran   +100

      A: Expo, North, 51-200, 2,000,000, an industry, Tehran; two connected calls today
         and one unanswered, an opened e-mail: 10+5+7+8+2+15+4 = 51 (last contact today)
      B: nothing but 1-10 employees and 500,000: never contacted: -6
      C: another source, 1,000,000, one connected call 40 days ago: 8-6 = 2
    """
    _clean()
    expo, other = _named("Lead Source", "source_name", "Expo"), _named("Lead Source", "source_name", "Web")
    north = make_territory(f"North {unique}")
    industry = _named("Industry", "industry", "Steel")
    _rule(10, lead_field="source", value=expo)
    _rule(5, lead_field="territory", value=north)
    _rule(7, lead_field="no_of_employees", operator="in", value="51-200,201-1000")
    _rule(8, lead_field="annual_revenue", operator=">=", value="1000000")
    _rule(-20, lead_field="status", value="Unqualified")
    _rule(15, criterion="Calls connected", operator=">=", value="2")
    _rule(4, criterion="E-mails opened", operator=">", value="0")
    _rule(-6, criterion="Days since last contact", operator=">", value="30")
    _rule(2, lead_field="industry", operator="is", value="set")
    _rule(100, lead_field="city", value="Tehran", enabled=0)
    a = make_lead(source=expo, territory=north, no_of_employees="51-200", annual_revenue=2000000,
                  industry=industry, city="Tehran").name
    b = make_lead(no_of_employees="1-10", annual_revenue=500000).name
    c = make_lead(source=other, annual_revenue=1000000).name
    _call(a), _call(a), _call(a, outcome="No Answer")
    _opened(a)
    _call(c, when=datetime.datetime.now().replace(microsecond=0) - datetime.timedelta(days=40))
    return {"a": a, "b": b, "c": c, "north": north}


def test_each_criterion_adds_its_points(world):
    assert (_score(world["a"]), _score(world["b"]), _score(world["c"])) == (51, -6, 2)


def test_the_nightly_job_scores_every_lead_in_bulk(world):
    lowcode.db.sql("UPDATE `tabLead` SET `lead_score`=NULL")
    scoring.nightly()
    assert (_score(world["a"]), _score(world["b"]), _score(world["c"])) == (51, -6, 2)
    # a second run changes nothing
    assert scoring.recompute_scores() == {}


def test_a_new_rule_counts_at_the_nightly_run(world):
    _rule(3, lead_field="territory", operator="is", value="not set")  # B and C: +3
    scoring.recompute_scores()
    assert (_score(world["a"]), _score(world["b"]), _score(world["c"])) == (51, -3, 5)


def test_a_range_of_revenue(world):
    _rule(3, lead_field="annual_revenue", operator="between", value="500000, 1000000")  # B and C: +3
    scoring.recompute_scores()
    assert (_score(world["a"]), _score(world["b"]), _score(world["c"])) == (51, -3, 5)


def test_saving_a_lead_rescores_it(world):
    lead = lowcode.get_doc("Lead", world["b"])
    lead.territory = world["north"]
    lead.save()
    assert lead.lead_score == -1 and _score(world["b"]) == -1  # -6 + 5


def test_a_logged_call_rescores_its_lead(world):
    _call(world["b"])  # contacted today (no more -6), one connected call (not yet 2)
    assert _score(world["b"]) == 0
    _call(world["b"])
    assert _score(world["b"]) == 15


def test_a_logged_message_rescores_its_lead(world):
    """B was never contacted (-6); an e-mail today is a contact: 0. A message of 31 days ago
    on C is older than its call (40 days): still -6, C stays at 2."""
    now = datetime.datetime.now().replace(microsecond=0)
    lowcode.get_doc({"doctype": "Communication", "subject": "Hello", "reference_doctype": "Lead",
                     "reference_name": world["b"], "communication_date": now}).insert()
    assert _score(world["b"]) == 0
    lowcode.get_doc({"doctype": "Communication", "subject": "Old", "reference_doctype": "Lead",
                     "reference_name": world["c"], "communication_date": now - datetime.timedelta(days=31)}).insert()
    assert _score(world["c"]) == 2
    lowcode.get_doc({"doctype": "Communication", "subject": "Recent", "reference_doctype": "Lead",
                     "reference_name": world["c"], "communication_date": now - datetime.timedelta(days=30)}).insert()
    assert _score(world["c"]) == 8  # 30 days is not more than 30: no -6


def test_days_since_last_contact_by_whole_days(world):
    """C's last contact was 40 days ago: > 39 and >= 40 hold, > 40 and < 40 do not; = 40 holds."""
    def holds(op, n):
        sql, values = scoring.rule_condition({"criterion": "Days since last contact", "operator": op, "value": n})
        joins, join_values = scoring._activity_joins(["last_contact"], world["c"])
        return bool(lowcode.db.sql(f"SELECT CASE WHEN {sql} THEN 1 ELSE 0 END FROM `tabLead` {joins} "
                                   "WHERE `tabLead`.`name`=%s", values + join_values + [world["c"]])[0][0])
    assert [holds(op, n) for op, n in [(">", 39), (">=", 40), (">", 40), ("<", 40), ("<=", 40), ("=", 40),
                                       ("!=", 40), ("=", 39)]] == [True, True, False, False, True, True, False, False]


@pytest.mark.parametrize("values, field", [
    ({"lead_field": "no_such_field", "value": "x"}, "lead_field"),
    ({"lead_field": "annual_revenue", "operator": ">", "value": "lots"}, "value"),
    ({"lead_field": "source", "operator": ">", "value": "Expo"}, "operator"),
    ({"criterion": "Calls connected", "operator": "like", "value": "2"}, "operator"),
    ({"lead_field": "annual_revenue", "operator": "between", "value": "5"}, "value"),
    ({"criterion": "Calls connected", "operator": "between", "value": "1,2"}, "operator"),
    ({"criterion": "Calls connected", "operator": ">", "value": "two"}, "value"),
])
def test_a_rule_that_does_not_fit_is_refused_naming_the_field(ctx, values, field):
    data = dict({"doctype": "Lead Scoring Rule", "rule_name": f"Bad {tag()}", "criterion": "Lead field",
                 "operator": "=", "points": 1}, **values)
    with pytest.raises(InvalidFieldError) as e:
        lowcode.get_doc(data).insert()
    assert e.value.field == field
    assert not lowcode.db.exists("Lead Scoring Rule", data["rule_name"])


def test_a_salesperson_reads_the_rules_but_cannot_change_them(ctx, client, unique):
    rule = _rule(1, lead_field="city", value="Qom", enabled=0)
    rep = make_user(unique, "rep")
    auth = token(rep)
    refresh(ctx)
    assert client.get(f"/api/resource/Lead Scoring Rule/{rule.name}", **auth).status_code == 200
    put = client.put(f"/api/resource/Lead Scoring Rule/{rule.name}", data=json.dumps({"points": 50}),
                     content_type="application/json", **auth)
    assert put.status_code == 403 and body(put)["exc_type"] == "PermissionError"
    post = client.post("/api/resource/Lead Scoring Rule", data=json.dumps(
        {"rule_name": f"Mine {unique}", "lead_field": "city", "value": "Qom", "points": 50}),
        content_type="application/json", **auth)
    assert post.status_code == 403
    write(ctx)
    assert lowcode.db.get_value("Lead Scoring Rule", rule.name, "points") == 1
    lowcode.db.sql("DELETE FROM `tabLead Scoring Rule` WHERE `name`=%s", (rule.name,))
    lowcode.local.db.commit()
