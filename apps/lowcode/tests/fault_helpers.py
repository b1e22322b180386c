"""Shared pieces of the fault-injection tests (test_fault_*.py): a DocType with a child
table to tell a whole document from a half-written one, free loopback ports, and the
``lowcode`` command run as a real subprocess."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import lowcode

LOWCODE = [sys.executable, "-c", "import sys; from lowcode.cli import main; sys.argv[0] = 'lowcode'; main()"]
PROBE = "Fault Probe"
SERVICES_SH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))), "scripts", "services.sh")


def make_probe_doctypes():
    """``Fault Probe`` (named by its unique ``marker``, ``expected`` = how many rows it was
    sent with) and its child table ``Fault Probe Row``, in the current site context."""
    lowcode.get_doc({"doctype": "DocType", "name": f"{PROBE} Row", "module": "Custom", "istable": 1,
                     "fields": [{"fieldname": "n", "fieldtype": "Int", "label": "N"}]}).insert()
    lowcode.get_doc({"doctype": "DocType", "name": PROBE, "module": "Custom", "autoname": "field:marker",
                     "fields": [{"fieldname": "marker", "fieldtype": "Data", "label": "Marker", "unique": 1},
                                {"fieldname": "expected", "fieldtype": "Int", "label": "Expected"},
                                {"fieldname": "rows", "fieldtype": "Table", "options": f"{PROBE} Row",
                                 "label": "Rows"}],
                     "permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1}]}).insert()
    lowcode.local.db.commit()


def probe_doc(marker, rows):
    return {"doctype": PROBE, "marker": marker, "expected": rows, "rows": [{"n": i} for i in range(rows)]}


def half_written(db):
    """Probes whose child rows do not match what they were sent with, and rows without a parent."""
    return list(db.sql(f"SELECT p.`name`, p.`expected`, COUNT(r.`name`) FROM `tab{PROBE}` p "
                  f"LEFT JOIN `tab{PROBE} Row` r ON r.`parent`=p.`name` AND r.`parenttype`=%s "
                  "GROUP BY p.`name`, p.`expected` HAVING COUNT(r.`name`) != p.`expected`", (PROBE,))) + \
        list(db.sql(f"SELECT r.`name`, r.`parent`, 0 FROM `tab{PROBE} Row` r LEFT JOIN `tab{PROBE}` p "
               "ON p.`name`=r.`parent` WHERE p.`name` IS NULL"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subprocess_env():
    env = dict(os.environ)
    env.pop("LOWCODE_DEBUG", None)
    env.pop("LOWCODE_SITES", None)  # commands find the bench by --sites-path
    return env


def wait_for(check, timeout, what):
    """Poll ``check()`` until it returns something true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class PrivateServices:
    """A MariaDB and/or Redis of the test's own (scripts/services.sh with its own run
    directory and free ports), to stop, restart or kill without touching the shared ones."""

    def __init__(self):
        self.run_dir = tempfile.mkdtemp(prefix="lowcode-fault-")
        self.mariadb_port, self.redis_port = free_port(), free_port()
        self.env = dict(os.environ, LOWCODE_RUN_DIR=self.run_dir, LOWCODE_MARIADB_PORT=str(self.mariadb_port),
                        LOWCODE_REDIS_PORT=str(self.redis_port), LOWCODE_MARIADB_BUFFER_POOL="32M",
                        LOWCODE_MARIADB_LOG_FILE_SIZE="16M", LOWCODE_SERVICES_TIMEOUT="30")
        self.started = set()

    def services(self, command, *services):
        subprocess.run(["bash", SERVICES_SH, command, *services], env=self.env, check=True, timeout=120,
                       stdout=subprocess.DEVNULL)
        if command == "start":
            self.started.update(services)

    @property
    def redis_url(self):
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def mariadb_root(self):
        """new_site's keyword arguments for a site on this MariaDB."""
        return {"db_root_username": self.env.get("LOWCODE_MARIADB_ROOT_USER", "lowcode_root"),
                "db_root_password": self.env.get("LOWCODE_MARIADB_ROOT_PASSWORD", "lowcode_root_pw"),
                "db_host": "127.0.0.1", "db_port": self.mariadb_port}

    def close(self):
        try:
            if self.started:
                self.services("stop", *sorted(self.started))
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def queue_mail_and_webhook(journal, probe, recipient):
    """A background job for test_fault_worker_kill: queues an e-mail, saves ``probe`` (its
    on_update webhook fires), commits, and on its first run lingers so the test can kill
    its worker after the side effects were committed. ``journal`` gets a line per step."""
    def note(line):
        with open(journal, "a") as f:
            f.write(f"{line} {os.getpid()}\n")
    note("started")
    lowcode.sendmail(recipients=[recipient], subject=f"Probe {probe}", message="<p>Sent once</p>",
                     reference_doctype=PROBE, reference_name=probe)
    doc = lowcode.get_doc(PROBE, probe)
    doc.expected = len(doc.rows)  # a save: the webhook's on_update
    doc.save()
    lowcode.local.db.commit()  # the e-mail and webhook jobs go to the queue now
    with open(journal) as f:
        first_run = sum(line.startswith("started") for line in f) == 1
    note("committed")
    if first_run:
        time.sleep(120)  # killed in here
    note("done")
