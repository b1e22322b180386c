"""Leads: the full name, duplicate detection (e-mail case-insensitive, mobile, the
organisation with the same name; configurable in CRM Settings), the duplicates() lookup,
merging (a converted lead's conversion carries over), and phone validation for Iranian and
Israeli numbers, and the workflow by role (a Sales User moves a lead along but cannot
reopen an unqualified one). Every test runs on SQLite and MariaDB (the ``site`` fixture)."""
import pytest

import lowcode
from lowcode.exceptions import DataError, ValidationError
from lowcode.workflow import WorkflowTransitionError, apply_workflow, get_transitions

from crm_app.doctype.lead.lead import duplicates, merge
from crm_app.tests.helpers import as_user, make_lead, make_user, qualify, team, unique_mobile  # noqa: F401 - team


def test_full_name_from_first_and_last(ctx):
    lead = make_lead(first_name="Sara", last_name="Ahmadi")
    assert lead.lead_name == "Sara Ahmadi"
    assert lowcode.db.get_value("Lead", lead.name, "lead_name") == "Sara Ahmadi"
    lead.last_name = None
    lead.save()
    assert lead.reload().lead_name == "Sara"


def test_new_lead_defaults(ctx):
    lead = make_lead()
    assert lead.status == "New"
    assert lead.lead_owner == "Administrator"
    assert lead.is_duplicate == 0 and not lead.duplicate_of


def test_duplicate_on_email_is_case_insensitive(ctx, unique):
    first = make_lead(email_id=f"Reza.{unique}@Example.com")
    second = make_lead(email_id=f"reza.{unique}@example.COM")
    assert second.is_duplicate == 1
    assert second.duplicate_of == first.name
    stored = lowcode.db.sql("SELECT `is_duplicate`, `duplicate_of` FROM `tabLead` WHERE `name`=%s", (second.name,))
    assert tuple(stored[0]) == (1, first.name)


def test_duplicate_on_mobile(ctx):
    mobile = unique_mobile()
    first = make_lead(mobile_no=mobile)
    second = make_lead(mobile_no=mobile)
    assert second.is_duplicate == 1 and second.duplicate_of == first.name


def test_duplicate_on_mobile_written_differently(ctx):
    """The same Iranian mobile written in national and international form is the same
    person: both forms are accepted, so the duplicate check must compare the number,
    not the text."""
    national = unique_mobile()
    international = "+98 " + national[1:4] + " " + national[4:7] + " " + national[7:]
    first = make_lead(mobile_no=national)
    second = make_lead(mobile_no=international)
    assert second.is_duplicate == 1, "the same mobile in +98 form was not recognised as a duplicate"
    assert second.duplicate_of == first.name


def test_organisation_alone_is_not_a_duplicate(ctx, unique):
    """Colleagues share an organisation: by default it is a duplicate signal only with
    the same person's name."""
    make_lead(first_name="Reza", last_name="Karimi", company_name=f"Pars Plastic {unique}")
    colleague = make_lead(first_name="Mina", last_name="Nouri", company_name=f"Pars Plastic {unique}")
    assert colleague.is_duplicate == 0 and not colleague.duplicate_of


def test_organisation_with_the_same_name_is_a_duplicate(ctx, unique):
    first = make_lead(first_name="Reza", last_name="Karimi", company_name=f"Pars Plastic {unique}")
    second = make_lead(first_name="reza", last_name="KARIMI", company_name=f"pars plastic {unique}")
    assert second.is_duplicate == 1 and second.duplicate_of == first.name


def test_the_first_signal_that_matches_names_the_earliest_lead_it_matches(ctx, unique):
    """duplicate_signals' order decides: a lead matching by e-mail wins over an earlier one
    matching only by organisation and name; among leads matching the same signal, the
    earliest is the original."""
    by_name = make_lead(first_name="Dana", last_name="Levi", company_name=f"Galil Foods {unique}")
    by_email = make_lead(first_name="Noa", last_name="Katz", email_id=f"dana.{unique}@galil.example")
    make_lead(first_name="Roni", last_name="Peretz", email_id=f"Dana.{unique}@Galil.example")  # later, same e-mail
    new = make_lead(first_name="Dana", last_name="Levi", company_name=f"galil foods {unique}",
                    email_id=f"dana.{unique}@galil.example")
    assert new.duplicate_of == by_email.name
    only_name = make_lead(first_name="dana", last_name="levi", company_name=f"Galil Foods {unique}")
    assert only_name.duplicate_of == by_name.name


