"""The scheduler: which Scheduled Job Types a tick enqueues, and that the enqueued
jobs really run, in-process without Redis (SQLite site) or through RQ (MariaDB site)."""
import datetime
import uuid

import pytest

import lowcode
from lowcode import jobs
from lowcode.scheduler import tick

MARK_PREFIX = "Scheduler Mark "
NOW = datetime.datetime(2024, 3, 15, 10, 30)  # a Friday; 2024-03-10 was a Sunday


def mark_run():
    """A scheduled job: leaves a Role behind as proof that it ran."""
    lowcode.get_doc({"doctype": "Role", "role_name": MARK_PREFIX + uuid.uuid4().hex[:8]}).insert(
        ignore_permissions=True)


MARK_METHOD = f"{__name__}.mark_run"


def add_job(method, frequency, last_execution=None, cron_format=None, stopped=0):
    return lowcode.get_doc({"doctype": "Scheduled Job Type", "method": method, "frequency": frequency,
                            "cron_format": cron_format, "last_execution": last_execution,
                            "stopped": stopped}).insert().name


def last_execution(name):
    value = lowcode.db.get_value("Scheduled Job Type", name, "last_execution")
    return None if value is None else datetime.datetime.fromisoformat(str(value))


def marks():
    return lowcode.db.sql("SELECT `name` FROM `tabRole` WHERE `name` LIKE %s", (MARK_PREFIX + "%",), pluck=True)


@pytest.fixture
def only_our_jobs(ctx):
    """Stop the site's own scheduled jobs for this (rolled back) transaction, so a tick
    can be checked for exactly the jobs the test defines."""
    ctx.db.sql("UPDATE `tabScheduled Job Type` SET `stopped`=1")
    return ctx


@pytest.fixture
def committed_jobs():
    """Jobs a test commits are removed again afterwards, with the Roles they left (in
    whichever site context the test runs)."""
    made = []
    yield made
    ctx = lowcode.local
    ctx.db.rollback()
    ctx.db.begin()
    for name in made:
        ctx.db.sql("DELETE FROM `tabScheduled Job Type` WHERE `name`=%s", (name,))
    ctx.db.sql("DELETE FROM `tabRole` WHERE `name` LIKE %s", (MARK_PREFIX + "%",))
    ctx.db.commit()


def test_tick_enqueues_exactly_the_due_jobs(only_our_jobs, unique):
    def m(label):
        return f"x{unique}.{label}"

    due = {
        add_job(m("all"), "All", "2024-03-15 10:29:00"): m("all"),
        add_job(m("hourly_before_boundary"), "Hourly", "2024-03-15 09:59:00"): m("hourly_before_boundary"),
        add_job(m("daily_yesterday"), "Daily", "2024-03-14 23:50:00"): m("daily_yesterday"),
        add_job(m("weekly_last_saturday"), "Weekly", "2024-03-09 12:00:00"): m("weekly_last_saturday"),
        add_job(m("monthly_last_month"), "Monthly", "2024-02-29 12:00:00"): m("monthly_last_month"),
        add_job(m("cron_quarter"), "Cron", "2024-03-15 10:20:00", cron_format="*/15 * * * *"): m("cron_quarter"),
        add_job(m("never_ran"), "Daily"): m("never_ran"),
    }
    not_due = {
        add_job(m("hourly_this_hour"), "Hourly", "2024-03-15 10:05:00"): "2024-03-15 10:05:00",
        add_job(m("daily_today"), "Daily", "2024-03-15 00:10:00"): "2024-03-15 00:10:00",
        add_job(m("weekly_since_sunday"), "Weekly", "2024-03-10 01:00:00"): "2024-03-10 01:00:00",
        add_job(m("monthly_this_month"), "Monthly", "2024-03-01 00:00:00"): "2024-03-01 00:00:00",
        add_job(m("cron_noon"), "Cron", "2024-03-15 11:00:00", cron_format="0 12 * * *"): "2024-03-15 11:00:00",
        add_job(m("bad_cron"), "Cron", "2024-03-01 00:00:00", cron_format="not a cron line"): "2024-03-01 00:00:00",
    }
    stopped = add_job(m("stopped"), "Hourly", stopped=1)

    enqueued = tick(now=NOW)

    assert sorted(enqueued) == sorted(due.values())
    for name in due:
        assert last_execution(name) == NOW
    for name, before in not_due.items():
        assert last_execution(name) == datetime.datetime.fromisoformat(before)
    assert last_execution(stopped) is None

    # A second tick in the same minute (another host's scheduler) finds nothing due: the
    # every-tick job runs once a minute however many schedulers tick; the next minute, again.
    assert tick(now=NOW) == []
    assert tick(now=NOW + datetime.timedelta(seconds=30)) == []
    assert tick(now=NOW + datetime.timedelta(minutes=1)) == [m("all")]
    # Once the next hour starts, the hourly jobs are due again (and the cron job, whose
    # next quarter hour has passed too).
    assert sorted(tick(now=NOW + datetime.timedelta(minutes=31))) == sorted(
        [m("all"), m("hourly_before_boundary"), m("hourly_this_hour"), m("cron_quarter")])


def test_without_redis_the_job_runs_after_commit(sqlite_ctx, committed_jobs):
    ctx = sqlite_ctx
    assert not jobs.redis_url()
    committed_jobs.append(add_job(MARK_METHOD, "Hourly"))
    assert MARK_METHOD in tick(now=NOW)
    assert marks() == []  # enqueued, not yet run: the job waits for the commit
    ctx.db.commit()
    assert len(marks()) == 1


def test_with_redis_the_job_goes_to_rq_and_a_worker_runs_it(mariadb_ctx, committed_jobs):
    from rq import Queue, SimpleWorker
    from lowcode.caches import redis_client
    ctx = mariadb_ctx
    url = jobs.redis_url()
    assert url
    connection = redis_client(url)
    queue = Queue("long", connection=connection)  # Daily jobs go to the long queue
    committed_jobs.append(add_job(MARK_METHOD, "Daily"))

    assert MARK_METHOD in tick(now=NOW)
    ours = [j for j in queue.get_jobs() if j.args and j.args[0].get("method") == MARK_METHOD
            and j.args[0].get("site") == ctx.site]
    assert ours == []  # nothing is sent before the commit
    ctx.db.commit()
    ours = [j for j in queue.get_jobs() if j.args and j.args[0].get("method") == MARK_METHOD
            and j.args[0].get("site") == ctx.site]
    assert len(ours) == 1 and ours[0].func_name == "lowcode.jobs.execute_job"

    SimpleWorker([queue], connection=connection).work(burst=True)

    assert ours[0].get_status(refresh=True) == "finished"
    assert len(marks()) == 1
