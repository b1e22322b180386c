"""property_app's life on a site: install, use, uninstall and reinstall, on both engines.

Each test gets a fresh site (``site_with_apps``, lowcode/testing/pytest_plugin.py) since
it installs and removes the app; the host app is crm_app (Lead)."""
import datetime
import glob
import json
import os

import pytest
from django.test import Client

import lowcode
from lowcode import auth, jobs
from lowcode.installer import install_app, uninstall_app
from lowcode.scheduler import tick
from lowcode.workflow import apply_workflow

APP = "property_app"
OWNED = [("Custom Field", "Lead-interested_property"), ("Workflow", "Property Flow"),
         ("Report", "Properties by Status"), ("Report", "Property Interest"), ("Workspace", "Properties"),
         ("Role", "Property Manager")]


def _context(site, bench):
    return lowcode.site_context(site, bench=bench)


def run_scheduler(site, bench):
    """Every Scheduled Job Type of the site run once, as a worker runs it (own transaction;
    a failure is a Failed Job). Returns the methods run."""
    with _context(site, bench) as local:
        methods = tick(datetime.datetime.now() + datetime.timedelta(days=400))
        local.db.rollback()  # the jobs are run below, not sent after a commit
    for method in methods:
        try:
            jobs.execute_job({"site": site, "bench": bench, "method": method, "user": "Administrator",
                              "kwargs": {}, "job_name": method, "queue": "default"})
        except Exception:  # noqa: BLE001 - recorded as a Failed Job, asserted by the caller
            pass
    return methods


def failed_jobs(site, bench):
    with _context(site, bench) as local:
        return local.db.sql("SELECT `method` FROM `tabFailed Job`", pluck=True)


def use_the_app(site, bench):
    """A property, a lead interested in it (the Custom Field and the doc_events hook), the
    workflow, the whitelisted method over HTTP and the daily job."""
    with _context(site, bench) as local:
        prop = lowcode.get_doc({"doctype": "Property", "property_name": "Villa Sahel", "price": 100}).insert()
        lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Ann", "last_name": "Lee",
                                "interested_property": prop.name}).insert()
        assert lowcode.get_doc("Property", prop.name).lead_count == 1  # doc_events Lead.on_update
        prop = lowcode.get_doc("Property", prop.name)
        apply_workflow(prop, "Reserve")
        assert lowcode.get_doc("Property", prop.name).status == "Reserved"
        local.db.sql("UPDATE `tabProperty` SET `lead_count`=0")
        key, secret = auth.generate_keys("Administrator")
        local.db.commit()
    assert APP + ".events.recount_all" in run_scheduler(site, bench)
    os.environ["LOWCODE_SITES"] = bench
    response = Client(HTTP_HOST=site).get("/api/method/property_app.api.interested_leads",
                                          {"property": "Villa Sahel"},
                                          HTTP_AUTHORIZATION=f"token {key}:{secret}")
    assert response.status_code == 200, response.content
    assert [r["name"] for r in response.json()["message"]] == [lead.name]
    with _context(site, bench):
        assert lowcode.get_doc("Property", "Villa Sahel").lead_count == 1  # the daily job recounted
    # The standard Script Report (report/property_interest/), as a Frappe client runs it.
    answer = run_report(site, f"token {key}:{secret}", {"status": "Reserved"})
    assert answer["result"][0] == {"status": "Reserved", "properties": 1, "value": 100.0, "leads": 1}
    assert [c["label"] for c in answer["columns"]] == ["Status", "Properties", "Total Price", "Interested Leads"]
    assert {s["label"]: s["value"] for s in answer["report_summary"]} == {"Properties": 1, "Interested Leads": 1}
    assert run_report(site, f"token {key}:{secret}", {"status": "Sold"})["result"] == []
    return lead.name, f"token {key}:{secret}"


def run_report(site, auth_header, filters, status=200):
    """frappe.desk.query_report.run of Property Interest over HTTP: the answer's message."""
    response = Client(HTTP_HOST=site).post("/api/method/frappe.desk.query_report.run",
                                           {"report_name": "Property Interest", "filters": json.dumps(filters)},
                                           HTTP_AUTHORIZATION=auth_header)
    assert response.status_code == status, response.content
    return response.json().get("message")


