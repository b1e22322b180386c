"""Read replicas (database/replicas.py) against a real MariaDB replica: the one
``scripts/services.sh`` starts beside the primary (``make test`` does), named by
LOWCODE_TEST_MARIADB_REPLICA_PORT from ``services.sh env``. Without it these tests fail.

Which connection answered is seen two ways: ``replicas.served`` counts the statements
each served, and a Lead whose first name is changed on the replica alone (as root, which
the replica's read_only does not stop; nothing is replicated back) reads differently
there. The tests that lag or stop the replica restore it in their teardown; only these
tests use it.
"""
import json
import logging
import os
import subprocess
import time

import MySQLdb
import pytest
from django.test import Client

import lowcode
from crm_app.tests.helpers import PASSWORD, make_lead, make_user, tag
from lowcode.database import replicas
from lowcode.sites import read_json, write_json
from lowcode.testing.http import body, csrf_header, login, post_json, refresh, token
from lowcode.testing.pytest_plugin import ENGINES, create_site, drop_site, mariadb_root, redis_url

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
REPLICA_ONLY = "ReplicaOnly"

if "mariadb" not in ENGINES:  # LOWCODE_TEST_ENGINES=sqlite: a run without MariaDB at all
    pytest.skip("MariaDB replicas need MariaDB (LOWCODE_TEST_ENGINES excludes it)", allow_module_level=True)


def _replica_port():
    port = os.environ.get("LOWCODE_TEST_MARIADB_REPLICA_PORT")
    if not port:
        pytest.fail("LOWCODE_TEST_MARIADB_REPLICA_PORT is not set: start the replica "
                    "(scripts/services.sh start replica) and eval \"$(scripts/services.sh env)\"")
    return int(port)


def _root(port=None):
    root = mariadb_root()
    return MySQLdb.connect(host=root["db_host"], port=port or root["db_port"], user=root["db_root_username"],
                           passwd=root["db_root_password"], autocommit=True, connect_timeout=5)


def _sql(conn, query, values=None):
    cur = conn.cursor()
    cur.execute(query, values)
    return cur.fetchall()


def sync(timeout=120):
    """Wait until the replica has applied everything the primary has committed."""
    primary = _root()
    try:
        pos = _sql(primary, "SELECT @@gtid_binlog_pos")[0][0]
    finally:
        primary.close()
    replica = _root(_replica_port())
    try:
        assert _sql(replica, "SELECT MASTER_GTID_WAIT(%s, %s)", (pos, timeout))[0][0] == 0, \
            f"the replica did not reach {pos} within {timeout}s"
    finally:
        replica.close()


def on_replica(query, values=None):
    conn = _root(_replica_port())
    try:
        return _sql(conn, query, values)
    finally:
        conn.close()


def services(*args):
    """scripts/services.sh on the replica's run directory (the replica these tests use)."""
    env = dict(os.environ, LOWCODE_RUN_DIR=os.environ["LOWCODE_TEST_MARIADB_REPLICA_RUN_DIR"],
               LOWCODE_MARIADB_REPLICA_PORT=str(_replica_port()), LOWCODE_SERVICES_TIMEOUT="60")
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "services.sh"), *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=120)


def status_lines():
    """`services.sh status` of the replica's run directory (exit 1 there when any service is down)."""
    env = dict(os.environ, LOWCODE_RUN_DIR=os.environ["LOWCODE_TEST_MARIADB_REPLICA_RUN_DIR"])
    return subprocess.run(["bash", os.path.join(ROOT, "scripts", "services.sh"), "status"], env=env,
                          capture_output=True, text=True, timeout=60).stdout


@pytest.fixture(scope="module")
def rsite(bench):
    """A MariaDB site (crm_app) reading lists from the replica."""
    port = _replica_port()
    name = create_site(bench, "mariadb", apps=("crm_app",), redis=redis_url())
    path = os.path.join(bench, name, "site_config.json")
    conf = read_json(path)
    conf.update(read_from_replica=1, replica_host="127.0.0.1", replica_db_port=port,
                replica_max_lag_seconds=10, replica_check_seconds=0)
    write_json(path, conf)
    try:
        yield name
    finally:
        drop_site(bench, name)


