"""Load: many simulated CRM users at once against the whole stack (issue 13).

A MariaDB site with crm_app and Redis, filled as the row-permission phase fills it
(bench_roles.fill: N leads, most owned by 200 reps, notes), plus 40 of those reps as Sales
Users with API tokens, a Sales Manager and a System Manager. Then, on this machine:

- the stack: ``lowcode start`` with 2 web processes and 2 RQ workers on the site's Redis,
  the scheduler and the realtime service; lists, counts, reports and link search read from
  the project's MariaDB replica when ``scripts/services.sh`` runs one;
- users: locust, headless (tests/bench/locust_crm.py): salespeople listing, searching,
  opening, creating and updating leads and opportunities and logging calls, managers
  opening the pipeline and funnel reports, an admin adding a custom field to Lead in the
  middle of the run.

Reported per action: requests, throughput, p50/p95/p99 and failures; the number of 5xx;
and what the database holds afterwards: every create the server acknowledged is there
exactly once, and the leads named by the series during the run have consecutive numbers
(no gap, no repeat) that end at the series' counter.

Run by run_bench.py (``--load-only``, ``--load-users``, ``--load-seconds``, ``--load-leads``)."""
import csv
import json
import os
import subprocess
import sys
import time
import uuid

import lowcode
from lowcode.context import local

import bench_http  # noqa: F401 - puts the repository root on the path, for tests.server
import bench_roles as roles
from bench_report import Figure
from lowcode import sites
from lowcode.testing.pytest_plugin import replica_monitor
from tests.server import UvicornServer, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
REPS = 40                  # of bench_roles' 200 lead owners, the ones who log in
TARGET_P95_MS = 100.0      # list and form actions
LIST_AND_FORM = ("lead: list", "lead: search", "lead: open", "lead: create", "lead: update", "opportunity: list",
                 "opportunity: open", "opportunity: create", "call: log", "lead: list (manager)")
COUNTED = {"Lead": "first_name", "Opportunity": "title", "Call Log": "notes"}  # where each create's marker is


def make_world(customers=20):
    """Users with API tokens (committed): {"sales": [[key, secret]...], "managers": [...], "admin": [...],
    "customers": [names]}. Call after roles.make_world() and roles.fill()."""
    from lowcode import auth
    lowcode.set_user("Administrator")
    sales = []
    for i in range(REPS):
        email = f"rep{i}@{roles.DOMAIN}"
        lowcode.get_doc({"doctype": "User", "email": email, "first_name": f"Rep {i}",
                         "roles": [{"role": "Sales User"}]}).insert()
        sales.append(list(auth.generate_keys(email)))
    names = [lowcode.get_doc({"doctype": "Customer", "customer_name": f"Load Customer {i}"}).insert().name
             for i in range(customers)]
    local.db.commit()
    return {"sales": sales, "customers": names}


class Stack(UvicornServer):
    """``lowcode start``: web processes, RQ workers, the scheduler and the realtime service,
    as production runs them (lowcode/stack.py); ready once the web port answers."""

    def __init__(self, bench, site, log_path, web_processes, workers):
        super().__init__(bench, log_path)
        self.site, self.web_processes, self.workers = site, web_processes, workers
        sites.update_common_config({"socketio_port": free_port()}, bench)  # never a port in use

    def command(self):
        # --site: the workers and the scheduler work for the load's site alone (the bench
        # may hold other phases' sites, whose nightly jobs must not run in the middle)
        return [sys.executable, "-m", "lowcode", "--site", self.site, "start", "--port", str(self.port),
                "--web-processes", str(self.web_processes), "--workers", str(self.workers)]


def use_replica(bench, site):
    """The site reads lists, counts, reports and link search from the project's replica when
    ``scripts/services.sh`` runs one (LOWCODE_TEST_MARIADB_REPLICA_PORT); returns its port. Its
    lag is read with the bench-wide monitor account services.sh makes (LOWCODE_MARIADB_MONITOR_*)."""
    port = os.environ.get("LOWCODE_TEST_MARIADB_REPLICA_PORT")
    if port:
        sites.update_common_config(replica_monitor(), bench)
        path = os.path.join(bench, site, "site_config.json")
        conf = sites.read_json(path)
        conf.update({"read_from_replica": 1, "replica_host": "127.0.0.1", "replica_db_port": int(port)})
        sites.write_json(path, conf)
    return int(port) if port else None


