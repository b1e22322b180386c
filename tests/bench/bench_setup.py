"""Setting up the benchmark: the project's services, a site per engine in a temporary
bench, the "Bench Lead" DocType with its small "Bench Source" link target, a user with
an API token, and the bulk fill of N rows.

Sites are made the way the test suite makes them (conftest.py: ``create_site``): a
MariaDB site gets the project's Redis as ``redis_cache``, a SQLite site gets none.
"""
import datetime
import os
import random
import sys
import time
import uuid

import lowcode
from lowcode.context import local

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from tests.services import mariadb_root, redis_url  # noqa: E402 - the repository root is on the path now

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LEAD = "Bench Lead"
SOURCE = "Bench Source"
STATUSES = ("Open", "Contacted", "Qualified", "Converted", "Unqualified")
STATUS_WEIGHTS = (30, 25, 20, 15, 10)
SOURCES = ("Website", "Referral", "Cold Call", "Trade Show", "Email Campaign", "Partner",
           "Social Media", "Advertisement")
TERRITORIES = ("Tehran", "Isfahan", "Shiraz", "Tabriz", "Mashhad", "Karaj", "Qom", "Ahvaz",
               "Tel Aviv", "Haifa", "Jerusalem", "Beersheba", "Dubai", "Istanbul", "Berlin",
               "London", "Paris", "Madrid", "Rome", "Vienna")
FIRST = ("Sara", "Ali", "Maryam", "Reza", "Noa", "David", "Leila", "Omid", "Yael", "Amir",
         "Dana", "Hossein", "Tamar", "Mehdi", "Roya", "Eitan", "Shirin", "Arash", "Maya", "Kian")
LAST = ("Ahmadi", "Cohen", "Karimi", "Levi", "Hosseini", "Mizrahi", "Rahimi", "Peretz",
        "Moradi", "Biton", "Jafari", "Friedman", "Sadeghi", "Katz", "Rostami", "Azoulay")

#: Standard columns the fill writes, then the Bench Lead fields.
FILL_COLUMNS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx",
                "lead_name", "email", "phone", "status", "source", "territory", "amount", "score",
                "notes", "next_contact")

PERMISSIONS = [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1,
                "export": 1, "import": 1, "share": 1, "print": 1, "email": 1}]

BENCH_USER = "bench-user@example.com"


# -- sites --------------------------------------------------------------------------------------

def create_site(bench, engine, apps=()):
    """A fresh site for ``engine`` in ``bench``; returns its name."""
    from lowcode import installer
    name = f"bench-{uuid.uuid4().hex[:8]}-{engine}.localhost"
    kwargs = mariadb_root() if engine == "mariadb" else {}
    extra = {"redis_cache": redis_url()} if engine == "mariadb" else {}
    installer.new_site(name, bench=bench, db_type=engine, admin_password="admin", install_apps=apps,
                       extra_config=extra, **kwargs)
    return name


def drop_site(bench, name):
    from lowcode.installer import drop_site as drop
    conf_path = os.path.join(bench, name, "site_config.json")
    if not os.path.exists(conf_path):
        return
    kwargs = {}
    import json
    with open(conf_path) as f:
        if json.load(f).get("db_type") == "mariadb":
            root = mariadb_root()
            kwargs = {"root_user": root["db_root_username"], "root_password": root["db_root_password"]}
    drop(name, bench, quiet=True, **kwargs)


# -- metadata and users -------------------------------------------------------------------------

def lead_fields():
    return [
        {"fieldname": "lead_name", "label": "Lead Name", "fieldtype": "Data", "reqd": 1, "in_list_view": 1},
        {"fieldname": "email", "label": "Email", "fieldtype": "Data", "options": "Email", "in_list_view": 1},
        {"fieldname": "phone", "label": "Phone", "fieldtype": "Data"},
        {"fieldname": "status", "label": "Status", "fieldtype": "Select", "options": "\n".join(STATUSES),
         "default": "Open", "in_standard_filter": 1, "in_list_view": 1},
        # in the list, with a title field on Bench Source: the list and form pages pay for the
        # linked records' titles (desk/link_titles.py, one query per linked DocType)
        {"fieldname": "source", "label": "Source", "fieldtype": "Link", "options": SOURCE,
         "in_standard_filter": 1, "in_list_view": 1},
        {"fieldname": "territory", "label": "Territory", "fieldtype": "Data"},
        {"fieldname": "amount", "label": "Amount", "fieldtype": "Currency"},
        {"fieldname": "score", "label": "Score", "fieldtype": "Int"},
        {"fieldname": "notes", "label": "Notes", "fieldtype": "Small Text"},
        {"fieldname": "next_contact", "label": "Next Contact", "fieldtype": "Date"},
    ]


