"""The service desk's demo data (service_app.demo.generate) on a SQLite site of its own,
after crm_app's: cases of the CRM's customers in every state, in three languages, all
valid documents."""
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
    assert demo_site["made"]["Case"] == 60 == lowcode.get_count("Case")
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
    assert lowcode.get_count("Issue Priority") == 4
