"""What a lead's save reads once per request or job (caches.memo_records: CRM Settings, the
enabled assignment and scoring rules, the scoring model, linked records during an import)
and that a change of any of them made in the middle is seen by the very next lead."""
import contextlib

import lowcode
from lowcode.context import local
from lowcode.exceptions import LinkValidationError

from crm_app.tests.helpers import make_lead, make_user, tag


class _Statements:
    """The statements this connection runs inside the block (its ``_execute`` wrapped)."""

    def __enter__(self):
        self.seen, original = [], local.db._execute

        def run(query, values):
            self.seen.append(" ".join(query.split()))
            return original(query, values)
        local.db._execute = run
        return self

    def __exit__(self, *exc):
        del local.db._execute  # the class's method again


def _no_rules():
    lowcode.db.sql("UPDATE `tabAssignment Rule` SET `disabled`=1")  # this transaction's, rolled back
    lowcode.db.sql("UPDATE `tabLead Scoring Rule` SET `enabled`=0")
    lowcode.db.set_single_value("Lead Scoring Model", "coefficients", None)


@contextlib.contextmanager
def _rules_set_aside(ctx):
    """Lead assignment and scoring rules other tests left enabled, disabled and committed
    for the block, then enabled again: nothing memoised is kept after a write of its DocType
    in the transaction, so the block itself must start with no write of a rule."""
    assignment = lowcode.get_all("Assignment Rule", filters={"document_type": "Lead", "disabled": 0}, pluck="name")
    scoring = lowcode.get_all("Lead Scoring Rule", filters={"enabled": 1}, pluck="name")
    for name in assignment:
        lowcode.db.sql("UPDATE `tabAssignment Rule` SET `disabled`=1 WHERE `name`=%s", (name,))
    for name in scoring:
        lowcode.db.sql("UPDATE `tabLead Scoring Rule` SET `enabled`=0 WHERE `name`=%s", (name,))
    ctx.db.commit()
    ctx.db.begin()
    try:
        yield
    finally:
        ctx.db.rollback()
        ctx.db.begin()
        for name in assignment:
            lowcode.db.sql("UPDATE `tabAssignment Rule` SET `disabled`=0 WHERE `name`=%s", (name,))
        for name in scoring:
            lowcode.db.sql("UPDATE `tabLead Scoring Rule` SET `enabled`=1 WHERE `name`=%s", (name,))
        ctx.db.commit()
        ctx.db.begin()


def test_a_lead_after_the_first_reads_no_settings_or_rules(ctx, unique):
    owner = "Administrator"
    with _rules_set_aside(ctx):
        local.flags.in_import = True
        try:
            make_lead(lead_owner=owner)  # reads and memoises what the next ones reuse
            with _Statements() as log:
                lead = make_lead(lead_owner=owner)
        finally:
            local.flags.in_import = False
        read_again = [q for q in log.seen if any(t in q for t in (
            "`tabCRM Settings`", "`tabAssignment Rule`", "`tabLead Scoring", "`tabUser`"))]
        assert read_again == []
        # the series, the name's check, the duplicate lookup (e-mail, mobile: one statement), the row
        assert len(log.seen) == 4, log.seen
        stored = lowcode.db.get_value("Lead", lead.name, ["lead_score", "conversion_probability", "score_factors"],
                                      as_dict=True)
        assert (stored["lead_score"], stored["conversion_probability"], stored["score_factors"]) == (0, None, None)
        assert lead.lead_score == 0


def test_settings_changed_midway_are_seen_by_the_next_lead(ctx, unique):
    email = f"memo.{unique}@example.com"
    first = make_lead(email_id=email)
    assert make_lead(email_id=email).duplicate_of == first.name  # CRM Settings memoised now
    settings = lowcode.get_doc("CRM Settings")
    settings.duplicate_match_email = 0
    settings.save()
    assert make_lead(email_id=email).duplicate_of is None
    lowcode.db.set_single_value("CRM Settings", "duplicate_match_email", 1)
    assert make_lead(email_id=email).duplicate_of == first.name
    lowcode.db.sql("UPDATE `tabCRM Settings` SET `check_lead_duplicates`=0")  # Frappe's db.sql too
    assert make_lead(email_id=email).duplicate_of is None


def test_an_assignment_rule_made_midway_assigns_the_next_lead(ctx, unique):
    _no_rules()
    assert make_lead().lead_owner == "Administrator"  # no rule: the (empty) list of rules is read
    agent = make_user(unique, "agent")
    rule = lowcode.get_doc({"doctype": "Assignment Rule", "rule_name": f"Memo {unique}", "document_type": "Lead",
                            "assign_field": "lead_owner", "users": [{"user": agent}]}).insert()
    assert make_lead().lead_owner == agent
    rule.disabled = 1
    rule.save()
    assert make_lead().lead_owner == "Administrator"


def test_a_scoring_rule_or_model_made_midway_scores_the_next_lead(ctx, unique):
    _no_rules()
    assert make_lead(first_name="Memo").lead_score == 0
    rule = lowcode.get_doc({"doctype": "Lead Scoring Rule", "rule_name": f"Memo {tag()}", "criterion": "Lead field",
                            "lead_field": "first_name", "operator": "=", "value": "Memo", "points": 7,
                            "enabled": 1}).insert()
    lead = make_lead(first_name="Memo")
    assert lead.lead_score == 7
    assert lowcode.db.get_value("Lead", lead.name, "lead_score") == 7
    lowcode.delete_doc("Lead Scoring Rule", rule.name)
    lead = make_lead(first_name="Memo")
    assert (lead.lead_score, lowcode.db.get_value("Lead", lead.name, "lead_score")) == (0, 0)
    model = lowcode.get_doc("Lead Scoring Model")
    model.coefficients = '{"intercept": 0.0, "weights": {}}'
    model.save()
    lead = make_lead(first_name="Memo")
    assert lowcode.db.get_value("Lead", lead.name, "conversion_probability") == 50.0  # 1 / (1 + e^0)


def test_a_linked_record_deleted_midway_fails_the_next_lead(ctx, unique):
    owner = make_user(unique, "gone")
    local.flags.in_import = True
    try:
        make_lead(lead_owner=owner)  # the owner's existence is memoised
        lowcode.delete_doc("User", owner, ignore_permissions=True, force=True)
        try:
            make_lead(lead_owner=owner)
        except LinkValidationError as e:
            assert e.field == "lead_owner"
        else:
            raise AssertionError("a lead linked to a deleted user was saved")
    finally:
        local.flags.in_import = False
