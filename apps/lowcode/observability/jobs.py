"""What a job's run adds to logs and metrics: the request id of the request that
enqueued it (so its log lines carry it), its duration, a line when it ends, and a
failure counted by method (``failed``, called where a failure is recorded)."""
import contextlib
import logging
import time

from . import logs, metrics

log = logging.getLogger("lowcode.jobs")


def payload_fields():
    """Added to every job's payload at enqueue."""
    return {"request_id": logs.request_id.get()}


class _Run:
    failed = False  # set by a runner that records a failure without raising it


@contextlib.contextmanager
def observed(payload):
    """Around a job's run, inside its site context: the enqueuing request's id for its log
    lines, then its duration and a line saying how it ended."""
    token = logs.request_id.set(payload.get("request_id") or logs.request_id.get() or logs.new_request_id())
    started = time.perf_counter()
    run = _Run()
    status = "failed"
    try:
        yield run
        status = "failed" if run.failed else "finished"
    finally:
        seconds = time.perf_counter() - started
        try:
            metrics.observe_job(payload, seconds)
        except Exception:  # noqa: BLE001 - metrics never fail a job
            log.exception("could not record the job's metrics")
        log.info("job %s", status, extra={"job": payload.get("method"), "queue": payload.get("queue"),
                                           "status": status, "duration_ms": round(seconds * 1000, 2),
                                           "user": payload.get("user")})
        logs.request_id.reset(token)


def failed(payload):
    try:
        metrics.job_failed(payload)
    except Exception:  # noqa: BLE001
        log.exception("could not count the job's failure")
