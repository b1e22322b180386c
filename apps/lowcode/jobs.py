"""Background jobs: ``enqueue()`` to the RQ queues ``short``, ``default`` and ``long``.

A job enqueued inside a transaction is sent only once that transaction commits, so
a worker never sees work for data that was rolled back. Without Redis (the embedded
default) the job runs in this process right after the commit, in its own
transaction. A failed job is recorded as a Failed Job with its error and can be
retried.

A worker that dies mid-job (SIGKILL, a lost machine) leaves its job "started"; once its
heartbeat has expired, the next worker to start (or its periodic maintenance) enqueues it
again under the same job id, up to ``ABANDONED_RETRIES`` times (RQ's Retry). A job that
raised is not retried that way: it is a Failed Job for an admin to retry. So a job may run
again after a crash: what it sends carries an idempotency key made from its job id
(``idempotency_key``), and the e-mail queue and webhook delivery refuse a key twice.

Redis configured but down when the transaction commits: the job is not lost and the
request does not fail, it runs in this process as without Redis (on the server's job
thread under ``lowcode serve``, else right after the commit), logged. Running it here
rather than parking it in a table keeps one path for a job's execution (the same
``execute_job``/``run_inline`` with Failed Job records) and needs no sweeper."""
import json
import logging
import os
import traceback

from .context import local
from .observability import jobs as observed_jobs

QUEUES = ("short", "default", "long")
TIMEOUTS = {"short": 300, "default": 300, "long": 1500}
# Runs again of a job whose worker died mid-job (see the module's docstring).
ABANDONED_RETRIES = 2
log = logging.getLogger("lowcode.jobs")
_inline_notice_given = False


def redis_url(conf=None):
    conf = conf if conf is not None else local.conf
    return conf.get("redis_queue") or conf.get("redis_cache")


