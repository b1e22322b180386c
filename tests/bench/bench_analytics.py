"""Analytics at scale (issue 12): on a site with crm_app and selling, N leads, M
opportunities and K submitted Sales Invoice lines (five lines to an invoice, invoices of
about 50,000 customers), then the three figures a sales manager opens every morning:

- the pivot of leads by source x month of their Lead Date (``lowcode.pivot.pivot``, the
  report view's pivot mode and ``get_pivot``), in the Gregorian and the Jalali calendar;
- the Sales Forecast report (``frappe.desk.query_report.run``, default period: this month
  and the next two);
- the churn-risk list of the selling app, when it is installed (``CHURN``; reported as
  "not installed" otherwise).

Who: a Sales Manager, territory manager of one of the 4 regions (their row rule on leads:
a quarter of them; the forecast and the churn list are analysts' aggregates and cover
every record, crm_app.permissions.aggregate_scope), and a salesperson (Sales User) who
is lead and opportunity owner of a twentieth of the records, whose row rule keeps the
rest out in SQL. Each call runs in the bench process in its own read transaction with the
role cache cleared, as a request would; p50/p95 over ``reps`` after ``warmup`` calls,
interleaved in rotating order so load drift hits all alike. Baselines in the same run:
a plain ``COUNT(*)`` of the leads and the list page of leads (20 rows, newest first) as
the same user, since the machine is shared and noisy.

Filled with ``bulk_insert`` (values ready, no document path): 3 years of dates, 8 lead
sources, 4 regions of 9 cities, 20 reps, opportunities with probability, amount,
expected closing and owner (60 % open, closing from three months ago to six months
ahead; 25 % won, 15 % lost, closed over the 3 years).

Run by run_bench.py (``--analytics-leads/-opps/-invoice-lines``, ``--no-analytics``,
``--analytics-only``); apps/selling/tests/test_bench_analytics.py runs it tiny."""
import datetime
import importlib
import json
import os
import random
import time

import lowcode
from lowcode.context import local

try:  # run from run_bench.py (tests/bench on the path) or imported as tests.bench.bench_analytics
    from bench_report import Figure
    from bench_setup import end_bulk_load, insert_in_batches, start_bulk_load
    from bench_stats import Series, read_tx
except ImportError:  # pragma: no cover - the smoke test imports it as a package module
    from tests.bench.bench_report import Figure
    from tests.bench.bench_setup import end_bulk_load, insert_in_batches, start_bulk_load
    from tests.bench.bench_stats import Series, read_tx

#: the churn-risk report's execute(), written in the selling app; timed when it exists
CHURN = "selling.report.churn_risk.churn_risk.execute"
TARGET_P95_MS = 500.0
DOMAIN = "analytics.example.com"
MANAGER = f"manager@{DOMAIN}"
REPS = 20
SALESPERSON = f"rep0@{DOMAIN}"   # the salesperson timed with their row rule
SOURCES = ("Website", "Referral", "Cold Call", "Trade Show", "Email Campaign", "Partner", "Social Media",
           "Advertisement")
SOURCE_WEIGHTS = (30, 18, 12, 8, 12, 6, 9, 5)
REGIONS, CITIES = 4, 9
ROOT = "All Territories"
LEAD_STATUSES = ("New", "Contacted", "Qualified", "Converted", "Unqualified")
LEAD_STATUS_WEIGHTS = (35, 25, 15, 15, 10)
OPEN_STAGES = (("Prospecting", 10), ("Qualification", 25), ("Proposal", 50), ("Negotiation", 75))
PRODUCTS = 200
CUSTOMERS = 50_000
LINES_PER_INVOICE = 5
DAYS = 3 * 365

LEAD_COLUMNS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "naming_series",
                "first_name", "lead_name", "company_name", "status", "source", "territory", "lead_owner",
                "lead_date")
OPP_COLUMNS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "naming_series", "title",
               "opportunity_from", "party_name", "transaction_date", "sales_stage", "probability",
               "opportunity_amount", "expected_closing", "opportunity_owner", "territory", "source", "closed_on",
               "won_amount", "lead")
CUSTOMER_COLUMNS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "customer_name",
                    "customer_type", "territory", "account_manager")
INVOICE_COLUMNS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "naming_series",
                   "customer", "customer_name", "posting_date", "due_date", "status", "total", "net_total",
                   "total_taxes", "grand_total", "outstanding_amount")
ITEM_COLUMNS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "parent", "parenttype",
                "parentfield", "product", "qty", "rate", "amount")


def _city(i):
    return f"City {i // CITIES}-{i % CITIES}"


CITY_NAMES = [_city(i) for i in range(REGIONS * CITIES)]


