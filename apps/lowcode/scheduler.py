"""The scheduler: on each tick, enqueue the site's Scheduled Job Types that are due.

``installer.sync_scheduled_jobs`` turns the apps' ``scheduler_events`` hooks into
Scheduled Job Type records; ``lowcode scheduler`` calls ``tick()`` in every site's
context and commits, which sends the jobs (to RQ, or runs them in-process without
Redis). A job is due once the first period boundary after its last execution has
passed, as in Frappe: an hourly job that last ran at 10:59 runs again after 11:00.

Several schedulers (one per host) may tick the same site at once: each due job is
claimed by a conditional UPDATE of its ``last_execution`` from the value the tick read;
the one UPDATE that changes the row wins and enqueues it, the others change nothing
(MariaDB re-reads the row after the winner's commit, SQLite serialises the writers).
That holds on both engines, with or without Redis, so no Redis lock is needed for it.
"""
import datetime
import logging

from croniter import croniter

from .context import local
from .jobs import enqueue

log = logging.getLogger("lowcode.scheduler")

# The period boundaries of the named frequencies, as cron expressions, so one rule
# (croniter) decides every frequency.
PERIOD_CRON = {
    "All": "* * * * *",  # every tick (Frappe's default tick: a minute), once however many schedulers tick
    "Hourly": "0 * * * *",
    "Daily": "0 0 * * *",
    "Weekly": "0 0 * * 0",
    "Monthly": "0 0 1 * *",
}
LONG_FREQUENCIES = ("Daily", "Weekly", "Monthly")


def tick(now=None):
    """Enqueue the due jobs of the current site and stamp their last execution.
    Returns the methods enqueued. The caller commits: that sends the jobs."""
    now = now or datetime.datetime.now()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    enqueued = []
    for job in local.db.sql(
            "SELECT `name`, `method`, `frequency`, `cron_format`, `last_execution`, `stopped` "
            "FROM `tabScheduled Job Type` ORDER BY `method`, `name`", as_dict=True):
        if int(job["stopped"] or 0) or not is_due(job, now):
            continue
        if not _claim(job, stamp):
            continue  # another scheduler enqueued it since this tick read the row
        queue = "long" if job["frequency"] in LONG_FREQUENCIES else "default"
        enqueue(job["method"], queue=queue, job_name=job["method"])
        enqueued.append(job["method"])
    return enqueued


def _claim(job, stamp):
    """Stamp the job's last execution unless another scheduler did since it was read:
    True when this UPDATE changed the row. A plain UPDATE, not a document save: this is
    the scheduler's bookkeeping, it needs no validation or version, and leaving `modified`
    alone means an admin editing the record at the same time never gets a stale-write error."""
    if job["last_execution"] is None:
        cursor = local.db.sql_cursor("UPDATE `tabScheduled Job Type` SET `last_execution`=%s "
                                     "WHERE `name`=%s AND `last_execution` IS NULL", (stamp, job["name"]))
    else:
        cursor = local.db.sql_cursor("UPDATE `tabScheduled Job Type` SET `last_execution`=%s "
                                     "WHERE `name`=%s AND `last_execution`=%s",
                                     (stamp, job["name"], job["last_execution"]))
    return cursor.rowcount == 1


def is_due(job, now):
    frequency = job["frequency"]
    last = _as_datetime(job["last_execution"])
    if last is None:
        return True  # never ran: run on the first tick
    expression = job["cron_format"] if frequency == "Cron" else PERIOD_CRON.get(frequency)
    if not expression:
        log.warning("scheduled job %s: no schedule for frequency %r", job["method"], frequency)
        return False
    try:
        next_run = croniter(expression, last).get_next(datetime.datetime)
    except ValueError as e:  # croniter's CroniterBadCronError is a ValueError
        # One badly written cron line must not stop the site's other jobs.
        log.warning("scheduled job %s: bad cron format %r: %s", job["method"], expression, e)
        return False
    return next_run <= now


def _as_datetime(value):
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value
    # Both engines hand back Datetime values as ISO text (MariaDB may add microseconds).
    return datetime.datetime.fromisoformat(str(value))
