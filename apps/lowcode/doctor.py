"""`lowcode doctor`: checks of a site, each ok / warn / fail with one line saying what to do.

Schema against metadata (schema.py's expected columns), orphaned Link values, Failed Jobs,
jobs waiting in the RQ queues, disk space of the sites folder and of a local MariaDB's
data directory, the age of the newest backup against the schedule (backups.py), replica
lag (the database layer's ``replica_status`` when it has one) and Redis. Every check runs
in the site's context; a check that breaks is itself reported as a failure, so one broken
part never hides the others.
"""
import dataclasses
import datetime
import os
import shutil

from .context import local

OK, WARN, FAIL = "ok", "warn", "fail"
SEVERITY = {OK: 0, WARN: 1, FAIL: 2}  # also the command's exit code
SAMPLES = 3
ORPHAN_LIMIT = 100  # rows read per link field: bounds the cost of a huge table full of orphans
QUEUE_SCAN = 200  # jobs looked at per queue (oldest first)


@dataclasses.dataclass
class Check:
    name: str
    status: str
    message: str
    remedy: str = ""
    details: list = dataclasses.field(default_factory=list)

    def as_dict(self):
        return dataclasses.asdict(self)


def run_checks():
    """Every check of the current site, in order."""
    out = []
    for name, check in CHECKS:
        try:
            out.append(check())
        except Exception as e:  # noqa: BLE001 - a broken check is a finding, not a crash
            local.db.rollback()
            out.append(Check(name, FAIL, f"the check failed: {type(e).__name__}: {e}",
                             "run with LOWCODE_DEBUG=1 for the traceback"))
    return out


def overall(checks):
    return max((c.status for c in checks), key=SEVERITY.__getitem__, default=OK)


# -- schema ------------------------------------------------------------------------------------

def check_schema():
    from .meta import get_known_doctypes, get_meta
    from .schema import field_columns, standard_columns
    db = local.db
    missing, extra = [], []
    for doctype in sorted(get_known_doctypes()):
        meta = get_meta(doctype)
        if not db.table_exists(doctype):
            missing.append(f"table tab{doctype}")
            continue
        expected = {c for c, _t in standard_columns(db, meta) + field_columns(db, meta)}
        have = set(db.get_columns(doctype))
        missing += [f"tab{doctype}.{c}" for c in sorted(expected - have)]
        extra += [f"tab{doctype}.{c}" for c in sorted(have - expected)]
    if missing:
        return Check("schema", FAIL, f"{len(missing)} table(s)/column(s) missing: {', '.join(missing[:SAMPLES])}"
                     + (" ..." if len(missing) > SAMPLES else ""),
                     "run `lowcode migrate` (it creates missing tables and columns)", missing + extra)
    if extra:
        return Check("schema", WARN, f"{len(extra)} column(s) no field describes: {', '.join(extra[:SAMPLES])}"
                     + (" ..." if len(extra) > SAMPLES else ""),
                     "columns of removed fields keep their data; drop them by hand after a backup if not needed",
                     extra)
    return Check("schema", OK, "every DocType has its table and columns")


# -- links -------------------------------------------------------------------------------------

def check_links():
    """Link values naming a record that does not exist: one LEFT JOIN per Link field, at most
    ORPHAN_LIMIT rows read each."""
    from .database.base import quote
    from .fields.links import links_to
    from .meta import get_known_doctypes, get_meta
    db = local.db
    known = get_known_doctypes()
    found = []
    for doctype in sorted(known):
        meta = get_meta(doctype)
        if meta.issingle or not db.table_exists(doctype):
            continue
        columns = None
        for df in meta.link_fields:
            target = links_to(df)
            if target not in known or get_meta(target).issingle or not db.table_exists(target):
                continue  # a link to a missing DocType is the schema's finding
            columns = columns if columns is not None else db.get_columns(doctype)
            if df.fieldname not in columns:
                continue
            field = quote(df.fieldname)
            values = db.sql(
                f"SELECT a.{field} FROM {quote('tab' + doctype)} a LEFT JOIN {quote('tab' + target)} b "
                f"ON b.`name` = a.{field} WHERE a.{field} IS NOT NULL AND a.{field} != '' AND b.`name` IS NULL "
                f"LIMIT {ORPHAN_LIMIT + 1}", pluck=True)
            if values:
                count = f"{ORPHAN_LIMIT}+" if len(values) > ORPHAN_LIMIT else str(len(values))
                samples = ", ".join(repr(v) for v in list(dict.fromkeys(values))[:SAMPLES])
                found.append(f"{doctype}.{df.fieldname} -> {target}: {count} row(s), e.g. {samples}")
    if found:
        return Check("links", WARN, f"{len(found)} link field(s) name missing records: {found[0]}"
                     + (" ..." if len(found) > 1 else ""),
                     "restore or recreate the missing records, or clear the links (a Data Import update)", found)
    return Check("links", OK, "every link names an existing record")


