"""``lowcode.lock(name, timeout)``: a named lock of the current site held across processes
and hosts (Frappe's ``frappe.cache.lock`` / ``filelock``), for work that must not run twice
at once anywhere.

- Redis configured (``redis_cache``) and answering: redis-py's ``Lock`` (SET NX PX with a
  token, released only by its holder; expires after ``timeout`` seconds if the holder dies).
- Otherwise MariaDB: ``GET_LOCK`` (held by the connection; gone when it closes).
- Otherwise SQLite: an exclusive ``flock`` on a file in the site folder (one machine is
  all SQLite serves; the kernel drops it with the process). Written with fcntl: the
  standard library does this in a few lines.

A Redis that is down falls back to the database's lock, so a lock never fails because
of Redis; locks taken during an outage do not exclude holders of the Redis one (the
callers that need exactness, like the scheduler, also claim their rows in the database).

    with lowcode.lock("nightly-scoring", timeout=600):
        ...
"""
import contextlib
import fcntl
import hashlib
import os
import time

from .caches import RedisUnavailable, fast_client, guarded
from .context import local
from .exceptions import LowcodeError


class LockTimeoutError(LowcodeError):
    """Someone else holds the lock: try again in a moment."""
    http_status = 503
    retry_after = 5


@contextlib.contextmanager
def lock(name, timeout=60, blocking_timeout=10):
    """Hold the site's lock ``name`` for the block (at most ``timeout`` seconds with Redis);
    wait up to ``blocking_timeout`` seconds for it (0: do not wait), else LockTimeoutError."""
    held = acquire(name, timeout, blocking_timeout)
    try:
        yield held
    finally:
        held.release()


def acquire(name, timeout=60, blocking_timeout=10):
    """The lock, held until its ``release()``; LockTimeoutError when not got in time."""
    url = local.conf.get("redis_cache")
    if url:
        try:
            return _RedisLock(url, f"{local.site}|lock:{name}", timeout, blocking_timeout)
        except RedisUnavailable:
            pass  # logged once by caches: the database's lock serves meanwhile
    if local.db.db_type == "mariadb":
        return _MariaDBLock(name, blocking_timeout)
    return _FileLock(name, blocking_timeout)


def _refused(name):
    return LockTimeoutError(f"The lock {name!r} is held by another process: try again in a moment")


class _RedisLock:
    def __init__(self, url, key, timeout, blocking_timeout):
        self.url = url
        self.lock = fast_client(url).lock(key, timeout=timeout, blocking_timeout=blocking_timeout or None,
                                          blocking=bool(blocking_timeout))
        if not guarded(url, lambda client: self.lock.acquire()):
            raise _refused(key)

    def release(self):
        from redis.exceptions import LockError
        try:
            guarded(self.url, lambda client: self.lock.release())
        except (RedisUnavailable, LockError):
            pass  # Redis down, or the lock expired: it is not ours any more either way


class _MariaDBLock:
    def __init__(self, name, blocking_timeout):
        self.db = local.db
        # GET_LOCK names are server-wide: the database's name keeps sites apart (at most 64 characters).
        self.key = hashlib.sha1(f"{local.conf.get('db_name')}|{name}".encode()).hexdigest()
        if self.db.sql("SELECT GET_LOCK(%s, %s)", (self.key, blocking_timeout))[0][0] != 1:
            raise _refused(name)

    def release(self):
        try:
            self.db.sql("SELECT RELEASE_LOCK(%s)", (self.key,))
        except Exception:  # noqa: BLE001 - a lost connection has released it already
            pass


class _FileLock:
    def __init__(self, name, blocking_timeout):
        folder = os.path.join(local.site_path, "locks")
        os.makedirs(folder, exist_ok=True)
        self.file = open(os.path.join(folder, hashlib.sha1(name.encode()).hexdigest() + ".lock"), "w")
        deadline = time.monotonic() + blocking_timeout
        while True:
            try:
                fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self.file.close()
                    raise _refused(name) from None
                time.sleep(0.05)

    def release(self):
        if not self.file.closed:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
