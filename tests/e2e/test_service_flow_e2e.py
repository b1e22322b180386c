"""End to end, the service desk's whole round (Debian's chromium through Playwright
against a real server; see conftest.py):

1. a customer's contact, on a phone in Persian, files a complaint on the portal;
2. the assignment rule routes it to the team's agent, who picks it up on the desk, logs
   time and resolves it;
3. the resolution sends the survey, which the customer answers from the portal;
4. the support manager sees its figures on the service dashboard."""
import re

import pytest
from playwright.sync_api import expect

import lowcode

from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PASSWORDS = {"customer": "Shiraz-Garden-47", "agent": "Caspian-Wave-83", "manager": "Zagros-Peak-29"}
AGENT, MANAGER = "flow.agent@example.com", "flow.manager@example.com"
SUBJECT = "فاکتور این ماه دو بار صادر شده"


@pytest.fixture(scope="module")
def world(server):
    """A customer with a contact invited to the portal, a team with its agent and
    manager, a rule routing portal cases to the team, and the resolution survey."""
    from lowcode.auth import set_password
    from service_app.portal_users import invite
    with lowcode.site_context(server.site, bench=server.bench) as local:
        for user, role in ((AGENT, "Support Agent"), (MANAGER, "Support Manager")):
            lowcode.get_doc({"doctype": "User", "email": user, "first_name": role.split()[1], "language": "en",
                             "roles": [{"role": role}]}).insert(ignore_permissions=True)
            set_password(user, PASSWORDS["agent" if role == "Support Agent" else "manager"])
        team = lowcode.get_doc({"doctype": "Service Team", "team_name": "Flow Team", "manager": MANAGER,
                                "members": [{"user": AGENT, "languages": "fa"}]}).insert().name
        lowcode.get_doc({"doctype": "Assignment Rule", "rule_name": "Portal cases", "document_type": "Case",
                         "rule": "Load Balancing", "condition": "doc.channel == 'Portal'", "service_team": team,
                         "assign_field": "assigned_to"}).insert()
        lowcode.get_doc({"doctype": "Survey", "title": "Flow survey", "title_fa": "نظرسنجی", "active": 1,
                         "send_on_resolution": 1, "questions": [
                             {"question": "How satisfied are you?", "question_fa": "چقدر راضی هستید؟",
                              "question_type": "Rating", "required": 1},
                             {"question": "Would you recommend us?", "question_fa": "ما را پیشنهاد می‌کنید؟",
                              "question_type": "NPS", "required": 1}]}).insert()
        if not local.db.exists("Issue Priority", "Medium"):
            lowcode.get_doc({"doctype": "Issue Priority", "priority_name": "Medium", "rank": 3}).insert()
        lowcode.get_doc({"doctype": "Service Level Agreement", "service_level": "Flow SLA",
                         "default_service_level_agreement": 1, "default_priority": "Medium", "working_week": "Iran",
                         "priorities": [{"priority": "Medium", "response_time": 4 * 3600,
                                         "resolution_time": 16 * 3600}]}).insert()
        customer = lowcode.get_doc({"doctype": "Customer", "customer_name": "Flow E2E Co"}).insert().name
        contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Maryam", "last_name": "Flow",
                                   "email_id": "maryam.flow@example.com",
                                   "links": [{"link_doctype": "Customer", "link_name": customer}]}).insert()
        _, token = invite(contact.name)
        local.db.commit()
    return {"customer": customer, "token": token, "team": team}


def desk_page(pages, server, tmp_path_factory, user, password):
    page = pages.new(state=None, **DESKTOP)
    login(page, server.url, user, password)
    return page