def rep(i):
    return f"rep{i}@{DOMAIN}"


def make_world():
    """Roles, users (the manager and the reps), the territory tree with the manager on its
    root, lead sources, products. Committed."""
    db = local.db
    lowcode.set_user("Administrator")
    for role in ("Sales User", "Sales Manager"):
        if not db.exists("Role", role):
            lowcode.get_doc({"doctype": "Role", "role_name": role}).insert()
    lowcode.get_doc({"doctype": "User", "email": MANAGER, "first_name": "Manager",
                     "roles": [{"role": "Sales Manager"}, {"role": "Sales User"}]}).insert()
    for i in range(REPS):
        lowcode.get_doc({"doctype": "User", "email": rep(i), "first_name": f"Rep {i}",
                         "roles": [{"role": "Sales User"}]}).insert()
    lowcode.get_doc({"doctype": "Territory", "territory_name": ROOT, "is_group": 1}).insert()
    for r in range(REGIONS):
        lowcode.get_doc({"doctype": "Territory", "territory_name": f"Region {r}", "is_group": 1,
                         "parent_territory": ROOT, "territory_manager": MANAGER if r == 0 else None}).insert()
        for c in range(CITIES):
            lowcode.get_doc({"doctype": "Territory", "territory_name": f"City {r}-{c}",
                             "parent_territory": f"Region {r}"}).insert()
    for s in SOURCES:
        if not db.exists("Lead Source", s):
            lowcode.get_doc({"doctype": "Lead Source", "source_name": s}).insert()
    for p in range(PRODUCTS):
        lowcode.get_doc({"doctype": "Product", "product_code": f"P-{p:04d}", "product_name": f"Product {p}",
                         "standard_rate": 10 + (p * 37) % 990}).insert()
    db.commit()


