"""Read replicas (MariaDB): which reads a replica may serve, which replica, and when not.

A site names its replicas in site_config.json, as Frappe does, and switches them on with
``read_from_replica: 1``::

    "read_from_replica": 1,
    "replica_host": "10.0.0.2", "replica_db_port": 3306,      # Frappe's one replica
    "replicas": [{"host": "10.0.0.3", "port": 3306}],           # and/or any number more
    "replica_max_lag_seconds": 10,   # a replica further behind is skipped
    "replica_stick_seconds": 10,     # read-your-writes window (default: the max lag)
    "replica_check_seconds": 5       # how often a process re-checks a replica's health

Reads are served on the replica with the site's own database user (it exists there too: the
replica copies the primary's users), which holds privileges on its own database only. The
lag (``SHOW SLAVE STATUS``) is read with a separate monitoring account, named bench-wide in
common_site_config.json (or per site); Frappe has no such setting::

    "replica_monitor_user": "lowcode_monitor", "replica_monitor_password": "...",

That account needs ``SLAVE MONITOR`` and nothing else (create it on the primary, it
replicates)::

    CREATE USER 'lowcode_monitor'@'%' IDENTIFIED BY '...';
    GRANT SLAVE MONITOR ON *.* TO 'lowcode_monitor'@'%';

Sites' own users must never get it: it also allows ``SHOW RELAYLOG EVENTS``, whose
statement-format events carry every site's SQL with its values. Without a monitor account
configured no replica's lag can be known, so every replica is skipped (reads go to the
primary) and ``replica_status`` says which settings to add.

Routing (the one place it is decided):
- ``replica()`` (``lowcode.db.replica()``, or the ``reads_from_replica`` decorator) marks a
  unit of work whose data reads a replica may serve: lists, counts, reports, dashboards,
  link search. Outside it everything reads the primary; ``local.db`` is always the primary
  and every write goes there.
- Inside it, ``read_sql`` (what the query layer runs its SELECTs through) picks a replica
  unless the transaction on the primary has written (a read after a write in the same
  request sees it), the session wrote within ``replica_stick_seconds`` (read-your-writes
  across requests: ``remember_write`` notes each writing request's commit in the site
  cache, i.e. Redis, so every web process knows), or no replica is healthy. Only the rows
  of the query come from the replica: metadata, roles and User Permissions, which are
  cached for other requests, are always read from the primary, so a lagging replica can
  never be cached as the truth.
- A replica is healthy when it answers and ``SHOW SLAVE STATUS`` says it replicates
  (Seconds_Behind_Master not NULL) within the lag limit. That is checked at most every
  ``replica_check_seconds`` per process; a connection lost mid-request marks it down at
  once and the read is answered by the primary. A warning is logged once per change.
- Documents opened for editing (getdoc, /api/resource/<doctype>/<name>) read the primary,
  as Frappe's do: the form saves against the ``modified`` it read, and a stale one from a
  replica would make that save a conflict.
"""
import collections
import contextlib
import functools
import logging
import random
import re
import threading
import time

from ..context import local

log = logging.getLogger("lowcode.replicas")

DEFAULT_MAX_LAG = 10
DEFAULT_CHECK_SECONDS = 5

#: Statements routed by read_sql, by the connection that served them ("primary" or
#: "replica"): for tests and metrics.
served = collections.Counter()

_READ = re.compile(r"\s*(SELECT|WITH)\b", re.I)
_LOCKING = re.compile(r"\bFOR\s+UPDATE\b|\bLOCK\s+IN\s+SHARE\s+MODE\b", re.I)
_BLOCK = "_replica_block"      # local.cache key: the open replica() block's state
_health = {}                   # (host, port) -> (checked at, status dict): per process
_health_lock = threading.Lock()
_pool = threading.local()      # per thread: {(site, host, port): connection}


def configured(conf):
    """[(host, port)] of the replicas a site names (whether or not reads go to them)."""
    if conf.get("db_type") != "mariadb":
        return []
    default_host = conf.get("db_host", "127.0.0.1")
    found = []
    if conf.get("replica_host") or conf.get("replica_db_port"):
        found.append((conf.get("replica_host") or default_host,
                      int(conf.get("replica_db_port") or conf.get("db_port", 3306))))
    for r in conf.get("replicas") or ():
        found.append((r.get("host") or default_host, int(r.get("port") or conf.get("db_port", 3306))))
    return list(dict.fromkeys(found))


