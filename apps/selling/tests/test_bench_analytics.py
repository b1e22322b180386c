"""make bench's analytics phase (tests/bench/bench_analytics.py) on a tiny site of its own:
the same fill and timing code, its check that the pivot's total is what the user may see,
and its figures. The real run (1M leads, 200k opportunities, 1M invoice lines) is
``make bench`` only."""
import lowcode

from tests.bench import bench_analytics


def test_analytics_phase_fills_times_and_checks_a_tiny_site(site_with_apps, bench):
    site = site_with_apps("selling")
    with lowcode.site_context(site, bench=bench) as local:
        local.db.commit()
        bench_analytics.make_world()
        run = {"analytics_fill": bench_analytics.fill(300, 100, 100, batch=40, progress=False)}
        assert local.db.sql("SELECT COUNT(*) FROM `tabSales Invoice Item`")[0][0] == 100   # 20 invoices x 5 lines
        assert local.db.sql("SELECT COUNT(*) FROM `tabSales Invoice` WHERE `docstatus`=1")[0][0] == 20
        a = bench_analytics.measure(run, reps=2, warmup=1)
        manager, rep = a["users"]["manager"], a["users"]["salesperson"]
        # Lead i is in city (7 i mod 36); the manager's region holds cities 0-8. 7 is prime to 36, so
        # each 36 leads give 9 of the region: 8 x 9 = 72 for leads 0-287; of 288 + j (j = 0..11),
        # 7 j mod 36 = 0, 7, 14, 21, 28, 35, 6, 13, 20, 27, 34, 5 has 4 in 0-8: 72 + 4 = 76
        assert manager["check"] == {"pivot_total": 76, "expected": 76, "ok": True, "rows": manager["check"]["rows"],
                                    "columns": manager["check"]["columns"]}
        # rep0 is lead owner of leads 0, 20, ..., 280: 15
        assert rep["check"]["pivot_total"] == 15 and rep["check"]["ok"]
        assert set(manager["summary"]) >= {"count", "lead_list", "pivot", "pivot_jalali", "forecast"}
        assert all(manager["summary"][k]["n"] == 2 for k in manager["summary"])
        labels = [f.label for f in bench_analytics.figures(run)]
        assert "analytics as manager: pivot leads source x month (Gregorian) p95" in labels
        # the selling app is installed: the churn list is timed, and says how many customers it found
        assert "churn" in manager["summary"] and manager["churn_error"] is None
        assert isinstance(manager["churn_at_risk"], int) and manager["churn_at_risk"] >= 0
