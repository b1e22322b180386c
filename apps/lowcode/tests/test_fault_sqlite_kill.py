"""Fault: a process killed (SIGKILL) while it writes documents to a SQLite site. The database
must open afterwards, pass ``PRAGMA integrity_check``, hold every document whose commit was
acknowledged, and no half-written one (a parent without all its child rows, or orphan rows).
SQLite in WAL mode (sqlite.py) gives this; the test keeps it so."""
import random
import signal
import subprocess
import sys

import pytest

import lowcode
from lowcode.testing.pytest_plugin import create_site, drop_site

from .fault_helpers import PROBE, half_written, make_probe_doctypes, subprocess_env

# Writes probes in a loop, one transaction each, and prints a marker once its commit returned.
WRITER = """
import sys, lowcode
from lowcode.tests.fault_helpers import probe_doc
site, bench, round_ = sys.argv[1:4]
with lowcode.site_context(site, bench=bench) as local:
    i = 0
    while True:
        marker = f"r{round_}-{i}"
        lowcode.get_doc(probe_doc(marker, 1 + i % 7)).insert()
        local.db.commit()
        print(marker, flush=True)
        i += 1
"""


@pytest.fixture
def sqlite_probe_site(tmp_path):
    bench = str(tmp_path)
    site = create_site(bench, "sqlite", apps=())
    with lowcode.site_context(site, bench=bench):
        make_probe_doctypes()
    yield site, bench
    drop_site(bench, site)


def test_sigkill_during_writes_leaves_a_whole_database(sqlite_probe_site):
    site, bench = sqlite_probe_site
    rng = random.Random()
    acknowledged = []
    for round_ in range(6):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, site, bench, str(round_)], env=subprocess_env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = writer.stdout.readline().strip()  # it is writing now
            assert first, writer.stderr.read()
            acknowledged.append(first)
            # Somewhere in the next writes (inserts, commits, WAL appends): at random.
            try:
                writer.wait(timeout=rng.uniform(0.05, 0.6))
            except subprocess.TimeoutExpired:
                pass
            writer.send_signal(signal.SIGKILL)
            out, err = writer.communicate(timeout=10)
        finally:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
        assert writer.returncode == -signal.SIGKILL, err  # it was still writing when killed
        acknowledged += out.split()
        with lowcode.site_context(site, bench=bench) as local:
            assert local.db.sql("PRAGMA integrity_check") == [("ok",)]
            assert half_written(local.db) == []
            stored = set(local.db.sql(f"SELECT `name` FROM `tab{PROBE}`", pluck=True))
            assert set(acknowledged) <= stored, set(acknowledged) - stored
    assert len(acknowledged) > 6, acknowledged  # the writer got well into its loop each time