def _rule(**values):
    settings = lowcode.get_doc("CRM Settings")
    settings.update(values)
    settings.save()


def test_duplicate_rule_defaults(ctx):
    settings = lowcode.get_doc("CRM Settings")
    assert (settings.duplicate_match_email, settings.duplicate_match_mobile,
            settings.duplicate_match_organisation) == (1, 1, "With the same name")


def test_upgrade_keeps_email_and_mobile_matching_on(ctx, unique):
    """Settings saved before the rule was configurable got the new Check columns as 0;
    migrate gives them the defaults (e-mail and mobile always counted), and leaves a
    rule someone has set as it is. (Ends with the defaults, whatever migrate commits.)"""
    from lowcode import installer

    def stored():
        settings = lowcode.get_doc("CRM Settings")
        return settings.duplicate_match_email, settings.duplicate_match_mobile, settings.duplicate_match_organisation

    _rule(duplicate_match_email=0, duplicate_match_mobile=0, duplicate_match_organisation="Never")
    installer.migrate()
    assert stored() == (0, 0, "Never")
    lowcode.db.sql("UPDATE `tabCRM Settings` SET `duplicate_match_email`=0, `duplicate_match_mobile`=0, "
                   "`duplicate_match_organisation`=NULL")        # as the new columns were added
    installer.migrate()
    assert stored() == (1, 1, "With the same name")
    first = make_lead(email_id=f"upgrade.{unique}@example.com")
    assert make_lead(email_id=f"upgrade.{unique}@example.com").duplicate_of == first.name


def test_duplicate_rule_is_configurable(ctx, unique):
    """CRM Settings say which signals count: the organisation alone, or not e-mail."""
    _rule(duplicate_match_organisation="Alone")
    first = make_lead(first_name="Reza", company_name=f"Aria {unique}")
    colleague = make_lead(first_name="Mina", company_name=f"ARIA {unique}")
    assert colleague.duplicate_of == first.name

    _rule(duplicate_match_organisation="Never", duplicate_match_email=0)
    email = f"shared.{unique}@example.com"
    make_lead(first_name="Reza", company_name=f"Sepehr {unique}", email_id=email)
    same = make_lead(first_name="Reza", company_name=f"Sepehr {unique}", email_id=email)
    assert same.is_duplicate == 0, "organisation 'Never' and e-mail off still flagged"

    mobile = unique_mobile()
    first = make_lead(mobile_no=mobile)
    assert make_lead(mobile_no=mobile).duplicate_of == first.name   # the mobile still counts
    _rule(duplicate_match_mobile=0)
    assert make_lead(mobile_no=mobile).is_duplicate == 0
    assert duplicates(first.name) == []                              # the lookup follows the same rule


def test_no_duplicate_when_nothing_shared(ctx, unique):
    make_lead(company_name=f"Aria {unique}", mobile_no=unique_mobile("0935"))
    other = make_lead(company_name=f"Sepehr {unique}")
    assert other.is_duplicate == 0 and other.duplicate_of is None


def test_converted_lead_is_not_a_duplicate_source(ctx, unique):
    first = make_lead(company_name=f"Converted Co {unique}")
    lowcode.db.sql("UPDATE `tabLead` SET `status`='Converted' WHERE `name`=%s", (first.name,))
    second = make_lead(company_name=f"Converted Co {unique}")
    assert second.is_duplicate == 0


def test_first_lead_stays_the_original_when_saved_again(ctx, unique):
    """duplicate_of points at an *earlier* lead (the controller says so): saving the
    original after a duplicate arrived must not flag the original as a duplicate of the
    newer one."""
    first = make_lead(email_id=f"orig.{unique}@example.com")
    second = make_lead(email_id=f"orig.{unique}@example.com")
    assert second.duplicate_of == first.name
    first.reload()
    first.job_title = "Buyer"
    first.save()
    assert first.is_duplicate == 0, f"the original lead was flagged as a duplicate of {first.duplicate_of}"
    assert not first.duplicate_of


def test_duplicate_check_can_be_switched_off(ctx, unique):
    """CRM Settings.check_lead_duplicates (default on) turns the check off."""
    settings = lowcode.get_doc("CRM Settings")
    settings.check_lead_duplicates = 0
    settings.save()
    make_lead(email_id=f"off.{unique}@example.com")
    second = make_lead(email_id=f"off.{unique}@example.com")
    assert second.is_duplicate == 0, "CRM Settings.check_lead_duplicates=0 is ignored"


