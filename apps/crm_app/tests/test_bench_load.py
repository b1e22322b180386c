"""make bench's load phase (tests/bench/bench_load.py) with a few users for a few seconds:
the same code path as the 200-user run, against real web and RQ worker processes, real
MariaDB and Redis, with locust. Checks what the phase reports and that its own checks can
see a lost write."""
import os
import sys

import pytest

import lowcode

BENCH_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                         "tests", "bench")


@pytest.fixture
def load_bench():
    sys.path.insert(0, BENCH_DIR)
    try:
        import bench_load
        import bench_roles
        yield bench_load, bench_roles
    finally:
        sys.path.remove(BENCH_DIR)


@pytest.mark.parametrize("site_with_apps", ["mariadb"], indirect=True)  # the phase runs on MariaDB with Redis
def test_load_phase_smoke(site_with_apps, bench, load_bench):
    bench_load, roles = load_bench
    site = site_with_apps("crm_app")
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
        labels = [f.label for f in bench_load.figures(run)]
        assert "load: acknowledged creates lost or doubled" in labels and "load: lead: list p95" in labels
        # the checks see a lost write: the newest acknowledged lead deleted behind their back
        lead = max(found_acked(bench, "Lead"), key=lambda a: a[1])
        lowcode.db.sql("DELETE FROM `tabLead` WHERE `name`=%s", (lead[1],))
        lowcode.db.commit()
        again = bench_load.check_writes(acked(bench), run["load"]["marker"], writes["series_key"])
        assert [m[1] for m in again["missing"]] == [lead[1]]
        assert again["series_last"] != again["series_current"]  # the series' last number is not in the table


def acked(bench):
    import json
    with open(os.path.join(bench, "load-out.json"), encoding="utf-8") as f:
        return json.load(f)["acked"]


def found_acked(bench, doctype):
    return [a for a in acked(bench) if a[0] == doctype]
