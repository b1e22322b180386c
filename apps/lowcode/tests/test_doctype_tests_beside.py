"""Each DocType of the CRM apps (crm_app, service_app, selling) comes with its tests beside it, as
in Frappe apps: ``<app>/doctype/<folder>/test_<folder>.py``. Child tables (istable) are
tested through their parent. The DocTypes still without such a file are listed here, each
with the reason, so a new DocType without its test fails this test, and so does a listed
one that has gained its file (shorten the list)."""
import glob
import json
import os

import lowcode

APPS = os.path.dirname(os.path.dirname(lowcode.__file__))
CHECKED_APPS = ("crm_app", "service_app", "selling")

WITHOUT_TESTS_BESIDE = {
    # A hyphen is no Python package name: the rule's tests stay in crm_app/tests/test_followup.py.
    ("crm_app", "Follow-up Rule"),
    # Records a feature writes or sends (reads, logs, members, replies, votes, invitations,
    # answers): tested with that feature.
    ("crm_app", "Announcement Read"),        # doctype/announcement/test_announcement.py
    ("crm_app", "Assignment Log"),           # doctype/assignment_rule/test_assignment_rule.py
    ("crm_app", "Campaign Member"),          # doctype/campaign/test_campaign.py
    ("crm_app", "Campaign Message"),         # doctype/campaign/test_campaign.py
    ("crm_app", "Communication"),            # crm_app/tests/test_inbox.py, test_activities.py
    ("service_app", "Case Reply"),           # service_app/tests/test_portal.py
    ("service_app", "Case SLA Log"),         # service_app/tests/test_escalation.py
    ("service_app", "Case Time Log"),        # service_app/tests/test_time_tracking.py
    ("service_app", "Help Article Vote"),    # doctype/help_article/test_help_article.py
    ("service_app", "Portal Invitation"),    # service_app/tests/test_portal.py
    ("service_app", "Portal Sign-up Request"),  # service_app/tests/test_portal.py
    ("service_app", "Survey Invitation"),    # doctype/survey/test_survey.py
    ("service_app", "Survey Response"),      # doctype/survey/test_survey.py
}


def _doctypes():
    """(app, DocType name, folder) of every DocType defined in the checked apps."""
    for app in CHECKED_APPS:
        for path in sorted(glob.glob(os.path.join(APPS, app, "doctype", "*", "*.json"))):
            folder = os.path.dirname(path)
            if os.path.basename(path) != os.path.basename(folder) + ".json":
                continue
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            if data.get("doctype") == "DocType":
                yield app, data, folder


def test_every_crm_doctype_has_its_tests_beside_it():
    without = {(app, data["name"]) for app, data, folder in _doctypes()
               if not data.get("istable")
               and not os.path.exists(os.path.join(folder, f"test_{os.path.basename(folder)}.py"))}
    assert without - WITHOUT_TESTS_BESIDE == set(), "add doctype/<folder>/test_<folder>.py for these DocTypes"
    assert WITHOUT_TESTS_BESIDE - without == set(), "these now have their tests beside them: drop them from the list"


def test_test_files_in_a_doctype_folder_are_named_after_it():
    """test_<folder>.py, so every test module has a name of its own."""
    for app, data, folder in _doctypes():
        tests = sorted(os.path.basename(p) for p in glob.glob(os.path.join(folder, "test_*.py")))
        assert tests in ([], [f"test_{os.path.basename(folder)}.py"]), (app, data["name"], tests)


def test_the_list_is_checked_against_real_doctypes():
    names = {(app, data["name"]) for app, data, _ in _doctypes()}
    assert len(names) > 60
    assert WITHOUT_TESTS_BESIDE <= names
