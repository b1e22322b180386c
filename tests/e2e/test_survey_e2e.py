"""End to end: a customer answers a satisfaction survey on a phone, in Persian, through
the link a resolved case sent (Debian's chromium against a real server; see conftest)."""
import pytest

import lowcode

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def survey_link(server):
    """A Persian case with a contact, resolved through the workflow: its survey link."""
    from crm_app.tests.helpers import make_customer, tag
    from service_app import surveys
    from service_app.tests.helpers import make_contact
    from service_app.doctype.survey.test_survey import make_survey
    from lowcode.workflow import apply_workflow
    with lowcode.site_context(server.site, bench=server.bench) as local:
        survey = make_survey(send_on_resolution=1).name
        customer = make_customer().name
        case = lowcode.get_doc({"doctype": "Case", "subject": f"Router {tag()}", "customer": customer,
                                "contact": make_contact(customer).name, "language": "fa",
                                "resolution_details": "Replaced the router"}).insert()
        apply_workflow(case, "Start")
        apply_workflow(lowcode.get_doc("Case", case.name), "Resolve")
        token_hash = local.db.sql("SELECT `token_hash` FROM `tabSurvey Invitation` WHERE `case`=%s",
                                  (case.name,), pluck=True)[0]
        content = local.db.sql("SELECT `content` FROM `tabComment` WHERE `reference_name`=%s AND `content` LIKE %s",
                               (case.name, "%/survey/%"), pluck=True)[0]
        local.db.commit()
        path = content.split('href="', 1)[1].split('"', 1)[0]
        assert surveys.hash_token(path.rsplit("/", 1)[1]) == token_hash
        return case.name, path, survey


def test_a_customer_answers_the_survey_on_a_phone_in_persian(pages, server, shot, survey_link, db_value):
    case, path, survey = survey_link
    page = pages.new(state=None, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(path)
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_text("چقدر راضی هستید؟").is_visible()
    width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert width <= PHONE["width"] + 2, f"the page is {width}px wide on a {PHONE['width']}px phone"
    shot(page, "form")
    page.click("label[for=q1-2]")
    page.click("label[for=q2-9]")
    page.click("label[for=q3-0]")
    page.fill("textarea[name=q4]", "کمی دیر بود")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.get_by_text("سپاسگزاریم!").is_visible()
    shot(page, "thanks")
    assert float(db_value("Case", case, "satisfaction_score")) == 2.0
    assert int(db_value("Case", case, "nps_score")) == 9
    response = page.goto(path)
    assert response.status == 409 and page.locator("form").count() == 0
    # The manager sees the answer in the survey's results.
    desk = pages.new(viewport={"width": 1280, "height": 900})
    desk.goto(f"/app/survey-results/{survey}?group_by=period")
    row = desk.locator("#survey-scores tbody tr").first
    assert row.locator("td").nth(1).inner_text() == "1" and row.locator("td").nth(2).inner_text() == "2.0"
    shot(desk, "results")
    assert not pages.js_errors, pages.js_errors