def _max_lag(conf):
    return float(conf.get("replica_max_lag_seconds", DEFAULT_MAX_LAG))


# -- health -------------------------------------------------------------------------------------

def probe(conf, host, port):
    """{host, port, ok, lag_seconds, error} of one replica, measured now (with the monitor
    account: the site's own user may not read the replication status)."""
    import MySQLdb
    from MySQLdb.cursors import DictCursor
    status = {"host": host, "port": port, "ok": False, "lag_seconds": None, "error": None}
    user = conf.get("replica_monitor_user")
    if not user:
        status["error"] = ("its lag cannot be read: no replica monitor account; set replica_monitor_user "
                           "and replica_monitor_password in common_site_config.json (an account with only "
                           "GRANT SLAVE MONITOR ON *.*)")
        return status
    try:
        conn = MySQLdb.connect(host=host, port=port, user=user, passwd=conf.get("replica_monitor_password") or "",
                               connect_timeout=2, read_timeout=5)
        try:
            cur = conn.cursor(DictCursor)
            cur.execute("SHOW SLAVE STATUS")
            row = cur.fetchone()
        finally:
            conn.close()
    except MySQLdb.Error as e:
        if e.args and e.args[0] == 1227:  # ER_SPECIFIC_ACCESS_DENIED_ERROR
            status["error"] = (f"the replica monitor account may not read the replication status: run "
                               f"GRANT SLAVE MONITOR ON *.* TO '{user}'@'%' on the primary")
        else:  # the driver's message names the user and host, never the password
            status["error"] = f"cannot read its replication status: {e.args[-1] if e.args else e}"
        return status
    if row is None:
        status["error"] = "not a replica (no replication configured)"
        return status
    lag = row.get("Seconds_Behind_Master")
    status["lag_seconds"] = lag
    if lag is None:  # one of its threads stopped: it falls further behind every second
        status["error"] = (f"not replicating (IO thread: {row.get('Slave_IO_Running')}, SQL thread: "
                           f"{row.get('Slave_SQL_Running')}) {row.get('Last_Error') or ''}").strip()
    elif lag > _max_lag(conf):
        status["error"] = f"{lag}s behind the primary (limit {_max_lag(conf):g}s)"
    else:
        status["ok"] = True
    return status


_SERVER_WIDE = re.compile(r"^GRANT (.+?) ON \*\.\* TO ", re.I)


def server_wide_privileges(db):
    """The privileges on ``*.*`` that the site's own database user holds (``db``: its
    connection), beyond USAGE: none should (a site made while the installer granted
    SLAVE MONITOR holds that one, and with it every site's statements in the relay log)."""
    found = []
    for grant in db.sql("SHOW GRANTS", pluck=True):
        m = _SERVER_WIDE.match(grant)
        if m and m.group(1).strip().upper() != "USAGE":
            found.append(m.group(1).strip())
    return found


def replica_status(conf):
    """[{host, port, ok, lag_seconds, error}] of every replica the site names, measured now
    (for ``lowcode doctor``)."""
    return [_record(conf, host, port, probe(conf, host, port)) for host, port in configured(conf)]


def _record(conf, host, port, status):
    """Keep a replica's status for this process; warn once when it changes."""
    with _health_lock:
        before = _health.get((host, port))
        _health[(host, port)] = (time.monotonic(), status)
    if before is None and status["ok"]:
        return status
    if before is None or before[1]["ok"] != status["ok"]:
        if status["ok"]:
            log.warning("replica %s:%s is healthy again (lag %ss): reads go to it", host, port,
                        status["lag_seconds"])
        else:
            log.warning("replica %s:%s skipped, reads go to the primary: %s", host, port, status["error"])
    return status


def _healthy(conf, host, port):
    hit = _health.get((host, port))
    every = float(conf.get("replica_check_seconds", DEFAULT_CHECK_SECONDS))
    if hit is None or time.monotonic() - hit[0] >= every:
        hit = (None, _record(conf, host, port, probe(conf, host, port)))
    status = hit[1]
    # The limit is the site's (another site of the process may name the same replica).
    return status["ok"] and (status["lag_seconds"] or 0) <= _max_lag(conf)