def set_conf(bench, site, **values):
    path = os.path.join(bench, site, "site_config.json")
    conf = read_json(path)
    conf.update(values)
    write_json(path, conf)


@pytest.fixture
def rctx(rsite, bench):
    with lowcode.site_context(rsite, bench=bench) as local:
        yield local


@pytest.fixture
def rclient(rsite, bench):
    os.environ["LOWCODE_SITES"] = bench
    return Client(HTTP_HOST=rsite, raise_request_exception=False)


@pytest.fixture
def marked(rctx):
    """A Lead whose first name reads REPLICA_ONLY on the replica (only there)."""
    lead = make_lead(first_name="Primary", last_name=tag())
    refresh(rctx)
    sync()
    db_name = rctx.conf["db_name"]
    on_replica(f"UPDATE `{db_name}`.`tabLead` SET `first_name`=%s WHERE `name`=%s", (REPLICA_ONLY, lead.name))
    yield lead.name
    on_replica(f"UPDATE `{db_name}`.`tabLead` SET `first_name`='Primary' WHERE `name`=%s", (lead.name,))


def admin_token(rctx):
    """API token headers of Administrator, committed so requests see the key."""
    headers = token("Administrator")
    refresh(rctx)
    return headers


def first_name(response):
    data = body(response)
    assert response.status_code == 200, data
    return [r["first_name"] for r in data["data"]]


def list_lead(client, name, **headers):
    return client.get("/api/resource/Lead", {"fields": json.dumps(["name", "first_name"]),
                                             "filters": json.dumps([["name", "=", name]])}, **headers)


def counted(fn):
    """(fn()'s result, statements the replica served, statements the primary served)."""
    before = dict(replicas.served)
    result = fn()
    return (result, replicas.served["replica"] - before.get("replica", 0),
            replicas.served["primary"] - before.get("primary", 0))


def test_list_count_report_and_link_search_read_the_replica(rctx, rclient, marked):
    auth = admin_token(rctx)
    names, on_rep, on_primary = counted(lambda: first_name(list_lead(rclient, marked, **auth)))
    assert names == [REPLICA_ONLY] and on_rep >= 1 and on_primary == 0
    count, on_rep, _ = counted(lambda: body(rclient.get(
        "/api/method/frappe.client.get_count",
        {"doctype": "Lead", "filters": json.dumps([["first_name", "=", REPLICA_ONLY]])}, **auth)))
    assert count["message"] >= 1 and on_rep >= 1
    report = body(rclient.get("/api/method/frappe.desk.reportview.get",
                              {"doctype": "Lead", "fields": json.dumps(["name", "first_name"]),
                               "filters": json.dumps([["name", "=", marked]])}, **auth))
    assert report["message"]["values"] == [[marked, REPLICA_ONLY]]
    found, on_rep, on_primary = counted(lambda: body(rclient.get(
        "/api/method/frappe.desk.search.search_link", {"doctype": "Lead", "txt": marked}, **auth)))
    assert [r["value"] for r in found["message"]] == [marked] and on_rep >= 1 and on_primary == 0
    # A POST that has written nothing reads the replica too (Frappe clients POST get_list).
    rows, on_rep, on_primary = counted(lambda: body(rclient.post(
        "/api/method/frappe.client.get_list", {"doctype": "Lead", "fields": json.dumps(["first_name"]),
                                               "filters": json.dumps([["name", "=", marked]])}, **auth)))
    assert rows["message"] == [{"first_name": REPLICA_ONLY}] and on_rep >= 1 and on_primary == 0
    # A document opened for editing reads the primary (its `modified` is what a save checks).
    doc = body(rclient.get(f"/api/resource/Lead/{marked}", **auth))
    assert doc["data"]["first_name"] == "Primary"


