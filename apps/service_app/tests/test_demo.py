"""The service desk's demo data (service_app.demo.generate) on a SQLite site of its own,
after crm_app's: cases of the CRM's customers in every state, in three languages, with
SLA clocks run at their histories' moments, time logs, answered surveys and articles;
all valid documents."""
import pytest

import conftest
import lowcode

from crm_app import demo as crm_demo
from service_app import demo


@pytest.fixture(scope="module")
def demo_site(bench):
    site = conftest.create_site(bench, "sqlite")
    try:
        with lowcode.site_context(site, bench=bench):
            crm_demo.generate(count=100)
            made = demo.generate(count=60)
            lowcode.db.commit()
        yield {"site": site, "bench": bench, "made": made}
    finally:
        conftest.drop_site(bench, site)


@pytest.fixture
def dctx(demo_site):
    with lowcode.site_context(demo_site["site"], bench=demo_site["bench"]) as local:
        yield local


def test_cases_in_every_state_and_language(dctx, demo_site):
    made = demo_site["made"]
    assert made["Case"] == 60 == lowcode.get_count("Case")
    assert made["Case Time Log"] == lowcode.get_count("Case Time Log") > 0
    assert made["Survey Response"] == lowcode.get_count("Survey Response") > 0
    rows = lowcode.get_all("Case", fields=["status", "language", "customer", "service_team", "assigned_to"],
                           limit_page_length=0)
    assert {r["status"] for r in rows} == {"Open", "In Progress", "Waiting on Customer", "Resolved", "Closed"}
    assert {r["language"] for r in rows} == {"fa", "he", "en"}
    assert all(r["customer"] and r["service_team"] and r["assigned_to"] for r in rows)


def test_demo_cases_are_valid_documents(dctx):
    for name in lowcode.get_all("Case", pluck="name", limit_page_length=10):
        doc = lowcode.get_doc("Case", name)
        doc.save()


def test_running_it_again_keeps_the_masters_single(dctx):
    demo.masters()
    assert lowcode.get_count("Service Team") == 2
    assert lowcode.get_count("Survey") == 1
    assert lowcode.get_count("Issue Priority") == 4


def test_histories_give_working_time_figures_and_some_breaches(dctx):
    rows = lowcode.get_all("Case", fields=["status", "opened_on", "first_responded_on", "first_response_time",
                                           "resolution_time", "response_breached", "resolution_breached",
                                           "service_level_agreement", "total_hours", "satisfaction_score"],
                           limit_page_length=0)
    assert all(r["service_level_agreement"] for r in rows)
    responded = [r for r in rows if r["first_responded_on"]]
    assert responded and all(str(r["first_responded_on"]) > str(r["opened_on"]) for r in responded)
    # responses took minutes to hours of working time, not the days between the history and today
    assert sorted(r["first_response_time"] for r in responded)[len(responded) // 2] < 3 * 24 * 3600
    resolved = [r for r in rows if r["status"] in ("Resolved", "Closed")]
    assert resolved and all(r["resolution_time"] is not None for r in resolved)
    assert any(r["response_breached"] or r["resolution_breached"] for r in rows)
    assert not all(r["response_breached"] or r["resolution_breached"] for r in rows)
    assert any(r["total_hours"] for r in rows) and any(r["satisfaction_score"] for r in rows)


def test_articles_in_three_languages(dctx):
    langs = {r["language"] for r in lowcode.get_all("Help Article", fields=["language"],
                                                      filters={"status": "Published"}, limit_page_length=0)}
    assert langs == {"fa", "he", "en"}
