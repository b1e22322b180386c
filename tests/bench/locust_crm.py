"""The load phase's simulated users, for locust (run headless by bench_load.py, never by
the test suite). Read with bench_load.py, which writes the configuration this file reads
(``LOWCODE_LOAD_CONF``: the site, API tokens, customers, where to write what happened).

- Salesperson (most users): lists, searches, opens, creates and updates leads and
  opportunities, logs calls. Row rules apply: each sees the leads they own.
- Manager: opens the pipeline and funnel reports (the dashboards' figures).
- Admin (one): adds a custom field to Lead in the middle of the run.

Every create the server acknowledges (200 with the new name) is kept with its marker, and
every 5xx counted, so bench_load.py can check afterwards that each acknowledged create is in
the database exactly once."""
import itertools
import json
import os
import random
import time
import uuid
from urllib.parse import urlencode

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

CONF = json.load(open(os.environ["LOWCODE_LOAD_CONF"], encoding="utf-8"))
ACKED = []          # [doctype, name, marker] of every acknowledged create
SERVER_ERRORS = []  # [name, status, first bytes of the body] of every 5xx
CUSTOM_FIELD = {}
_tokens = {kind: itertools.cycle(CONF[kind]) for kind in ("sales", "managers")}
LEAD_FIELDS = json.dumps(["name", "lead_name", "company_name", "status", "modified"])
OPP_FIELDS = json.dumps(["name", "title", "sales_stage", "opportunity_amount", "modified"])


@events.request.add_listener
def _count_5xx(name, response=None, **_):
    if response is not None and response.status_code >= 500:
        SERVER_ERRORS.append([name, response.status_code, (response.text or "")[:200]])


@events.test_stop.add_listener
def _write_out(**_):
    with open(CONF["out"], "w", encoding="utf-8") as f:
        json.dump({"acked": ACKED, "server_errors": SERVER_ERRORS, "custom_field": CUSTOM_FIELD}, f)


class CRMUser(FastHttpUser):
    """geventhttpclient's client, not requests': the load generator shares the machine's
    CPUs with the server it measures, so it should spend as little of them as it can."""
    abstract = True
    kind = None
    default_headers = {"Host": CONF["site"], "Accept": "application/json"}

    def on_start(self):
        key, secret = next(_tokens[self.kind]) if self.kind else CONF["admin"]
        self.client.auth_header = f"token {key}:{secret}"

    def get(self, path, name, **params):
        return self.client.get(f"{path}?{urlencode(params)}" if params else path, name=name)

    def marker(self):
        return f"{CONF['marker']}-{uuid.uuid4().hex[:12]}"

    def create(self, doctype, body, name, marker):
        with self.client.post(f"/api/resource/{doctype}", json=body, name=name, catch_response=True) as r:
            if r.status_code == 200:
                ACKED.append([doctype, r.json()["data"]["name"], marker])
                r.success()
                return r.json()["data"]["name"]
            r.failure(f"{r.status_code}: {r.text[:200]}")
        return None


class Salesperson(CRMUser):
    weight = 9
    kind = "sales"
    wait_time = between(1, 3)

    def on_start(self):
        super().on_start()
        self.seen_leads, self.seen_opps, self.mine = [], [], []

    @task(6)
    def list_leads(self):
        r = self.get("/api/resource/Lead", "lead: list", fields=LEAD_FIELDS, order_by="modified desc",
                     limit_page_length=20)
        if r.status_code == 200:
            self.seen_leads = [row["name"] for row in r.json()["data"]] or self.seen_leads

    @task(2)
    def search_leads(self):
        self.get("/api/method/frappe.desk.search.search_link", "lead: search", doctype="Lead",
                 txt=random.choice(["Sara", "Dana", "Ali", "Noa", "Company 1"]))

    @task(5)
    def open_lead(self):
        if self.seen_leads:
            self.client.get(f"/api/resource/Lead/{random.choice(self.seen_leads)}", name="lead: open")

    @task(2)
    def create_lead(self):
        marker = self.marker()
        name = self.create("Lead", {"first_name": marker, "last_name": "Load", "email_id": f"{marker}@example.com",
                                    "company_name": f"Load Co {random.randint(1, 500)}"},
                           "lead: create", marker)
        if name:
            self.mine.append(name)

    @task(2)
    def update_lead(self):
        if self.mine:
            self.client.put(f"/api/resource/Lead/{random.choice(self.mine)}", name="lead: update",
                            json={"job_title": random.choice(["Buyer", "CTO", "Owner"])})

    @task(2)
    def list_opportunities(self):
        r = self.get("/api/resource/Opportunity", "opportunity: list", fields=OPP_FIELDS, order_by="modified desc",
                     limit_page_length=20)
        if r.status_code == 200:
            self.seen_opps = [row["name"] for row in r.json()["data"]] or self.seen_opps

    @task(1)
    def open_opportunity(self):
        if self.seen_opps:
            self.client.get(f"/api/resource/Opportunity/{random.choice(self.seen_opps)}", name="opportunity: open")

    @task(1)
    def create_opportunity(self):
        marker = self.marker()
        self.create("Opportunity", {"title": marker, "opportunity_from": "Customer",
                                    "party_name": random.choice(CONF["customers"]),
                                    "opportunity_amount": random.randint(1, 100) * 1000},
                    "opportunity: create", marker)

    @task(2)
    def log_call(self):
        marker = self.marker()
        self.create("Call Log", {"phone": f"0912{random.randint(0, 9999999):07d}", "notes": marker},
                    "call: log", marker)


class Manager(CRMUser):
    weight = 1
    kind = "managers"
    wait_time = between(2, 5)

    @task(2)
    def pipeline(self):
        self.get("/api/method/frappe.desk.query_report.run", "dashboard: weighted pipeline",
                 report_name="Weighted Pipeline")

    @task(1)
    def funnel(self):
        self.get("/api/method/frappe.desk.query_report.run", "dashboard: sales funnel", report_name="Sales Funnel")

    @task(3)
    def team_leads(self):
        self.get("/api/resource/Lead", "lead: list (manager)", fields=LEAD_FIELDS, order_by="modified desc",
                 limit_page_length=20)


class Admin(CRMUser):
    """One admin, who adds a custom field to Lead once the run is ``custom_field_at`` seconds old."""
    fixed_count = 1
    wait_time = between(1, 1)

    def on_start(self):
        super().on_start()
        self.started = time.monotonic()

    @task
    def add_custom_field(self):
        if CUSTOM_FIELD or time.monotonic() - self.started < CONF["custom_field_at"]:
            return
        fieldname = f"load_{CONF['marker'].replace('-', '_')}"
        t0 = time.perf_counter()
        r = self.client.post("/api/resource/Custom Field", name="admin: add custom field", json={
            "dt": "Lead", "fieldname": fieldname, "label": "Load Field", "fieldtype": "Data",
            "insert_after": "email_id"})
        CUSTOM_FIELD.update({"status": r.status_code, "seconds": time.perf_counter() - t0, "fieldname": fieldname})
