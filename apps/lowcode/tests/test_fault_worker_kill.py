"""Fault: a worker killed (SIGKILL, with its work horse) in the middle of a job whose side
effects (an e-mail queued, a webhook fired) were already committed. The next worker runs
the job again (same job id, RQ's Retry for abandoned jobs, jobs.py) and the side effects
happen once: the retried job finds its e-mail queued under the same idempotency key, and
the webhook request, sent with an ``Idempotency-Key`` header, is not sent again once
answered. Real parts: a private Redis, `lowcode worker` subprocesses, aiosmtpd and an HTTP
receiver on loopback."""
import os
import shutil
import signal
import subprocess
import tempfile

import pytest

import lowcode
from lowcode.channels.email import store_password
from lowcode.installer import new_site
from lowcode.jobs import ABANDONED_RETRIES, QUEUES

from .fault_helpers import (LOWCODE, PROBE, PrivateServices, make_probe_doctypes, probe_doc, subprocess_env,
                            wait_for)
from .test_email_out import PASSWORD, start_smtp
from .test_webhooks import Receiver



@pytest.fixture
def rig(tmp_path):
    services = PrivateServices()
    bench = tempfile.mkdtemp(prefix="lowcode-fault-bench-")
    inbox, smtp = start_smtp()
    receiver = Receiver()
    workers, logs = [], []
    try:
        services.services("start", "redis")
        site = "faultjobs.localhost"
        new_site(site, bench=bench, db_type="sqlite", admin_password="admin",
                 extra_config={"redis_cache": services.redis_url, "allow_private_webhook_targets": 1})
        with lowcode.site_context(site, bench=bench) as local:
            make_probe_doctypes()
            lowcode.get_doc(probe_doc("target", 2)).insert()
            account = lowcode.get_doc({"doctype": "Email Account", "email_account_name": "Faults",
                                       "email_id": "faults@example.com", "smtp_server": "127.0.0.1",
                                       "smtp_port": smtp.port, "enable_outgoing": 1, "default_outgoing": 1,
                                       "send_limit_per_minute": 0}).insert()
            store_password(account.name, PASSWORD)
            lowcode.get_doc({"doctype": "Webhook", "webhook_doctype": PROBE, "webhook_docevent": "on_update",
                             "request_url": receiver.url, "request_structure": "JSON", "enabled": 1,
                             "webhook_data": [{"fieldname": "marker", "key": "marker"}]}).insert()
            local.db.commit()

        def worker(*args):
            # Its own process group: the kill takes the worker and the horse running the job.
            log = open(os.path.join(bench, f"worker{len(workers)}.log"), "w")
            logs.append(log)
            proc = subprocess.Popen([*LOWCODE, "--sites-path", bench, "worker", "--heartbeat", "1", *args],
                                    env=subprocess_env(), start_new_session=True, stdout=log, stderr=log)
            workers.append(proc)
            return proc
        yield {"site": site, "bench": bench, "inbox": inbox, "receiver": receiver, "worker": worker,
               "journal": str(tmp_path / "journal"), "redis": services.redis_url}
    finally:
        _kill_horses(str(tmp_path / "journal"), bench)
        for proc in workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for log in logs:
            log.close()
        receiver.close()
        smtp.stop()
        services.close()
        shutil.rmtree(bench, ignore_errors=True)


def _journal(path, pids=False):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [int(line.split()[1]) if pids else line.split()[0] for line in f]


def _kill_horses(journal, bench):
    """SIGKILL the work horses that ran the job (their pids are in the journal), if alive."""
    for pid in set(_journal(journal, pids=True)):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                ours = bench.encode() in f.read()  # not a reused pid
        except OSError:
            continue
        if ours:
            os.kill(pid, signal.SIGKILL)