def mark_down(conf, host, port, error):
    _record(conf, host, port, {"host": host, "port": port, "ok": False, "lag_seconds": None, "error": error})


# -- read-your-writes ---------------------------------------------------------------------------

def _session_key():
    sid = getattr(local.session, "sid", None) if local.session is not None else None
    if sid:
        return f"replica_stick:sid:{sid}"
    return f"replica_stick:user:{local.user}" if local.user != "Guest" else None


def _stick_seconds(conf):
    return float(conf.get("replica_stick_seconds", _max_lag(conf)))


def remember_write():
    """Call before committing a request: when it wrote, its session reads the primary for
    the next ``replica_stick_seconds`` (whichever web process serves it)."""
    conf = local.conf
    db = local.db
    if not conf.get("read_from_replica") or db is None or not getattr(db, "transaction_writes", 0):
        return
    key = _session_key()
    if key:
        from ..caches import cache
        cache().set(key, time.time(), ttl=max(1, int(_stick_seconds(conf) + 0.999)))


def _recently_wrote(conf):
    key = _session_key()
    if not key:
        return False
    from ..caches import cache
    at = cache().get(key)
    return at is not None and time.time() - float(at) < _stick_seconds(conf)


# -- routing ------------------------------------------------------------------------------------

@contextlib.contextmanager
def replica():
    """A unit of work whose data reads a healthy replica may serve (see the module's doc)."""
    if not local or local.cache.get(_BLOCK) is not None or not local.conf.get("read_from_replica") \
            or not configured(local.conf):
        yield  # nested, or no replicas: nothing to do
        return
    block = {"db": None}
    local.cache[_BLOCK] = block
    try:
        yield
    finally:
        local.cache.pop(_BLOCK, None)
        if block["db"] is not None:
            try:
                block["db"].rollback()  # end its read snapshot
            except Exception:  # noqa: BLE001 - a broken connection is dropped
                _drop(block["key"])


def reads_from_replica(fn):
    """Decorator: ``fn`` runs inside replica() (Frappe's @frappe.read_only())."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with replica():
            return fn(*args, **kwargs)
    return wrapper


def _drop(key):
    db = getattr(_pool, "conns", {}).pop(key, None)
    if db is not None:
        try:
            db.conn.close()
        except Exception:  # noqa: BLE001 - it is gone anyway
            pass


def _replica_db(block):
    """The block's replica connection (opened lazily, reused by the thread), or None when
    the primary must answer."""
    if block.get("db") is not None or block.get("primary"):
        return block.get("db")
    conf = local.conf
    if _recently_wrote(conf):
        block["primary"] = "session wrote recently"
        return None
    healthy = [hp for hp in configured(conf) if _healthy(conf, *hp)]
    if not healthy:
        block["primary"] = "no healthy replica"
        return None
    host, port = random.choice(healthy)
    key = (local.site, host, port)
    conns = _pool.__dict__.setdefault("conns", {})
    db = conns.get(key)
    if db is None or db.conn is None:
        from .mariadb import MariaDBDatabase
        try:
            db = MariaDBDatabase(dict(conf, db_host=host, db_port=port), local.site_path)
            db.set_read_only(True)
        except Exception as e:  # noqa: BLE001 - any failure to connect: the primary answers
            mark_down(conf, host, port, f"cannot connect: {e}")
            block["primary"] = "replica unreachable"
            return None
        conns[key] = db
    block.update(db=db, key=key, host=host, port=port)
    return db


def read_sql(query, values=(), **kwargs):
    """Run a read (``Database.sql`` arguments) on a replica when the current replica()
    block allows it, else on the primary (``local.db``)."""
    block = local.cache.get(_BLOCK)
    db = None
    if block is not None and not local.db.transaction_writes and _READ.match(query) \
            and not _LOCKING.search(query):
        db = _replica_db(block)
    if db is not None:
        from . import error_kind
        try:
            rows = db.sql(query, values, **kwargs)
            served["replica"] += 1
            return rows
        except Exception as e:
            if error_kind(e) != "connection":
                raise
            # The replica went away mid-request: the primary answers, from now on too.
            mark_down(local.conf, block["host"], block["port"], f"connection lost: {e}")
            _drop(block["key"])
            block.update(db=None, primary="replica lost")
    served["primary"] += 1
    return local.db.sql(query, values, **kwargs)