def run_locust(conf_path, url, users, seconds, csv_prefix, log_path):
    rate = max(1, users // 10)  # all users in within about 10 s
    cmd = [sys.executable, "-m", "locust", "-f", os.path.join(HERE, "locust_crm.py"), "--headless", "--only-summary",
           "-u", str(users), "-r", str(rate), "-t", f"{seconds}s", "--host", url, "--csv", csv_prefix,
           "--stop-timeout", "10", "--exit-code-on-error", "0"]
    with open(log_path, "ab") as log:
        subprocess.run(cmd, env=dict(os.environ, LOWCODE_LOAD_CONF=conf_path), stdout=log, stderr=subprocess.STDOUT,
                       check=True, timeout=seconds + 120)


def read_stats(csv_prefix):
    """{action: {requests, failures, rps, p50, p95, p99}} from locust's stats file (ms)."""
    out = {}
    with open(f"{csv_prefix}_stats.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out[row["Name"]] = {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                                "rps": float(row["Requests/s"]), "p50": float(row["50%"]),
                                "p95": float(row["95%"]), "p99": float(row["99%"])}
    return out


def check_writes(acked, marker, series_key):
    """What the database holds: acknowledged creates missing or doubled, unacknowledged
    ones written (a client gave up while the server went on: not an error), and the
    numbers of the leads the series named during the run."""
    db = local.db
    db.begin(write=False)
    missing, doubled, extra = [], [], 0
    for doctype, field in COUNTED.items():
        rows = db.sql(f"SELECT `name`, `{field}` FROM `tab{doctype}` WHERE `{field}` LIKE %s", (f"{marker}-%",))
        by_marker = {}
        for name, value in rows:
            by_marker.setdefault(value, []).append(name)
        mine = {m: n for d, n, m in acked if d == doctype}
        for m, name in mine.items():
            found = by_marker.get(m, [])
            if found != [name]:
                (missing if not found else doubled).append([doctype, name, found])
        extra += len(set(by_marker) - set(mine))
    prefix = series_key
    numbers = sorted(int(n[len(prefix):]) for n in db.sql(
        "SELECT `name` FROM `tabLead` WHERE `name` LIKE %s AND LENGTH(`name`)=%s",
        (f"{prefix}%", len(prefix) + 5), pluck=True))
    current = db.sql("SELECT `current` FROM `tabSeries` WHERE `name`=%s", (prefix,))
    db.commit()
    gaps = [n for n in range(numbers[0], numbers[-1] + 1) if n not in set(numbers)] if numbers else []
    return {"acked": len(acked), "missing": missing, "doubled": doubled, "unacknowledged_written": extra,
            "series_numbers": len(numbers), "series_gaps": gaps[:20], "series_gap_count": len(gaps),
            "series_key": series_key, "series_current": int(current[0][0]) if current else None,
            "series_last": numbers[-1] if numbers else None}


def measure(run, bench, site, tokens, users, seconds, web_workers=2, rq_workers=2):
    """``tokens``: roles.make_world()'s, for the manager and the admin."""
    world = make_world()
    marker = f"load{uuid.uuid4().hex[:6]}"
    conf = {"site": site, "sales": world["sales"], "customers": world["customers"],
            "managers": [list(tokens["manager"])], "admin": list(tokens["system_mgr"]),
            "marker": marker, "custom_field_at": seconds / 2, "out": os.path.join(bench, "load-out.json")}
    conf_path = os.path.join(bench, "load-conf.json")
    with open(conf_path, "w", encoding="utf-8") as f:
        json.dump(conf, f)
    replica = use_replica(bench, site)
    server = Stack(bench, site, os.path.join(bench, "stack-load.log"), web_workers, rq_workers)
    try:
        server.start(timeout=120)
        csv_prefix = os.path.join(bench, "load")
        started = time.perf_counter()
        run_locust(conf_path, server.url, users, seconds, csv_prefix, os.path.join(bench, "locust.log"))
        wall = time.perf_counter() - started
    finally:
        server.stop()
    with open(conf["out"], encoding="utf-8") as f:
        out = json.load(f)
    stats = read_stats(csv_prefix)
    series_key = f"LEAD-{time.strftime('%Y')}-"
    run["load"] = {"users": users, "seconds": seconds, "wall": wall, "marker": marker, "replica_port": replica, "web_workers": web_workers,
                   "rq_workers": rq_workers, "stats": stats, "server_errors": out["server_errors"][:20],
                   "server_error_count": len(out["server_errors"]), "custom_field": out["custom_field"],
                   "writes": check_writes(out["acked"], marker, series_key)}
    return run["load"]


def figures(run):
    e = run.get("load")
    if not e:
        return []
    out = []
    total = e["stats"].get("Aggregated", {})
    out.append(Figure("load: throughput, all actions", total.get("rps", 0), "req/s",
                      detail=f"{e['users']} users for {e['seconds']}s; {total.get('requests', 0):,} requests, "
                             f"{total.get('failures', 0):,} failed; lowcode start: {e['web_workers']} web + "
                             f"{e['rq_workers']} RQ workers, scheduler, realtime; "
                             + (f"reads from the replica on port {e['replica_port']}" if e.get("replica_port")
                                else "no replica")))
    out.append(Figure("load: 5xx answers", e["server_error_count"], "", target="0", ok=e["server_error_count"] == 0,
                      detail="; ".join(f"{n} {s}" for n, s, _ in e["server_errors"][:3])))
    for name, s in sorted(e["stats"].items()):
        if name == "Aggregated":
            continue
        target = name in LIST_AND_FORM
        out.append(Figure(f"load: {name} p95", s["p95"], "ms", target=f"< {TARGET_P95_MS:.0f} ms" if target else None,
                          ok=(s["p95"] < TARGET_P95_MS) if target else None,
                          detail=f"p50 {s['p50']:.0f} / p99 {s['p99']:.0f} ms; {s['requests']:,} requests "
                                 f"({s['rps']:.1f}/s), {s['failures']} failed"))
    w = e["writes"]
    lost = len(w["missing"]) + len(w["doubled"])
    out.append(Figure("load: acknowledged creates lost or doubled", lost, "", target="0", ok=lost == 0,
                      detail=f"{w['acked']:,} acknowledged; {w['unacknowledged_written']} written unacknowledged"))
    series_ok = w["series_gap_count"] == 0 and w["series_last"] == w["series_current"]
    out.append(Figure("load: series gaps (leads named in the run)", w["series_gap_count"], "", target="0",
                      ok=series_ok, detail=f"{w['series_numbers']:,} numbers, last {w['series_last']}, "
                                           f"counter {w['series_current']}"))
    cf = e["custom_field"]
    out.append(Figure("load: admin adds a custom field mid-run", cf.get("seconds", 0) * 1000, "ms",
                      ok=cf.get("status") == 200, target="200", detail=f"status {cf.get('status')}"))
    return out