def test_install_use_uninstall_reinstall(site_with_apps, bench):
    site = site_with_apps(APP)
    with _context(site, bench) as local:
        assert APP in lowcode.get_installed_apps()
        owned = {(r[0], r[1]) for r in local.db.sql(
            "SELECT `ref_doctype`, `ref_name` FROM `tabApp Record` WHERE `app`=%s", (APP,))}
        assert set(OWNED) <= owned, owned
        assert any(dt == "Scheduled Job Type" for dt, _ in owned)
    lead, auth_header = use_the_app(site, bench)

    with _context(site, bench) as local:
        uninstall_app(APP)
        local.db.commit()
    with _context(site, bench) as local:
        db = local.db
        assert not db.table_exists("Property")
        for doctype, name in OWNED:
            assert not db.exists(doctype, name), (doctype, name)
        assert "interested_property" not in db.get_columns("Lead")  # the column went, with a backup
        assert not db.sql("SELECT 1 FROM `tabScheduled Job Type` WHERE `method` LIKE %s", (APP + ".%",))
        assert not db.sql("SELECT 1 FROM `tabApp Record` WHERE `app`=%s", (APP,))
        backups = glob.glob(os.path.join(local.site_path, "private", "backups", "lead-interested_property-*.json"))
        assert len(backups) == 1
        with open(backups[0], encoding="utf-8") as f:
            assert {"name": lead, "value": "Villa Sahel"} in json.load(f)["values"]
        # The host's records save and list as before; no handler of the app runs.
        doc = lowcode.get_doc("Lead", lead)
        doc.first_name = "Anna"
        doc.save()
        assert lead in lowcode.get_list("Lead", pluck="name")
        assert lowcode.get_doc("Lead", lead).first_name == "Anna"
        db.commit()
    # Over HTTP too, as a desk or API client would: save, list, open the desk list.
    client = Client(HTTP_HOST=site)
    response = client.put(f"/api/resource/Lead/{lead}", json.dumps({"first_name": "Anne"}),
                          content_type="application/json", HTTP_AUTHORIZATION=auth_header)
    assert response.status_code == 200, response.content
    assert "interested_property" not in response.json()["data"]
    response = client.get("/api/resource/Lead", {"limit_page_length": 0}, HTTP_AUTHORIZATION=auth_header)
    assert lead in [r["name"] for r in response.json()["data"]]
    assert client.get("/api/resource/Property", HTTP_AUTHORIZATION=auth_header).status_code == 404
    run_report(site, auth_header, {}, status=404)  # the Report record went with the app
    run_scheduler(site, bench)
    assert failed_jobs(site, bench) == []

    with _context(site, bench) as local:  # SQLite kept no index of the dropped tables or column
        assert install_app(APP)
        local.db.commit()
    with _context(site, bench) as local:
        assert local.db.exists("Custom Field", "Lead-interested_property")
        assert local.db.exists("Report", "Property Interest")  # the report/ folder's Report is back
        assert local.db.sql("SELECT 1 FROM `tabApp Record` WHERE `app`=%s AND `ref_doctype`='Report' AND "
                            "`ref_name`='Property Interest'", (APP,))
        lowcode.get_doc({"doctype": "Property", "property_name": "Loft", "price": 250}).insert()
        doc = lowcode.get_doc("Lead", lead)
        doc.interested_property = "Loft"
        doc.save()
        assert lowcode.get_doc("Property", "Loft").lead_count == 1
        local.db.commit()
    assert run_report(site, auth_header, {})["result"] == [  # the tables went with the app: only Loft
        {"status": "Available", "properties": 1, "value": 250.0, "leads": 1}, ["Total", 1.0, 250.0, 1.0]]


def test_whitelisted_method_checks_permission(site_with_apps, bench):
    """interested_leads answers 403 to a user who may not read properties."""
    site = site_with_apps(APP)
    with _context(site, bench) as local:
        lowcode.get_doc({"doctype": "Property", "property_name": "Villa"}).insert()
        user = lowcode.get_doc({"doctype": "User", "email": "guest-like@example.com", "first_name": "G",
                                "roles": [{"role": "Marketing User"}]}).insert()
        key, secret = auth.generate_keys(user.name)
        local.db.commit()
    os.environ["LOWCODE_SITES"] = bench
    response = Client(HTTP_HOST=site).get("/api/method/property_app.api.interested_leads", {"property": "Villa"},
                                          HTTP_AUTHORIZATION=f"token {key}:{secret}")
    assert response.status_code == 403, response.content
