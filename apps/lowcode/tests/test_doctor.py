"""`lowcode doctor` (lowcode/doctor.py): each check finds the problem injected into a fresh
site on both engines (a dropped column and table, an extra column, an orphaned link written
with raw SQL, a Failed Job, an old backup, a job waiting in a queue, an unreachable Redis)
and says what to do; the command's table, --json and exit codes."""
import collections
import datetime
import json
import os
import uuid

import pytest
from click.testing import CliRunner

import lowcode
from lowcode import backups, doctor, sites
from lowcode.cli import main

PERMS = [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}]


def checks(site, bench, **conf):
    with lowcode.site_context(site, bench=bench) as local:
        local.conf.update(conf)
        return {c.name: c for c in doctor.run_checks()}


def run_doctor(bench, site, *args):
    return CliRunner().invoke(main, ["--sites-path", bench, "--site", site, "doctor", *args])


def set_config(bench, site, **values):
    path = os.path.join(bench, site, "site_config.json")
    sites.write_json(path, dict(sites.read_json(path), **values))


def test_doctor_finds_each_injected_problem(site_with_apps, bench):
    site = site_with_apps()
    with lowcode.site_context(site, bench=bench) as local:
        lowcode.get_doc({"doctype": "DocType", "name": "Doctor Visit", "module": "Custom", "permissions": PERMS,
                         "fields": [{"fieldname": "patient", "fieldtype": "Link", "label": "Patient",
                                     "options": "User"},
                                    {"fieldname": "note", "fieldtype": "Data", "label": "Note"}]}).insert()
        lowcode.get_doc({"doctype": "DocType", "name": "Doctor Gone", "module": "Custom", "permissions": PERMS,
                         "fields": [{"fieldname": "note", "fieldtype": "Data", "label": "Note"}]}).insert()
        lowcode.get_doc({"doctype": "Doctor Visit", "patient": "Administrator", "note": "fine"}).insert()
        local.db.commit()
    set_config(bench, site, backup_frequency="Daily")
    backups.take_backup(bench, site)
    healthy = checks(site, bench)
    assert {n: c.status for n, c in healthy.items() if n != "disk"} == {
        "schema": "ok", "links": "ok", "failed jobs": "ok", "queues": "ok", "backups": "ok", "replicas": "ok",
        "redis": "ok"}
    assert healthy["disk"].status in ("ok", "warn", "fail") and "GB free" in healthy["disk"].message

    with lowcode.site_context(site, bench=bench) as local:
        from lowcode.schema import drop_column
        drop_column("Doctor Visit", "note")  # what a failed or half-run migrate leaves
        local.db.sql("DROP TABLE `tabDoctor Gone`")
        local.db.sql("ALTER TABLE `tabUser` ADD COLUMN `legacy_code` varchar(20)")
        local.db.sql("INSERT INTO `tabDoctor Visit` (`name`, `patient`) VALUES ('orphan-1', 'ghost@example.com')")
        lowcode.get_doc({"doctype": "Failed Job", "method": "my_app.tasks.sync", "queue": "default",
                         "error": "Traceback ... ConnectionError", "status": "Failed"}).insert(ignore_permissions=True)
        local.db.commit()
    for path in backups.backup_sets(sites.site_path(site, bench), site)[0][1]:
        os.rename(path, path.replace(os.path.basename(path)[:15], "20200101_000000"))  # a backup years old

    found = checks(site, bench)
    schema = found["schema"]
    assert schema.status == "fail" and "lowcode migrate" in schema.remedy
    assert {"table tabDoctor Gone", "tabDoctor Visit.note", "tabUser.legacy_code"} <= set(schema.details)
    links = found["links"]
    assert links.status == "warn" and links.details == [
        "Doctor Visit.patient -> User: 1 row(s), e.g. 'ghost@example.com'"]
    jobs = found["failed jobs"]
    assert jobs.status == "warn" and jobs.message.startswith("1 failed job(s)") and \
        "lowcode retry-failed-jobs" in jobs.remedy
    assert found["backups"].status == "fail" and "days old" in found["backups"].message
    result = run_doctor(bench, site, "--json")
    assert result.exit_code == 2, result.output
    answer = json.loads(result.output)
    assert answer["status"] == "fail" and [c["name"] for c in answer["checks"]] == [n for n, _ in doctor.CHECKS]

    # migrate puts back what it can; the rest is reported until someone acts on it.
    with lowcode.site_context(site, bench=bench) as local:
        from lowcode.installer import migrate
        migrate()
        local.db.commit()
    schema = checks(site, bench)["schema"]
    assert schema.status == "warn" and schema.details == ["tabUser.legacy_code"]
    out = run_doctor(bench, site)
    assert out.exit_code == 2
    assert "schema       WARN  1 column(s) no field describes: tabUser.legacy_code" in out.output
    assert out.output.splitlines()[-1] == f"{site}: fail"