def test_reports_dashboards_and_the_desk_list_read_the_replica(rctx, rclient, marked):
    from lowcode.desk.views import dashboard
    auth = admin_token(rctx)
    report, on_rep, on_primary = counted(lambda: body(rclient.get(
        "/api/method/frappe.desk.query_report.run", {"report_name": "Sales Funnel"}, **auth)))
    assert "result" in report["message"] and on_rep >= 1 and on_primary == 0
    card, on_rep, _ = counted(lambda: dashboard.number_card("Open leads"))
    assert card["error"] is None and on_rep >= 1
    chart, on_rep, _ = counted(lambda: dashboard.chart("New leads"))
    assert chart["error"] is None and on_rep >= 1
    page, on_rep, _ = counted(lambda: rclient.get(
        "/app/lead", {"filters": json.dumps([["first_name", "=", REPLICA_ONLY]])}, **auth))
    assert page.status_code == 200 and marked in page.content.decode() and on_rep >= 1


def test_read_from_replica_off_reads_the_primary(rctx, rclient, marked, rsite, bench):
    auth = admin_token(rctx)
    set_conf(bench, rsite, read_from_replica=0)
    try:
        names, on_rep, _ = counted(lambda: first_name(list_lead(rclient, marked, **auth)))
    finally:
        set_conf(bench, rsite, read_from_replica=1)
    assert names == ["Primary"] and on_rep == 0


def test_frappe_read_only_decorator(rctx, marked):
    @lowcode.read_only()
    def names():
        return lowcode.get_list("Lead", filters={"name": marked}, pluck="first_name")
    assert names() == [REPLICA_ONLY]
    assert lowcode.get_list("Lead", filters={"name": marked}, pluck="first_name") == ["Primary"]


def test_reads_after_a_write_in_the_same_unit_of_work_go_to_the_primary(rctx, marked):
    with lowcode.db.replica():
        assert lowcode.get_list("Lead", filters={"name": marked}, pluck="first_name") == [REPLICA_ONLY]
        lead = make_lead(first_name="Fresh", last_name=tag())  # written, not committed, not replicated
        rows = lowcode.get_list("Lead", filters={"name": ["in", [marked, lead.name]]}, fields=["first_name"],
                                order_by="first_name asc")
    assert [r["first_name"] for r in rows] == ["Fresh", "Primary"]


def test_a_session_reads_its_own_writes_another_session_reads_the_replica(rctx, rclient, rsite, bench, marked):
    writer = make_user(tag(), "writer", roles=("CRM Admin",), password=PASSWORD)
    refresh(rctx)
    csrf = login(rctx, rclient, writer)
    created = body(post_json(rclient, "/api/resource/Lead", {"first_name": "Mine", "last_name": tag()},
                             **csrf_header(csrf)))["data"]["name"]
    # Right after its insert, this session reads the primary: its row, not the replica's marker.
    names, on_rep, on_primary = counted(lambda: first_name(rclient.get(
        "/api/resource/Lead", {"fields": json.dumps(["first_name"]), "order_by": "first_name asc",
                               "filters": json.dumps([["name", "in", [marked, created]]])})))
    assert names == ["Mine", "Primary"] and on_rep == 0 and on_primary >= 1
    # Another session (an API token of the same user is another session too) reads the replica.
    other = Client(HTTP_HOST=rsite, raise_request_exception=False)
    auth = admin_token(rctx)
    names, on_rep, _ = counted(lambda: first_name(list_lead(other, marked, **auth)))
    assert names == [REPLICA_ONLY] and on_rep >= 1


def test_row_rules_apply_on_the_replica(rctx, rclient):
    rep = make_user(tag(), "rep", password=PASSWORD)
    mine = make_lead(first_name="Own", last_name=tag(), lead_owner=rep).name
    theirs = make_lead(first_name="Theirs", last_name=tag(), lead_owner="Administrator").name
    auth = token(rep)
    refresh(rctx)
    sync()
    rows, on_rep, on_primary = counted(lambda: body(rclient.get(
        "/api/resource/Lead", {"fields": json.dumps(["name"]), "limit": 1000,
                               "filters": json.dumps([["name", "in", [mine, theirs]]])}, **auth))["data"])
    assert [r["name"] for r in rows] == [mine] and on_rep >= 1 and on_primary == 0