def test_leads_are_flagged_again_when_the_rule_changes(ctx, unique):
    """Flags set under an earlier rule do not stay: recheck_duplicates (enqueued when CRM
    Settings change the rule) applies the current one to every open lead."""
    from crm_app.doctype.lead.lead import recheck_duplicates
    first = make_lead(first_name="Reza", company_name=f"Recheck {unique}")
    colleague = make_lead(first_name="Mina", company_name=f"Recheck {unique}")
    assert colleague.is_duplicate == 0
    _rule(duplicate_match_organisation="Alone")
    assert recheck_duplicates() >= 1
    assert tuple(lowcode.db.sql("SELECT `is_duplicate`, `duplicate_of` FROM `tabLead` WHERE `name`=%s",
                                (colleague.name,))[0]) == (1, first.name)
    assert lowcode.db.get_value("Lead", first.name, "is_duplicate") == 0
    _rule(duplicate_match_organisation="With the same name")
    recheck_duplicates()
    assert lowcode.db.get_value("Lead", colleague.name, "is_duplicate") == 0
    assert not lowcode.db.get_value("Lead", colleague.name, "duplicate_of")


def test_changing_the_rule_rechecks_the_leads_in_the_background(sqlite_ctx, unique):
    """Saving CRM Settings with another rule enqueues recheck_duplicates; without Redis
    (the SQLite site) the job runs right after the commit."""
    first = make_lead(first_name="Reza", company_name=f"Background {unique}")
    colleague = make_lead(first_name="Mina", company_name=f"Background {unique}")
    try:
        _rule(duplicate_match_organisation="Alone")
        sqlite_ctx.db.commit()
        assert lowcode.db.get_value("Lead", colleague.name, "duplicate_of") == first.name
    finally:
        _rule(duplicate_match_organisation="With the same name")
        sqlite_ctx.db.commit()
    assert not lowcode.db.get_value("Lead", colleague.name, "duplicate_of")


def test_duplicates_lists_the_leads_sharing_contact_data(ctx, unique):
    base = make_lead(email_id=f"dup.{unique}@example.com", mobile_no=unique_mobile("0913"),
                     company_name=f"Dup Co {unique}")
    same_email = make_lead(email_id=f"dup.{unique}@example.com")
    same_company = make_lead(company_name=f"Dup Co {unique}")
    unrelated = make_lead(company_name=f"Other {unique}")
    found = {r["name"] for r in duplicates(base.name)}
    assert same_email.name in found and same_company.name in found
    assert base.name not in found and unrelated.name not in found
    row = next(r for r in duplicates(base.name) if r["name"] == same_email.name)
    assert set(row) >= {"name", "lead_name", "company_name", "email_id", "mobile_no", "status"}


def test_duplicates_matches_email_case_insensitively(ctx, unique):
    """duplicates() must find what flag_duplicates found: the e-mail check is
    case-insensitive on both engines (SQLite compares text case-sensitively)."""
    first = make_lead(email_id=f"Case.{unique}@Example.com")
    second = make_lead(email_id=f"case.{unique}@example.com")
    assert second.duplicate_of == first.name
    assert first.name in {r["name"] for r in duplicates(second.name)}


def test_duplicates_only_lists_readable_leads(ctx, unique):
    user = make_user(unique, "dupview")
    hidden = make_lead(company_name=f"Hidden {unique}")
    with as_user(user):
        mine = make_lead(company_name=f"Hidden {unique}")
        assert duplicates(mine.name) == []
    assert mine.duplicate_of == hidden.name


def test_merge_moves_activities_to_the_target(ctx, unique):
    target = make_lead(company_name=f"Target {unique}")
    source = make_lead(company_name=f"Source {unique}")
    note = lowcode.get_doc({"doctype": "Note", "title": "met at the fair", "reference_doctype": "Lead",
                            "reference_name": source.name}).insert()
    call = lowcode.get_doc({"doctype": "Call Log", "phone": "09121234567", "reference_doctype": "Lead",
                            "reference_name": source.name}).insert()
    task = lowcode.get_doc({"doctype": "Task", "subject": "call back", "reference_doctype": "Lead",
                            "reference_name": source.name}).insert()
    assert merge(source.name, target.name) == target.name
    assert not lowcode.db.exists("Lead", source.name)
    for doctype, doc in (("Note", note), ("Call Log", call), ("Task", task)):
        row = lowcode.db.sql(f"SELECT `reference_doctype`, `reference_name` FROM `tab{doctype}` WHERE `name`=%s",
                             (doc.name,))
        assert tuple(row[0]) == ("Lead", target.name), doctype
    assert lowcode.get_doc("Lead", target.name).company_name == f"Target {unique}"


