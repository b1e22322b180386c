#!/usr/bin/env python
"""Screen-pop latency: from the AMI event leaving the PBX to the ``screen_pop`` event
reaching the publish listener (the in-process hook the WebSocket service feeds on), for
calls from numbers stored on Contacts, on each engine.

    .venv/bin/python tests/bench/bench_screen_pop.py                       # 200 calls, both engines
    .venv/bin/python tests/bench/bench_screen_pop.py --calls 50 --contacts 5000 --engines sqlite

A loopback AMI server (crm_app/tests/ami_server.py) sends Newchannel + DialBegin +
Newstate for each call to the real listener (crm_app.telephony.ami.listen); the time is
taken when the events are written and when the pop arrives. The baseline, measured in
the same run, is a bare ``publish_realtime`` in a fresh site context with its commit (the
floor every pop pays). The issue's target is p95 < 300 ms to the browser; the WebSocket
leg is added by the realtime service. Not part of the test suite.
"""
import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import lowcode  # noqa: E402
from lowcode.context import local  # noqa: E402

import bench_setup as setup  # noqa: E402
from bench_stats import Series  # noqa: E402

TARGET_P95_MS = 300.0


def fill_contacts(count):
    """``count`` contacts with Iranian mobiles stored as typed (0912...) and normalised."""
    rows = []
    stamp = "2026-01-01 00:00:00.000000"
    for i in range(count):
        mobile = f"0912{i:07d}"
        rows.append((f"BC-{i:08d}", "Administrator", stamp, stamp, "Administrator", 0, 0,
                     f"Bench {i}", "Contact", f"Bench {i} Contact", mobile, "+98" + mobile[1:]))
    columns = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx",
               "first_name", "last_name", "full_name", "mobile_no", "mobile_e164")
    for start in range(0, count, 5000):
        local.db.bulk_insert("Contact", columns, rows[start:start + 5000])
        local.db.commit()


def run_engine(engine, args):
    from crm_app.tests.ami_server import SECRET, AMIServer, incoming_call
    from lowcode.realtime import add_listener, publish_realtime, remove_listener
    from crm_app.telephony import ami
    bench = tempfile.mkdtemp(prefix="lowcode-bench-pop-")
    site = setup.create_site(bench, engine, apps=("crm_app",))
    server = AMIServer()
    arrived = {}
    lock = threading.Lock()

    def listener(payload):
        if payload.get("site") == site:
            with lock:
                key = payload["message"].get("call_id") if isinstance(payload["message"], dict) else None
                arrived[key] = time.perf_counter()
    add_listener(listener)
    try:
        with lowcode.site_context(site, bench=bench):
            fill_contacts(args.contacts)
            agent = "Administrator"
            settings = lowcode.get_doc("Telephony Settings")
            settings.update({"ami_enabled": 1, "ami_host": "127.0.0.1", "ami_port": server.port,
                             "ami_username": "crm", "ami_secret": SECRET, "default_region": "IR"})
            settings.set("agents", [{"user": agent, "extension": "101"}])
            settings.save()
            local.db.commit()

        # Baseline: a bare publish in its own site context, sent at commit.
        baseline = Series("bare publish")
        for i in range(args.calls):
            t0 = time.perf_counter()
            with lowcode.site_context(site, bench=bench):
                publish_realtime("screen_pop", {"call_id": f"base-{i}"}, user=agent)
                local.db.commit()
            baseline.add_seconds(arrived.pop(f"base-{i}") - t0)

        pops = Series("AMI event -> screen_pop")

        async def calls():
            task = asyncio.create_task(ami.listen(site, bench))
            try:
                while server.logins < 1:
                    await asyncio.sleep(0.01)
                for i in range(args.calls + args.warmup):
                    call_id = f"{1700000000 + i}.{i}"
                    events = incoming_call(call_id, f"98912{(i * 7919) % args.contacts:07d}")
                    t0 = time.perf_counter()
                    server.events(*events["new"], *events["ring"])
                    deadline = t0 + 10
                    while call_id not in arrived and time.perf_counter() < deadline:
                        await asyncio.sleep(0.001)
                    if call_id not in arrived:
                        raise RuntimeError(f"no pop for call {call_id}")
                    if i >= args.warmup:
                        pops.add_seconds(arrived[call_id] - t0)
                    server.events(*events["hangup"])
            finally:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        asyncio.run(calls())
        for series in (baseline, pops):
            s = series.summary()
            print(f"{engine:8} {series.name:26} n={s['n']:4} p50={s['p50_ms']:8.2f} ms  p95={s['p95_ms']:8.2f} ms  "
                  f"p99={s['p99_ms']:8.2f} ms")
        verdict = "PASS" if pops.p95 < TARGET_P95_MS else "MISS"
        print(f"{engine:8} screen pop p95 {pops.p95:.1f} ms (target < {TARGET_P95_MS:.0f} ms without the "
              f"WebSocket leg; {pops.p95 - baseline.p95:+.1f} ms over the bare publish): {verdict}")
        return pops, baseline
    finally:
        remove_listener(listener)
        server.close()
        setup.drop_site(bench, site)
        shutil.rmtree(bench, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--contacts", type=int, default=100000)
    parser.add_argument("--engines", default="sqlite,mariadb")
    args = parser.parse_args()
    lowcode.setup_django()
    failed = False
    for engine in args.engines.split(","):
        try:
            run_engine(engine.strip(), args)
        except Exception as e:  # one engine failing does not hide the other's figures
            failed = True
            print(f"{engine}: failed: {e!r}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