def test_a_complaint_goes_round_the_service_desk(world, pages, server, shot, tmp_path_factory, db_value):
    # 1. The customer files a complaint on her phone, in Persian.
    phone = pages.new(state=None, **PHONE)
    phone.goto(f"/portal/invite/{world['token']}?lang=fa")
    phone.fill("#f-password", PASSWORDS["customer"])
    phone.fill("#f-confirm", PASSWORDS["customer"])
    with phone.expect_navigation():
        phone.click("main button[type=submit]")
    phone.click("main a[href='/portal/cases/new']")
    phone.fill("#f-subject", SUBJECT)
    phone.fill("#f-description", "شمارهٔ فاکتورها ۱۲۰ و ۱۲۱ است.")
    shot(phone, "1-complaint")
    with phone.expect_navigation():
        phone.click("main button[type=submit]")
    case = re.search(r"/portal/cases/([^?#]+)", phone.url).group(1)
    assert db_value("Case", case, "assigned_to") == AGENT  # routed to the team's agent
    assert db_value("Case", case, "service_team") == world["team"]
    assert db_value("Case", case, "service_level_agreement") == "Flow SLA"  # the SLA clock runs
    assert db_value("Case", case, "response_by") and db_value("Case", case, "agreement_status") == "First Response Due"

    # 2. The agent picks it up, logs time and resolves it.
    desk = desk_page(pages, server, tmp_path_factory, AGENT, PASSWORDS["agent"])
    desk.goto("/app/case")
    expect(desk.locator(f"a[href^='/app/case/{case}?list=']").first).to_be_visible()  # the list's query rides along
    desk.goto(f"/app/case/{case}")
    with desk.expect_navigation():
        desk.locator('#doc-form button[value="workflow:Start"]').first.click()
    expect(desk.locator("#workflow-state")).to_have_text("In Progress")
    assert db_value("Case", case, "first_responded_on")  # picking it up is the first response
    desk.get_by_role("link", name="Log time").click()
    desk.wait_for_url(re.compile(r"/app/case-time-log/new"))
    desk.fill("input[name=from_time]", "2026-12-01T09:00")
    desk.fill("input[name=hours]", "1.5")
    desk.fill("textarea[name=description], input[name=description]", "Checked both invoices")
    with desk.expect_navigation():
        desk.locator('#doc-form button[name="_action"][value="save"]').first.click()
    expect(desk.locator("#form-error")).to_have_count(0)
    assert float(db_value("Case", case, "total_hours")) == 1.5
    desk.goto(f"/app/case/{case}")
    desk.fill("textarea[name=resolution_details]", "The duplicate invoice 121 was cancelled.")
    with desk.expect_navigation():
        desk.locator('#doc-form button[name="_action"][value="save"]').first.click()
    with desk.expect_navigation():
        desk.locator('#doc-form button[value="workflow:Resolve"]').first.click()
    expect(desk.locator("#workflow-state")).to_have_text("Resolved")
    expect(desk.locator("#timeline")).to_contain_text("Checked both invoices")
    shot(desk, "2-resolved")
    assert db_value("Case", case, "status") == "Resolved"

    # 3. The customer answers the survey the resolution sent, from the portal.
    phone.goto("/portal")
    link = phone.locator("#surveys-h + ul a").first
    expect(link).to_have_text(case)
    link.click()
    phone.wait_for_url(re.compile(r"/survey/"))
    assert phone.locator("html").get_attribute("dir") == "rtl"
    phone.click("label[for=q1-4]")
    phone.click("label[for=q2-10]")
    shot(phone, "3-survey")
    with phone.expect_navigation():
        phone.click("button[type=submit]")
    assert float(db_value("Case", case, "satisfaction_score")) == 4.0
    assert int(db_value("Case", case, "nps_score")) == 10
    width = phone.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert width <= 392, f"the page is {width}px wide on a 390px phone"

    # 4. The support manager sees it on the service dashboard: the only case with a survey.
    manager = desk_page(pages, server, tmp_path_factory, MANAGER, PASSWORDS["manager"])
    manager.goto("/app/service-dashboard")
    satisfaction = manager.locator("#card-satisfaction").inner_text()
    assert re.fullmatch(r"4(\.0+)? / 100(\.0+)?", satisfaction.strip()), satisfaction  # CSAT 4, NPS +100
    expect(manager.locator("#customers")).to_contain_text(world["customer"])
    expect(manager.locator("#open-by-status")).not_to_contain_text("Resolved")
    shot(manager, "4-dashboard")
    assert not pages.js_errors, pages.js_errors