# -- jobs --------------------------------------------------------------------------------------

def check_failed_jobs():
    count, newest = local.db.sql("SELECT COUNT(*), MAX(`creation`) FROM `tabFailed Job` WHERE `status`='Failed'")[0]
    if count:
        return Check("failed jobs", WARN, f"{count} failed job(s), the newest at {newest}",
                     "read their errors (/app/failed-job), fix the cause, then run `lowcode retry-failed-jobs`")
    return Check("failed jobs", OK, "no failed job")


def _redis(url):
    # A client of its own with short time-outs: the shared one would wait forever on a dead host.
    import redis
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def check_queues(queues=None):
    """This site's jobs waiting in the RQ queues longer than ``doctor_job_age_minutes`` (10)."""
    from .jobs import QUEUES, queue_name, redis_url
    url = redis_url()
    if not url:
        return Check("queues", OK, "no Redis: jobs run in the web process")
    from rq import Queue, Worker
    from rq.job import Job
    limit = datetime.timedelta(minutes=float(local.conf.get("doctor_job_age_minutes", 10)))
    now = datetime.datetime.now(datetime.timezone.utc)
    conn = _redis(url)
    waiting, late = 0, []
    for queue in queues or QUEUES:
        ids = Queue(queue_name(queue, url), connection=conn).get_job_ids(0, QUEUE_SCAN)
        for job in Job.fetch_many(ids, connection=conn):
            payload = (job.args or [{}])[0] if job is not None else {}
            if not isinstance(payload, dict) or payload.get("site") != local.site:
                continue
            waiting += 1
            queued = job.enqueued_at
            if queued is not None and queued.tzinfo is None:
                queued = queued.replace(tzinfo=datetime.timezone.utc)  # RQ stores UTC
            if queued is not None and now - queued > limit:
                late.append(f"{queue}: {payload.get('method')} waiting {int((now - queued).total_seconds() // 60)} min")
    if late:
        workers = Worker.count(connection=conn)
        return Check("queues", WARN, f"{len(late)} job(s) waiting longer than {limit}: {late[0]}"
                     + ("" if workers else "; no worker is running"),
                     "start workers (`lowcode worker`) or more of them for these queues", late)
    return Check("queues", OK, f"{waiting} job(s) waiting, none for long")


# -- disk --------------------------------------------------------------------------------------

WARN_FREE, FAIL_FREE = (0.10, 1 << 30), (0.02, 200 << 20)  # (share, bytes)


def disk_status(usage):
    """fail under 2% or 200 MB free, warn under 10% or 1 GB free, else ok."""
    share = usage.free / usage.total if usage.total else 0
    for status, (least_share, least_bytes) in ((FAIL, FAIL_FREE), (WARN, WARN_FREE)):
        if share < least_share or usage.free < least_bytes:
            return status
    return OK


def check_disk():
    places = [("sites folder", os.path.dirname(local.site_path))]
    if local.db.db_type == "mariadb" and local.conf.get("db_host", "127.0.0.1") in ("127.0.0.1", "localhost", "::1"):
        datadir = local.db.sql("SELECT @@datadir")[0][0]
        places.append(("MariaDB datadir", datadir))
    found, status = [], OK
    for label, path in places:
        try:
            usage = shutil.disk_usage(path)
        except OSError as e:
            found.append(f"{label} {path}: cannot read ({e.strerror})")
            continue
        place = disk_status(usage)
        status = max(status, place, key=SEVERITY.__getitem__)
        found.append(f"{label} {path}: {usage.free / (1 << 30):.1f} GB free ({usage.free / usage.total:.0%})")
    remedy = "" if status == OK else "free space (old backups, logs) or grow the disk before writes fail"
    return Check("disk", status, "; ".join(found), remedy)


# -- backups -----------------------------------------------------------------------------------

