"""Shared pieces of the fault-injection tests (test_fault_*.py): a DocType with a child
table to tell a whole document from a half-written one, free loopback ports, and the
``lowcode`` command run as a real subprocess."""
import os
import socket
import sys
import time

import lowcode

LOWCODE = [sys.executable, "-c", "import sys; from lowcode.cli import main; sys.argv[0] = 'lowcode'; main()"]
PROBE = "Fault Probe"


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
    return db.sql(f"SELECT p.`name`, p.`expected`, COUNT(r.`name`) FROM `tab{PROBE}` p "
                  f"LEFT JOIN `tab{PROBE} Row` r ON r.`parent`=p.`name` AND r.`parenttype`=%s "
                  "GROUP BY p.`name`, p.`expected` HAVING COUNT(r.`name`) != p.`expected`", (PROBE,)) + \
        db.sql(f"SELECT r.`name`, r.`parent`, 0 FROM `tab{PROBE} Row` r LEFT JOIN `tab{PROBE}` p "
               "ON p.`name`=r.`parent` WHERE p.`name` IS NULL")


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