def make_metadata():
    """Bench Source (+ its rows) and Bench Lead (track_changes off for the fill), the bench
    user (System Manager, not Administrator) and an API token for it. Committed.
    Returns (api_key, api_secret)."""
    from lowcode import auth
    db = local.db
    lowcode.get_doc({"doctype": "DocType", "name": SOURCE, "module": "Custom", "autoname": "field:source_name",
                     "title_field": "source_name",
                     "fields": [{"fieldname": "source_name", "label": "Source Name", "fieldtype": "Data",
                                 "reqd": 1, "unique": 1}],
                     "permissions": PERMISSIONS}).insert()
    lowcode.get_doc({"doctype": "DocType", "name": LEAD, "module": "Custom", "autoname": "hash",
                     "title_field": "lead_name", "sort_field": "modified", "sort_order": "DESC",
                     "track_changes": 0, "fields": lead_fields(), "permissions": PERMISSIONS}).insert()
    for s in SOURCES:
        lowcode.get_doc({"doctype": SOURCE, "source_name": s}).insert()
    if not db.exists("Role", "System Manager"):
        lowcode.get_doc({"doctype": "Role", "role_name": "System Manager"}).insert()
    lowcode.get_doc({"doctype": "User", "email": BENCH_USER, "first_name": "Bench", "last_name": "User",
                     "roles": [{"role": "System Manager"}]}).insert()
    key, secret = auth.generate_keys(BENCH_USER)
    db.commit()
    return key, secret


def set_track_changes(value):
    """Turn Version records on/off for Bench Lead through a DocType save (which also re-syncs
    the full table). Returns the wall time in seconds."""
    t0 = time.perf_counter()
    doc = lowcode.get_doc("DocType", LEAD)
    doc.track_changes = value
    doc.save()
    local.db.commit()
    return time.perf_counter() - t0


# -- data ---------------------------------------------------------------------------------------

def _name(i):
    # Multiplying by an odd constant permutes 0..2**40-1: unique, hash-looking 10-hex names
    # (random ones would collide about once per 2 million rows at this length).
    return format((i * 0x9E3779B97F4A7C15 + 0x1234567) % (1 << 40), "010x")