def check_backups():
    from . import backups
    conf = local.conf
    sets = backups.backup_sets(local.site_path, local.site)
    age = datetime.datetime.now() - sets[0][0] if sets else None
    newest = f"the newest backup is {_hours(age)} old" if sets else "no backup"
    try:
        period = backups.backup_period(conf)
    except Exception as e:  # noqa: BLE001 - an unknown frequency
        return Check("backups", FAIL, f"{e}; {newest}", "set backup_frequency to one of "
                     + ", ".join(backups.FREQUENCIES))
    if period is None:
        return Check("backups", WARN, f"scheduled backups are off; {newest}",
                     'set "backup_frequency": "Every 6 Hours" (or Hourly, Daily, Weekly) in site_config.json')
    if age is None or age > 2 * period + datetime.timedelta(hours=1):
        return Check("backups", FAIL, f"{newest} (schedule: {conf['backup_frequency']})",
                     "is the scheduler running (`lowcode scheduler`, and workers for the long queue)? "
                     "see Failed Jobs; run `lowcode backup --with-files` now")
    if age > period + datetime.timedelta(hours=1):
        return Check("backups", WARN, f"{newest} (schedule: {conf['backup_frequency']})",
                     "the last scheduled backup is late: check the scheduler and Failed Jobs")
    return Check("backups", OK, f"{newest} (schedule: {conf['backup_frequency']})")


def _hours(delta):
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


# -- replicas and Redis ------------------------------------------------------------------------

def _replica_status():
    """The database layer's ``replica_status(conf)`` -> [{host, port, ok, lag_seconds, error}],
    or None on a tree without replica support (the replica work lands separately)."""
    from . import database
    found = getattr(database, "replica_status", None)
    if found is None:
        try:
            from .database.replicas import replica_status as found
        except ImportError:
            return None
    return found


def check_replicas():
    replica_status = _replica_status()
    if replica_status is None:
        return Check("replicas", OK, "this engine has no replica support")
    if local.conf.get("db_type") == "mariadb":
        from .database.replicas import server_wide_privileges
        extra = server_wide_privileges(local.db)
        if extra:  # e.g. SLAVE MONITOR: it shows every site's statements (SHOW RELAYLOG EVENTS)
            user = local.conf.get("db_user")
            return Check("replicas", WARN, f"the site's database user holds server-wide privileges: {', '.join(extra)}",
                         f"on the primary, for each of its hosts ('%', 'localhost', '127.0.0.1'): REVOKE "
                         f"{', '.join(extra)} ON *.* FROM '{user}'@'<host>'; replicas' lag is read with "
                         f"replica_monitor_user (see docs/DEPLOY.md)", extra)
    replicas = replica_status(local.conf) or []
    if not replicas:
        return Check("replicas", OK, "no replicas configured")
    lines = [f"{r.get('host')}:{r.get('port')}: " + (r.get("error") or f"{r.get('lag_seconds')}s behind")
             for r in replicas]
    bad = [line for r, line in zip(replicas, lines) if r.get("error") or not r.get("ok", True)]
    if bad:
        return Check("replicas", WARN, f"{len(bad)} of {len(replicas)} replica(s) lagging or down: {bad[0]}",
                     "reads go to the primary meanwhile; see the replica's SHOW SLAVE STATUS", lines)
    return Check("replicas", OK, f"{len(replicas)} replica(s) in step: " + "; ".join(lines), details=lines)


def check_redis():
    urls = {local.conf.get(k) for k in ("redis_cache", "redis_queue", "redis_socketio")} - {None, ""}
    if not urls:
        return Check("redis", OK, "no Redis configured (caches and jobs in process)")
    down = []
    for url in sorted(urls):
        try:
            _redis(url).ping()
        except Exception as e:  # noqa: BLE001 - any failure to answer is the finding
            down.append(f"{_without_password(url)}: {type(e).__name__}")
    if down:
        return Check("redis", FAIL, "Redis not reachable: " + "; ".join(down),
                     "start Redis or fix redis_cache/redis_queue in the site config", down)
    return Check("redis", OK, f"{len(urls)} Redis URL(s) answer")


def _without_password(url):
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", ":***@") if parts.password else url


CHECKS = [("schema", check_schema), ("links", check_links), ("failed jobs", check_failed_jobs),
          ("queues", check_queues), ("disk", check_disk), ("backups", check_backups),
          ("replicas", check_replicas), ("redis", check_redis)]
