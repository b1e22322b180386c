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