def enqueue(method, queue="default", timeout=None, job_name=None, now=False, at_front=False, **kwargs):
    """Run ``method`` (a dotted path or a function) in the background with ``kwargs``."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r} (use {', '.join(QUEUES)})")
    path = method if isinstance(method, str) else f"{method.__module__}.{method.__qualname__}"
    payload = {"site": local.site, "bench": local.bench, "method": path, "user": local.user,
               "kwargs": kwargs, "job_name": job_name or path, "queue": queue, **observed_jobs.payload_fields()}
    if now:
        return _call(path, kwargs)
    url = redis_url()
    if url:
        local.db.after_commit(lambda: _send(url, payload, queue, timeout, at_front))
    else:
        _say_inline_once()
        local.db.after_commit(lambda: run_here(payload))
    return payload


def run_here(payload):
    """Run a job in this process (no Redis, or Redis down): on the server's job thread
    under ``lowcode serve``, else now (after the commit that queued it)."""
    if _background is None and os.environ.get(BACKGROUND_ENV) == "1":
        run_in_background()
    (_put_in_background if _background is not None else run_inline)(payload)


# -- without Redis, in a server ---------------------------------------------------------------
# `lowcode serve` turns this on: jobs then run one after another on a thread of the server
# process, each in its own site context, so the request that queued them answers at once
# (a hung SMTP server or SMS gateway never holds it). Elsewhere (CLI, tests) they run right
# after the commit, in order, which is what scripts expect. A job lost with the process is
# not a message lost: what it sends is queued in the database and swept by the scheduler.
_background = None
BACKGROUND_ENV = "LOWCODE_JOBS_IN_BACKGROUND"  # set by `lowcode serve`, seen by every web worker process


def run_in_background(on=True):
    """Run inline jobs on one background thread (True) or right after each commit (False)."""
    global _background
    import queue
    import threading
    if on and _background is None:
        _background = queue.Queue()
        threading.Thread(target=_background_worker, args=(_background,), name="lowcode-jobs", daemon=True).start()
    elif not on and _background is not None:
        _background.put(None)
        _background = None


def wait_for_background_jobs():
    """Block until every job handed to the background thread so far has run."""
    if _background is not None:
        _background.join()


def _put_in_background(payload):
    _background.put(payload)


def _background_worker(jobs):
    while True:
        payload = jobs.get()
        try:
            if payload is None:
                return
            execute_job(payload)
        except Exception:
            log.exception("background job %s failed", payload["method"])
        finally:
            jobs.task_done()


def _say_inline_once():
    global _inline_notice_given
    if not _inline_notice_given:
        _inline_notice_given = True
        log.warning("No Redis configured: background jobs run in this process after each commit")


def _send(url, payload, queue, timeout, at_front):
    from rq import Callback, Queue, Retry
    from .caches import RedisUnavailable, guarded

    def push(client):
        Queue(queue_name(queue, url), connection=client).enqueue(
            "lowcode.jobs.execute_job", payload, job_timeout=timeout or TIMEOUTS[queue], at_front=at_front,
            description=payload["job_name"], failure_ttl=7 * 86400,
            retry=Retry(max=ABANDONED_RETRIES), on_failure=Callback("lowcode.jobs.record_abandoned"))
    try:
        guarded(url, push)
    except RedisUnavailable:
        log.warning("Redis unavailable: job %s runs in this process", payload["job_name"])
        run_here(payload)


def queue_name(queue, url=None):
    return queue


def _call(path, kwargs):
    from .apps import get_attr
    return get_attr(path)(**kwargs)


def execute_job(payload):
    """What a worker runs: the job in its own site context and transaction."""
    import lowcode
    from rq import get_current_job
    job = get_current_job()
    with lowcode.site_context(payload["site"], bench=payload.get("bench"), user=payload.get("user") or "Administrator"), \
            observed_jobs.observed(payload):
        local.flags.job_id = job.id if job is not None else None
        try:
            result = _call(payload["method"], payload.get("kwargs") or {})
            local.db.commit()
            return result
        except Exception:
            local.db.rollback()
            record_failure(payload, traceback.format_exc())
            if job is not None:
                job.retries_left = 0  # recorded as a Failed Job: RQ's retries are for dead workers only
            raise


def record_abandoned(job, connection, exc_type, exc_value, tb):
    """RQ's failure callback. A job whose worker died and that has no run left becomes a
    Failed Job, as one that raised does (execute_job records those itself), so the desk's
    list shows it instead of RQ keeping it in its own registry only."""
    from rq.exceptions import AbandonedJobError
    if not (isinstance(exc_type, type) and issubclass(exc_type, AbandonedJobError)) or (job.retries_left or 0) > 0:
        return
    import lowcode
    payload = job.args[0]
    with lowcode.site_context(payload["site"], bench=payload.get("bench")):
        record_failure(payload, f"AbandonedJobError: the worker running job {job.id} died (killed, or its "
                                "machine lost) and the job has no retry left")


def run_inline(payload):
    """After-commit runner without Redis: same connection, the job's own transaction,
    as the user who enqueued it."""
    db = local.db
    user = local.user
    local.user = payload.get("user") or user
    try:
        with observed_jobs.observed(payload) as run:
            try:
                _call(payload["method"], payload.get("kwargs") or {})
                db.commit()
            except Exception:
                run.failed = True
                db.rollback()
                record_failure(payload, traceback.format_exc())
                log.exception("background job %s failed", payload["method"])
    finally:
        local.user = user


def record_failure(payload, error):
    observed_jobs.failed(payload)
    db = local.db
    from .document import get_doc
    get_doc({"doctype": "Failed Job", "method": payload["method"], "queue": payload.get("queue"),
             "job_name": payload.get("job_name"), "kwargs": json.dumps(payload.get("kwargs") or {}, default=str),
             "run_as": payload.get("user"), "error": error[-10000:], "status": "Failed"}).insert(ignore_permissions=True)
    db.commit()


def retry(name):
    """Enqueue a failed job again with the same arguments."""
    from .document import get_doc
    failed = get_doc("Failed Job", name)
    failed.check_permission("write")
    kwargs = json.loads(failed.kwargs or "{}")
    user = local.user
    local.user = failed.run_as or user
    try:
        enqueue(failed.method, queue=failed.queue or "default", job_name=failed.job_name, **kwargs)
    finally:
        local.user = user
    failed.status = "Retried"
    failed.retries = int(failed.retries or 0) + 1
    failed.save()
    return failed.name


def prune_job_logs(days=30):
    import datetime
    cutoff = (datetime.datetime.now() - datetime.timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
    local.db.sql("DELETE FROM `tabFailed Job` WHERE `creation` < %s AND `status`!='Failed'", (cutoff,))


def idempotency_key(*parts):
    """A key for something a job sends (an e-mail, a webhook request) that stays the same
    when the job runs again after its worker died: the job's id, ``parts`` (what is sent,
    about which record and event) and how many times this run asked for the same parts
    before (a job saving a record twice fires its webhook twice: two keys, the same two
    in the run again). Outside an RQ job (a request, an inline job, which nobody runs
    twice) the job's id is replaced by a new random one."""
    import hashlib
    import uuid
    parts = tuple(map(str, parts))
    seen = local.cache.setdefault("idempotency_keys", {})  # the context's: one job run
    seen[parts] = seen.get(parts, -1) + 1
    base = local.flags.get("job_id") or uuid.uuid4().hex
    return hashlib.sha256("\x1f".join((base, *parts, str(seen[parts]))).encode()).hexdigest()[:40]


def worker_class():
    """RQ's Worker with a configurable heartbeat (``lowcode worker --heartbeat``): a job is
    taken as abandoned once its worker missed two heartbeats (RQ waits the interval plus a
    fixed 60 s), so with a short interval a dead worker's job runs again within seconds."""
    from rq import Worker

    class LowcodeWorker(Worker):
        def get_heartbeat_ttl(self, job, working_time=0.0):
            interval = self.job_monitoring_interval
            if job.timeout and job.timeout > 0:
                interval = min(job.timeout - working_time, interval)
            return int(interval) + 2 * self.job_monitoring_interval

        def subscribe(self):
            """RQ's own subscribe() but for the pubsub thread (commands sent to the worker)
            waking every second instead of every minute: on SIGTERM the warm shutdown
            unsubscribes while that thread waits on the same connection, which took up to the
            minute (longer than the stop grace of `lowcode start`, so SIGKILL)."""
            self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=1, daemon=True,
                                                           exception_handler=self._pubsub_exception_handler)
    return LowcodeWorker