def test_merging_a_converted_lead_carries_its_conversion(ctx, unique):
    """The later lead was converted; merged into the earlier one, the survivor holds the
    conversion, the customer and opportunity point at it, and the funnel still counts
    the conversion (one lead fewer: the duplicate is gone)."""
    from crm_app.conversion import convert_lead
    from crm_app.reports import sales_funnel
    email = f"conv.{unique}@example.com"
    earlier = make_lead(email_id=email)
    later = qualify(make_lead(email_id=email))
    result = convert_lead(later.name, opportunity_amount=900)
    funnel = {s["stage"]: s["count"] for s in sales_funnel()["stages"]}

    assert merge(later.name, earlier.name) == earlier.name
    survivor = lowcode.get_doc("Lead", earlier.name)
    assert (survivor.status, survivor.customer, survivor.opportunity) == ("Converted", result["customer"],
                                                                          result["opportunity"])
    assert survivor.converted_on and survivor.first_contacted_on
    assert lowcode.db.get_value("Opportunity", result["opportunity"], "lead") == earlier.name
    assert lowcode.db.get_value("Customer", result["customer"], "lead") == earlier.name
    after = {s["stage"]: s["count"] for s in sales_funnel()["stages"]}
    assert {k: after[k] for k in ("Converted", "Opportunity", "Won")} == \
        {k: funnel[k] for k in ("Converted", "Opportunity", "Won")}
    assert after["New"] == funnel["New"] - 1


def test_merging_leads_converted_to_different_customers_is_refused(ctx, unique):
    from crm_app.conversion import convert_lead
    a = qualify(make_lead(company_name=f"One {unique}"))
    b = qualify(make_lead(company_name=f"Two {unique}"))
    convert_lead(a.name)
    convert_lead(b.name)
    with pytest.raises(ValidationError) as e:
        merge(b.name, a.name)
    assert e.value.field == "target" and "merge the customers" in e.value.message
    assert lowcode.db.exists("Lead", b.name)


def test_merge_into_itself_is_refused(ctx):
    lead = make_lead()
    with pytest.raises(ValidationError) as e:
        merge(lead.name, lead.name)
    assert e.value.field == "target"


def test_merge_needs_delete_permission_on_the_source(ctx, unique):
    user = make_user(unique, "merger")  # Sales User: write but no delete on Lead
    with as_user(user):
        a = make_lead(company_name=f"A {unique}")
        b = make_lead(company_name=f"B {unique}")
        with pytest.raises(lowcode.PermissionError):
            merge(a.name, b.name)
    assert lowcode.db.exists("Lead", a.name)


@pytest.mark.parametrize("number", ["09121234567", "+98 912 123 4567", "+989121234567", "۰۹۱۲۱۲۳۴۵۶۷"])
def test_iranian_mobile_numbers_are_accepted(ctx, number):
    lead = make_lead(mobile_no=number)
    assert lead.mobile_no.replace(" ", "").endswith("9121234567")


@pytest.mark.parametrize("number", ["+972-53-3123456", "+972-53-7123456", "+972 53 234 5678"])
def test_israeli_mobile_numbers_are_accepted(ctx, number):
    lead = make_lead(mobile_no=number, phone=number)
    assert lead.mobile_no == number


@pytest.mark.parametrize("field", ["mobile_no", "phone"])
@pytest.mark.parametrize("number", ["12345", "not a number", "091212345678901", "+972-53-312",
                                    # an Iranian mobile with digits missing (0912 / +98 912 are mobile prefixes)
                                    "0912123", "+98 912 123"])
def test_bad_phone_numbers_are_refused_naming_the_field(ctx, field, number):
    with pytest.raises(ValidationError) as e:
        make_lead(**{field: number})
    assert e.value.field == field
    meta_label = lowcode.get_meta("Lead").get_field(field).label
    assert meta_label in e.value.message
    assert isinstance(e.value, DataError)


