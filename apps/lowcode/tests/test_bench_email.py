"""The e-mail benchmark's phase (tests/bench/bench_email.py) with 20 messages: it runs,
every message reaches the loopback server once, and it reports its figures. The real
run (10,000 messages) is ``make bench`` only."""
from tests.bench import bench_email


def test_email_bench_phase_runs_with_a_few_messages(ctx, unique):
    run = {}
    figures = bench_email.measure(run, 20, tag=unique)  # raises when a message is lost or doubled
    assert figures["n"] == 20 and figures["flush_calls"] >= 2
    assert all(figures[k] > 0 for k in ("raw_per_s", "queue_per_s", "flush_per_s", "total_per_s"))
    assert [f.label for f in bench_email.figures(run)][0].startswith("e-mail raw smtplib")
    assert ctx.db.sql("SELECT COUNT(*) FROM `tabEmail Queue` WHERE `sender`=%s AND `status`='Sent'",
                      (f"bench-{unique}@example.com",))[0][0] == 20


def test_the_bench_table_prints_its_rows_and_title(capsys):
    """The report the bench prints: one line per figure, the table size only when known."""
    import sys
    import os
    sys.path.insert(0, os.path.dirname(bench_email.__file__))  # the bench's modules import each other so
    from tests.bench.bench_report import print_table
    figure = {"figure": "e-mail flush", "value": 700.0, "unit": "msgs/s", "target": None, "ratio_vs_raw": 0.5,
              "raw": 1400.0, "result": None, "detail": "10 calls"}
    print_table({"engine": "sqlite", "rows": None, "site": "s", "figures": [figure]})
    out = capsys.readouterr().out
    assert "sqlite (), site s" in out and "| e-mail flush" in out and "0.50x raw (1,400 msgs/s)" in out
    print_table({"engine": "mariadb", "rows": 1_000_000, "site": "m", "figures": [figure]})
    assert "mariadb (), 1,000,000 rows, site m" in capsys.readouterr().out