def test_doctor_on_redis_queues_and_a_dead_redis(mariadb_site, bench):
    from rq import Queue

    from lowcode.jobs import redis_url
    queue = f"doctor-test-{uuid.uuid4().hex[:8]}"  # no worker listens here
    with lowcode.site_context(mariadb_site, bench=bench) as local:
        conn = doctor._redis(redis_url())
        job = Queue(queue, connection=conn).enqueue(
            "lowcode.jobs.execute_job", {"site": mariadb_site, "method": "my_app.tasks.slow", "kwargs": {}})
        try:
            local.conf["doctor_job_age_minutes"] = 10
            assert doctor.check_queues([queue]).status == "ok"
            job.enqueued_at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=30)
            job.save()
            late = doctor.check_queues([queue])
            assert late.status == "warn" and "my_app.tasks.slow waiting 30 min" in late.message
            assert "lowcode worker" in late.remedy
        finally:
            job.delete()
            conn.delete(f"rq:queue:{queue}")
        local.conf.update(redis_cache="redis://:s3cret@127.0.0.1:1/0", redis_queue="redis://:s3cret@127.0.0.1:1/0")
        dead = doctor.check_redis()
        assert dead.status == "fail" and "ConnectionError" in dead.message and "s3cret" not in dead.message


def test_disk_thresholds():
    usage = collections.namedtuple("usage", "total used free")
    gb = 1 << 30
    assert doctor.disk_status(usage(100 * gb, 50 * gb, 50 * gb)) == "ok"
    assert doctor.disk_status(usage(100 * gb, 92 * gb, 8 * gb)) == "warn"  # under 10%
    assert doctor.disk_status(usage(5 * gb, 4 * gb, gb // 2)) == "warn"  # under 1 GB
    assert doctor.disk_status(usage(1000 * gb, 990 * gb, 10 * gb)) == "fail"  # under 2%
    assert doctor.disk_status(usage(gb, gb - (100 << 20), 100 << 20)) == "fail"  # under 200 MB


@pytest.mark.parametrize("frequency, hours, status", [
    ("", 1, "warn"), ("Hourly", 1, "ok"), ("Hourly", 2.5, "warn"), ("Hourly", 4, "fail"), ("Daily", 20, "ok"),
    ("Monthly", 1, "fail")])
def test_backup_age_against_the_schedule(sqlite_ctx, frequency, hours, status):
    stamp = (datetime.datetime.now() - datetime.timedelta(hours=hours)).strftime("%Y%m%d_%H%M%S")
    folder = backups.backups_folder(sqlite_ctx.site_path)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{stamp}-{sqlite_ctx.site}-database.sqlite3.gz")
    open(path, "w").close()
    try:
        sqlite_ctx.conf["backup_frequency"] = frequency
        assert doctor.check_backups().status == status
    finally:
        os.remove(path)


def test_doctor_reports_a_replica_that_is_down(mariadb_ctx):
    """Runs where the database layer has replica support (lowcode/database/replicas.py)."""
    pytest.importorskip("lowcode.database.replicas")
    assert doctor.check_replicas().message == "no replicas configured"
    mariadb_ctx.conf["replicas"] = [{"host": "127.0.0.1", "port": 1}]  # nothing listens there
    down = doctor.check_replicas()
    assert down.status == "warn" and down.message.startswith("1 of 1 replica(s) lagging or down: 127.0.0.1:1: ")
    assert "primary" in down.remedy