class RowMaker:
    """Lead rows for the fill: realistic shapes, reproducible from the seed."""

    def __init__(self, seed=42, owner=BENCH_USER):
        self.rng = random.Random(seed)
        self.owner = owner
        self.now = time.time()
        self.year_ago = self.now - 365 * 86400
        self.today = datetime.date.today()
        self.statuses = self.rng.choices(STATUSES, weights=STATUS_WEIGHTS, k=997)
        self.next_dates = [(self.today + datetime.timedelta(days=d)).isoformat() for d in range(90)]

    def rows(self, start, count):
        rng, out, owner = self.rng, [], self.owner
        stamp = datetime.datetime.fromtimestamp
        year, month, nf, nl = 365 * 86400, 30 * 86400, len(FIRST), len(LAST)
        for i in range(start, start + count):
            first, last = FIRST[i % nf], LAST[(i // nf) % nl]
            modified = self.year_ago + rng.random() * year
            r = rng.random()
            out.append((
                _name(i), owner, stamp(modified - r * month).isoformat(" ", "microseconds"),
                stamp(modified).isoformat(" ", "microseconds"), owner, 0, 0,
                f"{first} {last} {i}", f"{first.lower()}.{last.lower()}{i}@example.com",
                f"+98912{i % 10000000:07d}", self.statuses[i % 997], SOURCES[i % len(SOURCES)],
                TERRITORIES[int(r * 20)], round(r * 100000, 2), int(r * 101),
                f"Met at event {i % 50}; follow up on pricing." if i % 2 else None,
                self.next_dates[int(r * 1000) % 90] if r < 0.6 else None,
            ))
        return out

    def doc(self, i, tag):
        """A new lead as an API client would send it."""
        first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
        return {"lead_name": f"{first} {last} {tag}{i}", "email": f"{first.lower()}.{tag}{i}@example.org",
                "phone": f"+98935{i % 10000000:07d}", "status": STATUSES[i % len(STATUSES)],
                "source": SOURCES[i % len(SOURCES)], "territory": TERRITORIES[i % len(TERRITORIES)],
                "amount": 1250.5 + i, "score": i % 100, "notes": "Asked for a demo.",
                "next_contact": (self.today + datetime.timedelta(days=i % 60)).isoformat()}


def insert_in_batches(doctype, columns, total, row, batch, commit_rows, label=None):
    """Rows ``row(0)`` .. ``row(total - 1)`` (each a row, or a list of rows), ``batch`` indexes
    to a bulk_insert, committed about every ``commit_rows``; prints the rate now and then
    when given a ``label``."""
    db = local.db
    t0 = time.perf_counter()
    done = 0
    while done < total:
        n = min(batch, total - done)
        db.begin()
        rows = []
        for i in range(done, done + n):
            r = row(i)
            if isinstance(r, list):
                rows.extend(r)
            else:
                rows.append(r)
        db.bulk_insert(doctype, columns, rows)
        done += n
        if done % commit_rows < n or done == total:
            db.commit()
        if label and (done % (batch * 40) < n or done == total):
            print(f"  {label}: {done:>10,}/{total:,}  {done / (time.perf_counter() - t0):>9,.0f} rows/s", flush=True)


def start_bulk_load(db, cache_mb=1024):
    """A bulk fill's SQLite page cache (``cache_mb``); returns the size it had, to give
    back to end_bulk_load (None on MariaDB)."""
    if db.db_type != "sqlite":
        return None
    cache = db.sql("PRAGMA cache_size")[0][0]
    db.sql(f"PRAGMA cache_size=-{int(cache_mb) * 1024}")
    return cache


def end_bulk_load(db, sqlite_cache, tables):
    """After a bulk fill: SQLite's page cache as it was and its WAL folded in; MariaDB's
    statistics of ``tables`` (DocType names) computed now. InnoDB recomputes them in the
    background after a bulk load; done now, the timings do not depend on when that
    happens. SQLite keeps none unless ANALYZE is run, and the engine never runs it (see
    bench README, "Row permissions")."""
    if sqlite_cache is not None:
        db.sql(f"PRAGMA cache_size={int(sqlite_cache)}")
        db.sql("PRAGMA wal_checkpoint(TRUNCATE)")
    if db.db_type == "mariadb":
        db.begin()
        for t in tables:
            db.sql(f"ANALYZE TABLE `tab{t}`")
        db.commit()


def fill(rows, batch=5000, commit_rows=None, seed=42, progress=True, mariadb_session=None, sqlite_cache_mb=1024):
    """Insert ``rows`` leads with db.bulk_insert, ``batch`` rows per call, committing
    every ``commit_rows`` rows (default: every batch on MariaDB, every 50,000 rows on
    SQLite: there each commit writes every page it dirtied to the WAL and checkpoints it,
    and a 5,000-row batch of random hash names dirties a page of each index per row or
    so, so small transactions make the 1M-row fill about 3.5x slower).
    Returns {"seconds", "rows_per_s", "generate_seconds", "batch", "commit_rows"}.

    On SQLite the fill connection gets a larger page cache (the engine's 64 MB is less
    than the indexes of a 1M-row table, and random hash names touch pages all over the
    primary-key index); only this connection, only for the fill."""
    db = local.db
    maker = RowMaker(seed)
    if not commit_rows:
        commit_rows = 50_000 if db.db_type == "sqlite" else batch
    commit_rows = max(batch, commit_rows)
    db.commit()
    sqlite_cache = None
    if db.db_type == "sqlite" and sqlite_cache_mb:
        sqlite_cache = db.sql("PRAGMA cache_size")[0][0]
        db.sql(f"PRAGMA cache_size=-{int(sqlite_cache_mb) * 1024}")
    if mariadb_session and db.db_type == "mariadb":
        for statement in mariadb_session:
            db.sql(statement)
    done, t0, gen_s = 0, time.perf_counter(), 0.0
    last_report = t0
    tty = sys.stdout.isatty()
    while done < rows:
        n = min(batch, rows - done)
        g0 = time.perf_counter()
        chunk = maker.rows(done, n)
        gen_s += time.perf_counter() - g0
        db.begin()
        db.bulk_insert(LEAD, FILL_COLUMNS, chunk)
        done += n
        if done % commit_rows < n or done == rows:
            db.commit()
        now = time.perf_counter()
        if progress and (now - last_report >= (0.5 if tty else 5.0) or done == rows):
            last_report = now
            rate = done / (now - t0)
            eta = (rows - done) / rate if rate else 0
            line = f"  fill: {done:>10,}/{rows:,} rows ({100 * done / rows:5.1f}%)  {rate:>9,.0f} rows/s  eta {eta:5.0f}s"
            print(("\r" + line) if tty else line, end="" if tty and done < rows else "\n", flush=True)
    seconds = time.perf_counter() - t0
    if sqlite_cache is not None:
        db.sql(f"PRAGMA cache_size={int(sqlite_cache)}")
    # Settle before anything is timed: fold the WAL into the database file and let the
    # kernel write the dirty pages now, not during the latency measurements.
    settle0 = time.perf_counter()
    if db.db_type == "sqlite":
        db.sql("PRAGMA wal_checkpoint(TRUNCATE)")
    os.sync()
    settle_s = time.perf_counter() - settle0
    if mariadb_session and db.db_type == "mariadb":
        db.sql("SET SESSION unique_checks=1")
        db.sql("SET SESSION foreign_key_checks=1")
    return {"seconds": seconds, "rows_per_s": rows / seconds if seconds else None,
            "generate_seconds": gen_s, "batch": batch, "commit_rows": commit_rows, "settle_seconds": settle_s}
