"""Data Import at scale: N of the CRM's leads from an XLSX file, on a site with crm_app.

- raw: the same N rows written with ``local.db.bulk_insert`` (values ready, names made
  here, 5,000 per call): the baseline, nothing of the document path;
- import: the XLSX file through Data Import (``import_file``: read with python-calamine,
  every cell normalised and checked, each lead inserted through Document.insert with
  validation, naming series, permissions and the apps' hooks on, a savepoint per group
  of rows), as a System Manager, committed every 500 rows as the job does.

Reported: rows/s of each (target: import at least 1,000 rows/s), the file's size, and
that the import wrote exactly N leads with no failed row.

Run by run_bench.py (``--import-rows``, ``--no-import``, ``--import-only``); also run with a
tiny N by apps/lowcode/core/doctype/data_import/test_data_import.py."""
import os
import random
import tempfile
import time
import uuid

import lowcode
from lowcode.context import local

try:  # run from run_bench.py (tests/bench on the path) or imported as tests.bench.bench_import
    from bench_report import Figure
    from bench_stats import StatementLog
except ImportError:  # pragma: no cover - the smoke test imports it as a package module
    from tests.bench.bench_report import Figure
    from tests.bench.bench_stats import StatementLog

TARGET_ROWS_PER_S = 1000
HEADER = ["First Name", "Last Name", "Email", "Mobile", "Company Name", "Status", "Lead Date", "City"]
FIELDS = ["first_name", "last_name", "email_id", "mobile_no", "company_name", "status", "lead_date", "city"]
FIRST = ["Sara", "Dana", "Ali", "Noa", "Reza", "Maryam", "Yossi", "سارا", "علی", "נועה"]
LAST = ["Cohen", "Levi", "Ahmadi", "Karimi", "Mizrahi", "رضایی", "כהן"]
STATUSES = ["New"]  # the Lead workflow starts every new lead in New


def rows(n, seed=7):
    rnd = random.Random(seed)
    for i in range(n):
        yield [rnd.choice(FIRST), rnd.choice(LAST), f"lead{i}@example.com", f"+98912{i % 10_000_000:07d}",
               f"Company {i % 5000}", rnd.choice(STATUSES), f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
               rnd.choice(["Tehran", "Haifa", "Shiraz"])]


def write_xlsx(n, path):
    import openpyxl
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Leads")
    sheet.append(HEADER)
    for row in rows(n):
        sheet.append(row)
    book.save(path)
    return os.path.getsize(path)


def raw_insert(n, batch=5000):
    """Seconds to bulk insert the n rows straight into tabLead (the baseline), then removed."""
    from lowcode.utils import now
    ts, tag = now(), uuid.uuid4().hex[:6]
    columns = ["name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "naming_series"] + FIELDS
    started = time.perf_counter()
    chunk = []
    for i, row in enumerate(rows(n)):
        chunk.append([f"RAW-{tag}-{i}", "Administrator", ts, ts, "Administrator", 0, 0, "LEAD-.YYYY.-"] + row)
        if len(chunk) == batch:
            local.db.bulk_insert("Lead", columns, chunk)
            chunk = []
    if chunk:
        local.db.bulk_insert("Lead", columns, chunk)
    local.db.commit()
    seconds = time.perf_counter() - started
    local.db.sql("DELETE FROM `tabLead` WHERE `name` LIKE %s", (f"RAW-{tag}-%",))
    local.db.commit()
    return seconds


def importer_user():
    email = f"importer-{uuid.uuid4().hex[:6]}@example.com"
    lowcode.get_doc({"doctype": "User", "email": email, "first_name": "Importer",
                     "roles": [{"role": "System Manager"}]}).insert()
    local.db.commit()
    return email


def measure(run, n):
    """Fill run["import"] with the raw and the import figures for n leads."""
    from lowcode.core.doctype.data_import.data_import import failed_logs, import_file
    folder = tempfile.mkdtemp(prefix="bench-import-")
    path = os.path.join(folder, "leads.xlsx")
    size = write_xlsx(n, path)
    raw_seconds = raw_insert(n)
    user = importer_user()
    before = local.db.sql("SELECT COUNT(*) FROM `tabLead`")[0][0]
    lowcode.set_user(user)
    try:
        with StatementLog(local.db) as statements:  # round trips per lead (what a networked database pays for)
            started, cpu = time.perf_counter(), time.process_time()
            doc = import_file("Lead", path, mute_emails=True)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        lowcode.set_user("Administrator")
    local.db.commit()
    written = local.db.sql("SELECT COUNT(*) FROM `tabLead`")[0][0] - before
    failed = failed_logs(doc.name)
    if written != n or failed:
        raise RuntimeError(f"the import wrote {written} of {n} leads; failed rows: {failed[:3]}")
    os.remove(path)
    os.rmdir(folder)
    run["import"] = {"n": n, "file_bytes": size, "raw_seconds": raw_seconds, "raw_per_s": n / raw_seconds,
                     "import_seconds": seconds, "import_per_s": n / seconds, "status": doc.status,
                     # this process's CPU alone (SQLite's work included, MariaDB's server not): on a
                     # busy machine the wall figure is shared with other processes
                     "import_cpu_seconds": cpu, "import_per_cpu_s": n / cpu if cpu else None,
                     "statements_per_row": statements.count / n}
    return run["import"]


def figures(run):
    e = run.get("import")
    if not e:
        return []
    raw = e["raw_per_s"]
    return [
        Figure("import: raw bulk insert of the same leads", raw, "rows/s", raw=raw,
               detail=f"{e['n']:,} rows in {e['raw_seconds']:.1f}s"),
        Figure("import: Data Import of an XLSX (validation on)", e["import_per_s"], "rows/s", raw=raw,
               target=f">= {TARGET_ROWS_PER_S:,} rows/s", ok=e["import_per_s"] >= TARGET_ROWS_PER_S,
               detail=f"{e['n']:,} leads in {e['import_seconds']:.1f}s from a {e['file_bytes'] / 1e6:.1f} MB file; "
                      f"{e['import_per_cpu_s'] or 0:,.0f} rows per CPU second of this process; "
                      f"{e.get('statements_per_row', 0):.1f} statements a lead"),
    ]