def test_a_lagging_replica_is_skipped(rctx, rclient, rsite, bench, marked):
    auth = admin_token(rctx)
    on_replica("STOP SLAVE")
    try:
        on_replica("CHANGE MASTER TO MASTER_DELAY=30")
        on_replica("START SLAVE")
        make_lead(first_name="Later", last_name=tag())
        refresh(rctx)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = replicas.replica_status(dict(rctx.conf, replica_max_lag_seconds=1))
            if (status[0]["lag_seconds"] or 0) >= 2:
                break
            time.sleep(0.3)
        assert status[0]["ok"] is False and status[0]["lag_seconds"] >= 2, status
        assert "behind the primary" in status[0]["error"]
        set_conf(bench, rsite, replica_max_lag_seconds=1)
        try:
            names, on_rep, _ = counted(lambda: first_name(list_lead(rclient, marked, **auth)))
        finally:
            set_conf(bench, rsite, replica_max_lag_seconds=10)
        assert names == ["Primary"] and on_rep == 0
    finally:
        on_replica("STOP SLAVE")
        on_replica("CHANGE MASTER TO MASTER_DELAY=0")
        on_replica("START SLAVE")
    sync()
    names, on_rep, _ = counted(lambda: first_name(list_lead(rclient, marked, **auth)))
    assert names == [REPLICA_ONLY] and on_rep >= 1  # within the limit again: used again


def test_a_stopped_replica_is_skipped_and_used_again_when_back(rctx, rclient, rsite, bench, marked, caplog):
    auth = admin_token(rctx)
    assert first_name(list_lead(rclient, marked, **auth)) == [REPLICA_ONLY]  # this thread's replica connection
    # Checked a minute ago (healthy): the lost connection itself sends the read to the primary.
    set_conf(bench, rsite, replica_check_seconds=60)
    caplog.set_level(logging.WARNING, logger="lowcode.replicas")
    services("stop", "replica")
    try:
        assert "replica: stopped" in status_lines()
        names, on_rep, on_primary = counted(lambda: first_name(list_lead(rclient, marked, **auth)))
        assert names == ["Primary"] and on_rep == 0 and on_primary >= 1
        set_conf(bench, rsite, replica_check_seconds=0)
        names, on_rep, _ = counted(lambda: first_name(list_lead(rclient, marked, **auth)))
        assert names == ["Primary"] and on_rep == 0  # refused at the check: skipped, no error
        status = replicas.replica_status(rctx.conf)
        assert status[0]["ok"] is False and "cannot read its replication status" in status[0]["error"]
        skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
        assert len(skipped) == 1, [r.getMessage() for r in caplog.records]  # once per change, not per read
    finally:
        set_conf(bench, rsite, replica_check_seconds=0)
        services("start", "replica")
    assert "replica: running" in status_lines()
    sync()
    names, on_rep, _ = counted(lambda: first_name(list_lead(rclient, marked, **auth)))
    assert names == [REPLICA_ONLY] and on_rep >= 1
    assert any("healthy again" in r.getMessage() for r in caplog.records)


def test_replica_status_reports_each_replica(rctx):
    conf = dict(rctx.conf, replicas=[{"host": "127.0.0.1", "port": 1}])
    good, bad = replicas.replica_status(conf)
    assert good == {"host": "127.0.0.1", "port": _replica_port(), "ok": True, "lag_seconds": good["lag_seconds"],
                    "error": None} and good["lag_seconds"] <= 10
    assert bad["port"] == 1 and bad["ok"] is False and bad["lag_seconds"] is None and bad["error"]