def test_renaming_a_lead_onto_the_next_number_does_not_jam_the_series(ctx, unique):
    """A Sales User renamed a lead to the series' next name: every later insert used to
    fail with 409. The counter moves past it, and a name taken otherwise is skipped."""
    from lowcode.rename import rename_doc
    user = make_user(unique, "renamer")
    with as_user(user):
        lead = make_lead(first_name="Jam")
        prefix, number = lead.name.rsplit("-", 1)
        taken = f"{prefix}-{int(number) + 1:05d}"
        rename_doc("Lead", lead.name, taken)
        after = make_lead(first_name="After")
        assert after.name == f"{prefix}-{int(number) + 2:05d}"
        # taken behind the engine's back (an import): skipped as well
        lowcode.db.sql("UPDATE `tabLead` SET `name`=%s WHERE `name`=%s", (f"{prefix}-{int(number) + 3:05d}", taken))
        assert make_lead(first_name="Later").name == f"{prefix}-{int(number) + 4:05d}"


def test_a_status_change_the_workflow_allows_is_accepted_on_save(ctx, client, unique):
    """As Frappe applies workflows on save: a Sales User's PUT or set_value moving their
    lead New -> Contacted (an action their role may take) is accepted and noted on the
    timeline; New -> Converted (no such action) is refused naming status; nothing written."""
    import json
    from crm_app.tests.helpers import refresh, token
    rep = make_user(unique, "wfsave")
    with as_user(rep):
        lead = make_lead(lead_owner=rep)
    auth = token(rep)
    refresh(ctx)
    r = client.put(f"/api/resource/Lead/{lead.name}", json.dumps({"status": "Contacted"}),
                   content_type="application/json", **auth)
    assert r.status_code == 200 and r.json()["data"]["status"] == "Contacted", r.content[:300]
    refresh(ctx)
    notes = lowcode.get_all("Comment", filters={"reference_doctype": "Lead", "reference_name": lead.name,
                                                "comment_type": "Workflow"}, pluck="content")
    assert notes == ["Contact: New → Contacted"]
    refused = client.post("/api/method/frappe.client.set_value",
                          {"doctype": "Lead", "name": lead.name, "fieldname": "status", "value": "Converted"}, **auth)
    assert refused.status_code == 417 and refused.json()["exc_type"] == "WorkflowTransitionError"
    assert refused.json()["field"] == "status"
    ok = client.post("/api/method/frappe.client.set_value",
                     {"doctype": "Lead", "name": lead.name, "fieldname": "status", "value": "Qualified"}, **auth)
    assert ok.status_code == 200, ok.content[:300]
    refresh(ctx)
    assert lowcode.db.get_value("Lead", lead.name, "status") == "Qualified"


# -- workflow by role (the team fixture: crm_app/tests/helpers.py) ---------------------------

def test_sales_user_contacts_and_qualifies_a_lead(ctx, team):
    with as_user(team["user"]):
        lead = make_lead(territory=team["territory"])
        assert [t.action for t in get_transitions(lead)] == ["Contact", "Disqualify"]
        apply_workflow(lead, "Contact")
        assert lead.status == "Contacted" and lead.first_contacted_on
        apply_workflow(lead, "Qualify")
        assert lowcode.get_doc("Lead", lead.name).status == "Qualified"


def test_sales_user_cannot_reopen_an_unqualified_lead_but_a_manager_can(ctx, team):
    with as_user(team["user"]):
        lead = make_lead(territory=team["territory"])
        apply_workflow(lead, "Disqualify")
        assert lead.status == "Unqualified"
        assert "Reopen" not in [t.action for t in get_transitions(lead)]
        with pytest.raises(WorkflowTransitionError) as e:
            apply_workflow(lead, "Reopen")
        assert "Reopen" in e.value.message
    assert lowcode.db.get_value("Lead", lead.name, "status") == "Unqualified"
    with as_user(team["manager"]):
        lead = lowcode.get_doc("Lead", lead.name)
        assert [t.action for t in get_transitions(lead)] == ["Reopen"]
        apply_workflow(lead, "Reopen")
    assert lowcode.db.get_value("Lead", lead.name, "status") == "New"


def test_status_changes_only_through_the_workflow(ctx, team):
    with as_user(team["user"]):
        lead = make_lead()
        lead.status = "Qualified"
        with pytest.raises(WorkflowTransitionError) as e:
            lead.save()
        assert e.value.field == "status"