def test_killed_worker_job_runs_again_and_sends_once(rig):
    from redis import Redis
    from rq import Queue
    from rq.registry import FailedJobRegistry, StartedJobRegistry
    with lowcode.site_context(rig["site"], bench=rig["bench"]) as local:
        lowcode.enqueue("lowcode.tests.fault_helpers.queue_mail_and_webhook", journal=rig["journal"],
                        probe="target", recipient="buyer@example.com")
        local.db.commit()
    redis = Redis.from_url(rig["redis"])
    (job_id,) = Queue("default", connection=redis).get_job_ids()

    first = rig["worker"]()
    wait_for(lambda: "committed" in _journal(rig["journal"]), 20, "the job to commit its side effects")
    # Mid-job (it lingers after its commit): the worker and its work horse, which RQ puts in
    # a session of its own, as a crash of the machine would.
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    _kill_horses(rig["journal"], rig["bench"])
    started = StartedJobRegistry("default", connection=redis)
    assert job_id in started.get_job_ids(cleanup=False)  # left "started" by the dead worker
    # Two missed heartbeats (of 1 s) later the job counts as abandoned.
    wait_for(lambda: job_id in started.get_expired_job_ids(), 10, "the dead worker's heartbeat to expire")

    rig["worker"]()  # cleans the registries as it starts: the job is queued again, then run

    def settled():  # the job done and the e-mail and webhook jobs it queued too
        queues = [Queue(q, connection=redis) for q in QUEUES]
        return "done" in _journal(rig["journal"]) and not any(q.count for q in queues) and \
            not any(StartedJobRegistry(q, connection=redis).get_job_ids() for q in QUEUES)
    wait_for(settled, 20, "the job to run again and its e-mail and webhook jobs to finish")
    assert _journal(rig["journal"]) == ["started", "committed", "started", "committed", "done"]
    job = Queue("default", connection=redis).fetch_job(job_id)
    assert job.get_status() == "finished" and job.retries_left == ABANDONED_RETRIES - 1
    assert job_id not in FailedJobRegistry("default", connection=redis).get_job_ids()

    inbox, receiver = rig["inbox"], rig["receiver"]
    assert len(inbox.messages) == 1  # the SMTP server got the e-mail once
    with lowcode.site_context(rig["site"], bench=rig["bench"]) as local:
        queued = local.db.sql("SELECT `message_id`, `status`, `idempotency_key` FROM `tabEmail Queue`", as_dict=True)
        assert len(queued) == 1 and queued[0]["status"] == "Sent" and queued[0]["idempotency_key"]
        assert inbox.parsed(0)["Message-ID"] == queued[0]["message_id"]
        logs = local.db.sql("SELECT `idempotency_key`, `status_code` FROM `tabWebhook Request Log`", as_dict=True)
        assert len(receiver.requests) == 1, receiver.requests  # the webhook was sent once
        key = receiver.requests[0]["headers"]["Idempotency-Key"]
        assert logs == [{"idempotency_key": key, "status_code": 200}]
        assert local.db.sql("SELECT COUNT(*) FROM `tabFailed Job`")[0][0] == 0


def test_killed_worker_job_without_retries_left_is_a_failed_job(rig):
    """Its last run lost too: the job shows in the desk's Failed Job list (not only in RQ's
    registry), for an admin to retry, instead of staying "started" for ever."""
    from redis import Redis
    from rq import Queue
    from rq.registry import FailedJobRegistry, StartedJobRegistry
    with lowcode.site_context(rig["site"], bench=rig["bench"]) as local:
        lowcode.enqueue("lowcode.tests.fault_helpers.queue_mail_and_webhook", journal=rig["journal"],
                        probe="target", recipient="buyer@example.com")
        local.db.commit()
    redis = Redis.from_url(rig["redis"])
    (job_id,) = Queue("default", connection=redis).get_job_ids()
    job = Queue("default", connection=redis).fetch_job(job_id)
    job.retries_left = 0  # as if the earlier runs had been lost already
    job.save()

    first = rig["worker"]()
    wait_for(lambda: "committed" in _journal(rig["journal"]), 20, "the job to start")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    _kill_horses(rig["journal"], rig["bench"])
    started = StartedJobRegistry("default", connection=redis)
    wait_for(lambda: job_id in started.get_expired_job_ids(), 10, "the dead worker's heartbeat to expire")
    rig["worker"]()
    failed = FailedJobRegistry("default", connection=redis)
    wait_for(lambda: job_id in failed.get_job_ids(), 20, "the job to be given up")

    with lowcode.site_context(rig["site"], bench=rig["bench"]) as local:
        rows = local.db.sql("SELECT `method`, `status`, `error`, `kwargs` FROM `tabFailed Job`", as_dict=True)
    assert len(rows) == 1 and rows[0]["status"] == "Failed", rows
    assert rows[0]["method"] == "lowcode.tests.fault_helpers.queue_mail_and_webhook"
    assert "AbandonedJobError" in rows[0]["error"] and job_id in rows[0]["error"]
    assert _journal(rig["journal"]) == ["started", "committed"]  # not run again