def test_without_a_monitor_account_the_replica_is_skipped_and_status_says_what_to_set(
        rctx, rclient, rsite, bench, marked, caplog):
    """No replica_monitor_user: the lag cannot be read, so the replica is skipped (the safe
    side) with a warning naming the setting; a wrong password is never shown."""
    auth = admin_token(rctx)
    caplog.set_level(logging.WARNING, logger="lowcode.replicas")
    set_conf(bench, rsite, replica_monitor_user="")  # the site's config overrides the bench's
    try:
        names, on_rep, _ = counted(lambda: first_name(list_lead(rclient, marked, **auth)))
        assert names == ["Primary"] and on_rep == 0
        status = replicas.replica_status(dict(rctx.conf, replica_monitor_user=""))[0]
        assert status["ok"] is False and "replica_monitor_user" in status["error"] \
            and "replica_monitor_password" in status["error"] and "SLAVE MONITOR" in status["error"]
        assert any("skipped" in r.getMessage() and "replica_monitor_user" in r.getMessage()
                   for r in caplog.records), [r.getMessage() for r in caplog.records]
        wrong = "Wr0ng-monitor-secret"
        status = replicas.replica_status(dict(rctx.conf, replica_monitor_password=wrong))[0]
        assert status["ok"] is False and "Access denied" in status["error"] and wrong not in status["error"]
        assert not any(wrong in r.getMessage() for r in caplog.records)
    finally:
        path = os.path.join(bench, rsite, "site_config.json")
        conf = read_json(path)
        conf.pop("replica_monitor_user", None)
        write_json(path, conf)
    names, on_rep, _ = counted(lambda: first_name(list_lead(rclient, marked, **auth)))
    assert names == [REPLICA_ONLY] and on_rep >= 1  # the bench's monitor account: used again


def _grants(conn, user, host):
    return [row[0] for row in _sql(conn, f"SHOW GRANTS FOR '{user}'@'{host}'")]


def test_a_sites_user_holds_only_its_database_and_cannot_read_the_replication_log(rctx):
    """SLAVE MONITOR on a site's user would show other sites' statements (SHOW RELAYLOG
    EVENTS): sites' users get nothing server-wide; the monitor account only SLAVE MONITOR."""
    user, db_name = rctx.conf["db_user"], rctx.conf["db_name"]
    primary = _root()
    try:
        for h in ("localhost", "127.0.0.1", "%"):
            grants = _grants(primary, user, h)
            assert len(grants) == 2, grants
            assert grants[0].startswith(f"GRANT USAGE ON *.* TO `{user}`@`{h}`"), grants
            assert grants[1] == f"GRANT ALL PRIVILEGES ON `{db_name}`.* TO `{user}`@`{h}`", grants
        monitor = rctx.conf["replica_monitor_user"]
        grants = _grants(primary, monitor, "127.0.0.1")
        assert len(grants) == 1 and grants[0].startswith(f"GRANT SLAVE MONITOR ON *.* TO `{monitor}`@"), grants
    finally:
        primary.close()
    sync()
    conn = MySQLdb.connect(host="127.0.0.1", port=_replica_port(), user=user, passwd=rctx.conf["db_password"],
                           db=db_name, connect_timeout=5)
    try:
        for statement in ("SHOW SLAVE STATUS", "SHOW RELAYLOG EVENTS", "SHOW BINLOG EVENTS"):
            with pytest.raises(MySQLdb.OperationalError) as refused:
                _sql(conn, statement)
            assert refused.value.args[0] == 1227, (statement, refused.value.args)  # access denied
    finally:
        conn.close()
    assert replicas.replica_status(rctx.conf)[0]["ok"] is True  # the monitor account reads the lag


def test_doctor_warns_of_a_site_user_made_with_slave_monitor(rctx):
    """A site made while the installer granted SLAVE MONITOR: `lowcode doctor` says to revoke it."""
    from lowcode import doctor
    user = rctx.conf["db_user"]
    assert doctor.check_replicas().status == "ok"
    primary = _root()
    try:
        _sql(primary, f"GRANT SLAVE MONITOR ON *.* TO '{user}'@'%'")
        _sql(primary, f"GRANT SLAVE MONITOR ON *.* TO '{user}'@'127.0.0.1'")
        _sql(primary, f"GRANT SLAVE MONITOR ON *.* TO '{user}'@'localhost'")
        found = doctor.check_replicas()
        assert found.status == "warn" and "SLAVE MONITOR" in found.message, found
        assert f"REVOKE SLAVE MONITOR ON *.* FROM '{user}'@" in found.remedy, found
    finally:
        for h in ("%", "127.0.0.1", "localhost"):
            _sql(primary, f"REVOKE SLAVE MONITOR ON *.* FROM '{user}'@'{h}'")
        primary.close()
    assert doctor.check_replicas().status == "ok"
