"""make bench's load phase (tests/bench/bench_load.py) with a few users for a few seconds:
the same code path as the 200-user run, against `lowcode start` (web and RQ worker
processes, scheduler, realtime), real MariaDB and Redis, with locust. On a bench of its own,
as the benchmark's: the stack's scheduler and workers must not touch the suite's sites.
Checks what the phase reports and that its own checks can see a lost write."""
import json
import os
import shutil
import sys
import tempfile
import uuid

import lowcode

from tests.services import mariadb_root, redis_url

BENCH_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                         "tests", "bench")


def test_load_phase_smoke():
    from lowcode import installer
    sys.path.insert(0, BENCH_DIR)
    bench = tempfile.mkdtemp(prefix="lc-load-smoke-")
    site = f"load-{uuid.uuid4().hex[:6]}.localhost"
    try:
        import bench_load
        import bench_roles as roles
        installer.new_site(site, bench=bench, db_type="mariadb", admin_password="admin", install_apps=("crm_app",),
                           extra_config={"redis_cache": redis_url()}, **mariadb_root())
        run = {}
        with lowcode.site_context(site, bench=bench):
            tokens = roles.make_world()
            roles.fill(1000, progress=False)
            found = bench_load.measure(run, bench, site, tokens, users=6, seconds=12)
            stats = found["stats"]
            assert stats["Aggregated"]["requests"] > 10 and stats["lead: list"]["requests"] > 0
            writes = found["writes"]
            assert found["server_error_count"] == 0, found["server_errors"]
            assert writes["acked"] > 0 and not writes["missing"] and not writes["doubled"]
            assert writes["series_gap_count"] == 0 and writes["series_last"] == writes["series_current"]
            assert found["custom_field"]["status"] == 200
            # the replica named by scripts/services.sh (make test starts one) served the reads
            assert found["replica_port"] == int(os.environ["LOWCODE_TEST_MARIADB_REPLICA_PORT"])
            # ... with its lag readable by the bench's monitor account (else every read is the primary's)
            from lowcode.database.replicas import replica_status
            from lowcode.sites import get_site_config
            assert [r["ok"] for r in replica_status(get_site_config(site, bench))] == [True]
            labels = [f.label for f in bench_load.figures(run)]
            assert "load: acknowledged creates lost or doubled" in labels and "load: lead: list p95" in labels
            # the checks see a lost write: the newest acknowledged create deleted behind their back
            # (a lead's, when a few users in a few seconds made one: the series then misses its last number)
            with open(os.path.join(bench, "load-out.json"), encoding="utf-8") as f:
                acked = json.load(f)["acked"]
            leads = [a for a in acked if a[0] == "Lead"]
            doctype, name, _ = max(leads or acked, key=lambda a: a[1])
            lowcode.db.sql(f"DELETE FROM `tab{doctype}` WHERE `name`=%s", (name,))
            lowcode.db.commit()
            again = bench_load.check_writes(acked, run["load"]["marker"], writes["series_key"])
            assert [m[1] for m in again["missing"]] == [name]
            assert (again["series_last"] != again["series_current"]) == bool(leads)
    finally:
        sys.path.remove(BENCH_DIR)
        root = mariadb_root()
        try:
            installer.drop_site(site, bench, quiet=True, root_user=root["db_root_username"],
                                root_password=root["db_root_password"])
        finally:
            shutil.rmtree(bench, ignore_errors=True)