def fill(leads, opps, invoice_lines, batch=5000, seed=11, progress=True):
    """The leads, opportunities, customers and submitted invoices. Returns the sizes and
    the seconds it took."""
    db = local.db
    rng = random.Random(seed)
    today = datetime.date.today()
    start = today - datetime.timedelta(days=DAYS)
    stamp = f"{today.isoformat()} 09:00:00.000000"
    importer = f"import@{DOMAIN}"
    commit_rows = 50_000 if db.db_type == "sqlite" else batch
    sqlite_cache = start_bulk_load(db)
    label = (lambda s: s) if progress else (lambda s: None)
    sources = rng.choices(range(len(SOURCES)), SOURCE_WEIGHTS, k=1009)
    statuses = rng.choices(range(len(LEAD_STATUSES)), LEAD_STATUS_WEIGHTS, k=1013)
    t0 = time.perf_counter()

    def day(i, span=DAYS):
        return start + datetime.timedelta(days=(i * 7919 + rng.randrange(span)) % span)

    def lead_row(i):
        d = day(i)
        first = ("Sara", "Ali", "Noa", "Reza", "Maryam", "David")[i % 6]
        created = f"{d.isoformat()} {8 + i % 10:02d}:{i % 60:02d}:00.000000"
        return (f"LEAD-{d.year}-{i:07d}", importer, created, created, importer, 0, 0, "LEAD-.YYYY.-", first,
                f"{first} {i}", f"Company {i % 20000}", LEAD_STATUSES[statuses[i % 1013]],
                SOURCES[sources[i % 1009]], CITY_NAMES[(i * 7) % len(CITY_NAMES)], rep(i % REPS), d.isoformat())
    insert_in_batches("Lead", LEAD_COLUMNS, leads, lead_row, batch, commit_rows, label("leads"))

    def opp_row(i):
        owner = rep(i % REPS)
        # a rep works two cities of their region
        territory = CITY_NAMES[((i % REPS) * 2 + (i // REPS) % 2) % len(CITY_NAMES)]
        kind = rng.random()
        amount = round(rng.lognormvariate(8.5, 1.0), 2)
        created = day(i)
        closed_on = won = None
        if kind < 0.6:
            stage, probability = OPEN_STAGES[rng.randrange(len(OPEN_STAGES))]
            closing = today + datetime.timedelta(days=rng.randrange(-90, 180))
            created = min(created, closing)
        elif kind < 0.85:
            stage, probability, closing = "Won", 100, created + datetime.timedelta(days=rng.randrange(5, 120))
            closed_on, won = closing.isoformat(), amount
        else:
            stage, probability, closing = "Lost", 0, created + datetime.timedelta(days=rng.randrange(5, 120))
            closed_on = closing.isoformat()
        ts = f"{created.isoformat()} 10:00:00.000000"
        lead = f"LEAD-x-{i:07d}"
        return (f"OPP-{created.year}-{i:07d}", importer, ts, ts, importer, 0, 0, "OPP-.YYYY.-", f"Deal {i}", "Lead",
                lead, created.isoformat(), stage, probability, amount, closing.isoformat(), owner, territory,
                SOURCES[sources[i % 1009]], closed_on, won, None)
    insert_in_batches("Opportunity", OPP_COLUMNS, opps, opp_row, batch, commit_rows, label("opportunities"))

    invoices = max(invoice_lines // LINES_PER_INVOICE, 1)
    customers = min(CUSTOMERS, max(invoices // 4, 1))

    def customer_row(i):
        return (f"CUST-{i:06d}", importer, stamp, stamp, importer, 0, 0, f"Customer {i}",
                "Company" if i % 3 else "Individual", CITY_NAMES[i % len(CITY_NAMES)], rep(i % REPS))
    insert_in_batches("Customer", CUSTOMER_COLUMNS, customers, customer_row, batch, commit_rows, None)
    rates = [10 + (p * 37) % 990 for p in range(PRODUCTS)]

    def invoice_row(i):
        # the bigger customers buy more often: a skewed pick of the customer
        c = int(customers * rng.random() ** 2)
        d = day(i)
        lines, total = [], 0.0
        name = f"ACC-SINV-{d.year}-{i:07d}"
        ts = f"{d.isoformat()} 12:00:00.000000"
        for k in range(LINES_PER_INVOICE):
            p = (c * 13 + k * 41 + rng.randrange(7)) % PRODUCTS
            qty = 1 + rng.randrange(5)
            amount = float(qty * rates[p])
            total += amount
            lines.append((f"{name}-{k + 1}", importer, ts, ts, importer, 1, k + 1, name, "Sales Invoice", "items",
                          f"P-{p:04d}", qty, rates[p], amount))
        invoice_row.lines.extend(lines)
        tax = round(total * 0.09, 2)
        paid = d < today - datetime.timedelta(days=60) or rng.random() < 0.5
        return (name, importer, ts, ts, importer, 1, 0, "ACC-SINV-.YYYY.-", f"CUST-{c:06d}", f"Customer {c}",
                d.isoformat(), (d + datetime.timedelta(days=30)).isoformat(), "Paid" if paid else "Unpaid", total,
                total, tax, total + tax, 0 if paid else total + tax)
    invoice_row.lines = []

    # Invoices and their lines batch by batch, so the lines of a batch go in with it.
    db_t = time.perf_counter()
    done = 0
    while done < invoices:
        n = min(batch, invoices - done)
        db.begin()
        rows = [invoice_row(i) for i in range(done, done + n)]
        db.bulk_insert("Sales Invoice", INVOICE_COLUMNS, rows)
        db.bulk_insert("Sales Invoice Item", ITEM_COLUMNS, invoice_row.lines)
        invoice_row.lines = []
        done += n
        db.commit()
        if progress and (done % (batch * 10) < n or done == invoices):
            print(f"  invoices: {done:>10,}/{invoices:,} ({done * LINES_PER_INVOICE:,} lines)  "
                  f"{done / (time.perf_counter() - db_t):>9,.0f} invoices/s", flush=True)
    seconds = time.perf_counter() - t0
    end_bulk_load(db, sqlite_cache, ("Lead", "Opportunity", "Customer", "Sales Invoice", "Sales Invoice Item"))
    return {"seconds": seconds, "leads": leads, "opportunities": opps, "invoices": invoices,
            "invoice_lines": invoices * LINES_PER_INVOICE, "customers": customers}


# -- timing -------------------------------------------------------------------------------------

def churn_report():
    """The churn-risk report's name when the selling app has it, else None."""
    module = CHURN.rsplit(".", 1)[0]
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(mod.__file__), module.rsplit(".", 1)[1] + ".json")
    with open(path) as f:
        return json.load(f)["name"]


def _as(user, fn):
    """fn() as ``user`` in a fresh read transaction, caches cleared as for a new request:
    (result, seconds)."""
    lowcode.set_user(user)
    local.cache.clear()
    return read_tx(fn)


def paths():
    """{name: fn} of what is timed (each fn runs as the current user)."""
    from lowcode import pivot
    from lowcode.api import query_report
    out = {
        "count": lambda: local.db.sql("SELECT COUNT(*) FROM `tabLead`")[0][0],
        "lead_list": lambda: lowcode.get_list("Lead", fields=["name", "lead_name", "status", "source", "modified"],
                                              order_by="modified desc", limit_page_length=20),
        "pivot": lambda: pivot.pivot("Lead", ["source"], "lead_date:month", calendar="Gregorian"),
        "pivot_jalali": lambda: pivot.pivot("Lead", ["source"], "lead_date:month", calendar="Jalali"),
        "forecast": lambda: query_report.run("Sales Forecast", {}),
    }
    churn = churn_report()
    if churn:
        out["churn"] = lambda: query_report.run(churn, {})
    return out


def check(user):
    """The figures agree with plain SQL: the pivot's grand total is the count of leads the
    user may see, by one plain SELECT with the user's whole row condition."""
    from lowcode import pivot
    from lowcode.permissions import match_conditions
    result = _as(user, lambda: pivot.pivot("Lead", ["source"], "lead_date:month", calendar="Gregorian"))[0]

    def plain():
        cond, values = match_conditions("Lead")
        return local.db.sql(f"SELECT COUNT(*) FROM `tabLead` WHERE {cond}", values)[0][0]
    want = int(_as(user, plain)[0])
    lowcode.set_user("Administrator")
    return {"pivot_total": result["grand_total"], "expected": want, "ok": result["grand_total"] == want,
            "rows": len(result["row_keys"]), "columns": len(result["column_keys"])}


def measure(run, reps=20, warmup=3):
    """Time every path as the manager and the salesperson. Fills run["analytics"]."""
    out = {"churn": churn_report() or "not installed", "users": {}}
    for key, user in (("manager", MANAGER), ("salesperson", SALESPERSON)):
        print(f"  as {key} ({user}) x{reps}", flush=True)
        fns = paths()
        checked = check(user)
        forecast_rows = len(_as(user, fns["forecast"])[0]["result"])
        churn_error, churn_at_risk = None, None
        if "churn" in fns:
            # written in parallel by the selling app: a failure is reported, not fatal
            try:
                answer = _as(user, fns["churn"])[0]
                # the report's first summary figure counts every customer at risk (its rows stop at its limit)
                churn_at_risk = (answer.get("report_summary") or [{}])[0].get("value")
            except Exception as e:  # noqa: BLE001 - reported in the figure's notes
                churn_error = f"{type(e).__name__}: {e}"[:200]
                del fns["churn"]
        for _ in range(warmup):
            for fn in fns.values():
                _as(user, fn)
        series = {k: Series(k) for k in fns}
        order = list(fns)
        for i in range(reps):
            for k in order[i % len(order):] + order[:i % len(order)]:
                series[k].add_seconds(_as(user, fns[k])[1])
        out["users"][key] = {"user": user, "check": checked, "forecast_rows": forecast_rows, "churn_error": churn_error,
                             "churn_at_risk": churn_at_risk,
                             "summary": {k: s.summary() for k, s in series.items()}}
    lowcode.set_user("Administrator")
    run["analytics"] = out
    return out


FIGURES = (("pivot", "pivot leads source x month (Gregorian)"), ("pivot_jalali", "pivot leads source x month (Jalali)"),
           ("forecast", "Sales Forecast report"), ("churn", "churn-risk list"))


def figures(run):
    a = run.get("analytics")
    if not a:
        return []
    fill_ = run.get("analytics_fill") or {}
    out = []
    if fill_:
        out.append(Figure("analytics: fill (bulk_insert)", fill_["seconds"], "s",
                          detail=f"{fill_['leads']:,} leads, {fill_['opportunities']:,} opportunities, "
                                 f"{fill_['invoice_lines']:,} invoice lines ({fill_['invoices']:,} invoices, "
                                 f"{fill_['customers']:,} customers)"))
    for key, u in a["users"].items():
        s = u["summary"]
        base = s["count"]["p95_ms"]
        target = key == "manager"   # the target is the Sales Manager's
        for name, label in FIGURES:
            if name not in s:
                out.append(Figure(f"analytics as {key}: {label}", None, "ms",
                                  detail=u.get("churn_error") or f"not installed ({CHURN})"))
                continue
            detail = f"p50 {s[name]['p50_ms']:.2f} ms; lead list p95 {s['lead_list']['p95_ms']:.2f} ms"
            if name == "pivot":
                c = u["check"]
                detail += (f"; {c['rows']} x {c['columns']} cells, total {c['pivot_total']:,}"
                           + ("" if c["ok"] else f" MISMATCH with COUNT(*) {c['expected']:,}"))
            if name == "forecast":
                detail += f"; {u['forecast_rows']} rows"
            if name == "churn" and u.get("churn_at_risk") is not None:
                detail += f"; {u['churn_at_risk']:,} customers at risk"
            ok = s[name]["p95_ms"] < TARGET_P95_MS and (name != "pivot" or u["check"]["ok"])
            out.append(Figure(f"analytics as {key}: {label} p95", s[name]["p95_ms"], "ms", raw=base,
                              target=f"< {TARGET_P95_MS:g} ms" if target else None, ok=ok if target else None,
                              detail=detail))
    return out
