"""frappe.client.bulk_update and frappe.client.attach_file as Frappe clients send them
(form-encoded and JSON), on both engines: each row or file is decided on the stored
record for the calling user; a refused row is reported and undone alone."""
import base64
import json

import pytest

import lowcode

from .test_api import error, make_user, ok, post_json, refresh, token, write

M = "/api/method/"


@pytest.fixture
def deals(ctx, make_doctype, unique):
    """A DocType a seller writes only when owner of (if_owner), a reader only reads."""
    seller_role, reader_role = f"CSeller {unique}", f"CReader {unique}"
    seller = make_user(unique, "cseller", roles=(seller_role,))
    reader = make_user(unique, "creader", roles=(reader_role,))
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
                       {"fieldname": "amount", "fieldtype": "Int", "label": "Amount"},
                       {"fieldname": "contract", "fieldtype": "Attach", "label": "Contract"}], permissions=[
        {"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1, "report": 1},
        {"role": seller_role, "read": 1, "write": 1, "create": 1, "if_owner": 1, "report": 1},
        {"role": reader_role, "read": 1, "report": 1}])
    admins = lowcode.get_doc({"doctype": dt, "title": "admin's", "amount": 1}).insert()
    mine = lowcode.get_doc({"doctype": dt, "title": "seller's", "amount": 2}).insert()
    ctx.db.sql(f"UPDATE `tab{dt}` SET `owner`=%s WHERE `name`=%s", (seller, mine.name))
    out = {"dt": dt, "admins": admins.name, "mine": mine.name, "seller": token(seller), "reader": token(reader),
           "admin": token(make_user(unique, "cadmin"))}
    refresh(ctx)
    return out


def stored(ctx, dt, name, field):
    refresh(ctx)
    return ctx.db.get_value(dt, name, field)


def files_of(ctx, name):
    refresh(ctx)
    return ctx.db.sql("SELECT COUNT(*) FROM `tabFile` WHERE `attached_to_name`=%s", (name,))[0][0]


def test_bulk_update_saves_permitted_rows_and_reports_the_others(ctx, client, deals):
    dt = deals["dt"]
    docs = [{"doctype": dt, "docname": deals["mine"], "title": "renamed", "amount": 20},
            {"doctype": dt, "docname": deals["admins"], "title": "taken over"},
            {"doctype": dt, "docname": "no-such-record", "title": "x"},
            {"doctype": dt, "docname": deals["mine"], "amount": "many"}]
    # form-encoded, as frappe-client's bulk_update posts it
    r = ok(client.post(M + "frappe.client.bulk_update", {"docs": json.dumps(docs)}, **deals["seller"]))
    failed = r["message"]["failed_docs"]
    assert [f["doc"]["docname"] for f in failed] == [deals["admins"], "no-such-record", deals["mine"]]
    assert "PermissionError" in failed[0]["exc"] and "DoesNotExistError" in failed[1]["exc"]
    assert "amount" in failed[2]["exc"].lower()
    assert all("Traceback" not in f["exc"] for f in failed)
    assert stored(ctx, dt, deals["mine"], "title") == "renamed"
    assert stored(ctx, dt, deals["mine"], "amount") == 20  # the failed 4th row changed nothing
    assert stored(ctx, dt, deals["admins"], "title") == "admin's"
    # JSON body, by a System Manager: every row saved
    r = ok(post_json(client, M + "frappe.client.bulk_update",
                     {"docs": [{"doctype": dt, "docname": deals["admins"], "amount": 7}]}, **deals["admin"]))
    assert r["message"] == {"failed_docs": []}
    assert stored(ctx, dt, deals["admins"], "amount") == 7
    # a reader saves nothing; GET is refused; docs must be a list
    r = ok(client.post(M + "frappe.client.bulk_update",
                       {"docs": json.dumps([{"doctype": dt, "docname": deals["admins"], "amount": 9}])},
                       **deals["reader"]))
    assert len(r["message"]["failed_docs"]) == 1 and stored(ctx, dt, deals["admins"], "amount") == 7
    error(client.get(M + "frappe.client.bulk_update", {"docs": "[]"}, **deals["admin"]), 403)
    error(client.post(M + "frappe.client.bulk_update", {"docs": '{"a": 1}'}, **deals["admin"]), 417, field="docs")


def test_bulk_update_reports_a_row_the_database_refuses(ctx, client, deals, unique):
    """A row the database itself refuses (a trigger standing for a constraint no
    validation knows) is that row's failure, undone to its savepoint; the other rows
    are saved and the request succeeds."""
    dt, trigger = deals["dt"], f"refuse_{unique}"
    write(ctx)
    if ctx.db.db_type == "sqlite":
        ctx.db.sql(f"CREATE TRIGGER `{trigger}` BEFORE UPDATE ON `tab{dt}` WHEN NEW.`amount` = 666 "
                   "BEGIN SELECT RAISE(ABORT, 'amount 666 refused'); END")
    else:
        ctx.db.sql(f"CREATE TRIGGER `{trigger}` BEFORE UPDATE ON `tab{dt}` FOR EACH ROW "
                   "IF NEW.`amount` = 666 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'amount 666 refused'; "
                   "END IF")
    ctx.db.commit()
    try:
        docs = [{"doctype": dt, "docname": deals["mine"], "title": "first"},
                {"doctype": dt, "docname": deals["admins"], "title": "refused", "amount": 666},
                {"doctype": dt, "docname": deals["admins"], "title": "third"}]
        r = ok(post_json(client, M + "frappe.client.bulk_update", {"docs": docs}, **deals["admin"]))
        failed = r["message"]["failed_docs"]
        assert [f["doc"]["title"] for f in failed] == ["refused"]
        assert failed[0]["exc"].startswith("lowcode.exceptions.DatabaseError: ") and "trace id" in failed[0]["exc"]
        assert "Traceback" not in failed[0]["exc"]
        assert stored(ctx, dt, deals["mine"], "title") == "first"
        assert stored(ctx, dt, deals["admins"], "title") == "third"
        assert stored(ctx, dt, deals["admins"], "amount") == 1  # the refused row changed nothing
    finally:
        write(ctx)
        ctx.db.sql(f"DROP TRIGGER IF EXISTS `{trigger}`")
        ctx.db.commit()
        ctx.db.begin(write=False)


def test_a_row_rolled_back_to_its_savepoint_takes_what_it_queued_along(ctx):
    """bulk_update undoes a failed row with a savepoint: the jobs and mails that row
    queued for after the commit are dropped, and its undo steps (a written file
    removed) run at once; what the other rows queued stays."""
    done = []
    ctx.db.begin()
    ctx.db.after_commit(lambda: done.append("before"))
    ctx.db.savepoint("row")
    ctx.db.after_commit(lambda: done.append("failed row's job"))
    ctx.db.after_rollback(lambda: done.append("failed row's file removed"))
    ctx.db.rollback_to_savepoint("row")
    ctx.db.release_savepoint("row")
    assert done == ["failed row's file removed"]
    ctx.db.savepoint("row")
    ctx.db.after_commit(lambda: done.append("saved row's job"))
    ctx.db.release_savepoint("row")
    ctx.db.commit()
    assert done == ["failed row's file removed", "before", "saved row's job"]


def test_a_savepoint_set_again_after_release_undoes_only_its_own_row(ctx, unique):
    """One savepoint name per row (bulk_update, Data Import): on MariaDB the release is left
    to the transaction's end (setting the name again replaces it), so rolling back the
    next row must still undo that row alone."""
    import lowcode
    ctx.db.begin()
    try:
        for i, fail in ((1, False), (2, True), (3, False)):
            ctx.db.savepoint("row")
            lowcode.get_doc({"doctype": "Role", "role_name": f"Row {i} {unique}"}).insert(ignore_permissions=True)
            if fail:
                ctx.db.rollback_to_savepoint("row")
            ctx.db.release_savepoint("row")
        kept = ctx.db.sql("SELECT `name` FROM `tabRole` WHERE `name` LIKE %s ORDER BY `name`", (f"Row % {unique}",),
                          pluck=True)
        assert kept == [f"Row 1 {unique}", f"Row 3 {unique}"]
    finally:
        ctx.db.rollback()


def test_attach_file_stores_base64_data_on_a_record_the_user_may_write(ctx, client, deals):
    dt = deals["dt"]
    pdf = b"%PDF-1.4 contract"
    # form-encoded with base64, as frappe-client's attach_file sends it, into the record's field
    r = ok(client.post(M + "frappe.client.attach_file",
                       {"filename": "contract.pdf", "filedata": base64.b64encode(pdf).decode(), "doctype": dt,
                        "docname": deals["mine"], "decode_base64": "1", "is_private": "1", "docfield": "contract"},
                       **deals["seller"]))
    f = r["message"]
    assert f["attached_to_doctype"] == dt and f["attached_to_name"] == deals["mine"] and f["is_private"] == 1
    assert f["file_url"].startswith("/private/files/contract") and f["file_size"] == len(pdf)
    assert stored(ctx, dt, deals["mine"], "contract") == f["file_url"]
    got = client.get(f["file_url"], **deals["seller"])
    assert got.status_code == 200 and b"".join(got.streaming_content) == pdf
    # JSON body without decode_base64: the text itself is the content
    r = ok(post_json(client, M + "frappe.client.attach_file",
                     {"filename": "note.txt", "filedata": "plain words", "doctype": dt, "docname": deals["admins"]},
                     **deals["admin"]))
    assert r["message"]["file_size"] == len(b"plain words") and r["message"]["is_private"] == 0
    # refused, nothing written: no write on the stored record, a reader, a bad type, bad base64, GET
    before = files_of(ctx, deals["admins"])
    error(client.post(M + "frappe.client.attach_file",
                      {"filename": "x.txt", "filedata": "eA==", "doctype": dt, "docname": deals["admins"],
                       "decode_base64": 1}, **deals["seller"]), 403, "PermissionError")
    error(client.post(M + "frappe.client.attach_file",
                      {"filename": "x.txt", "filedata": "x", "doctype": dt, "docname": deals["mine"]},
                      **deals["reader"]), 403, "PermissionError")
    error(client.post(M + "frappe.client.attach_file",
                      {"filename": "page.html", "filedata": "<script>", "doctype": dt, "docname": deals["admins"]},
                      **deals["admin"]), 417, field="file")
    error(client.post(M + "frappe.client.attach_file",
                      {"filename": "x.txt", "filedata": "not base64!", "doctype": dt, "docname": deals["admins"],
                       "decode_base64": 1}, **deals["admin"]), 417, field="filedata")
    error(client.post(M + "frappe.client.attach_file",
                      {"filename": "x.txt", "filedata": "x", "doctype": dt, "docname": deals["admins"],
                       "docfield": "nope"}, **deals["admin"]), 417, field="docfield")
    error(client.get(M + "frappe.client.attach_file",
                     {"filename": "x.txt", "filedata": "x", "doctype": dt, "docname": deals["admins"]},
                     **deals["admin"]), 403)
    assert files_of(ctx, deals["admins"]) == before == 1


# -- frappe.desk.query_report ------------------------------------------------------------------------

def run_report(client, headers, name, filters=None, method="get"):
    data = {"report_name": name}
    if filters is not None:
        data["filters"] = json.dumps(filters)
    return getattr(client, method)(M + "frappe.desk.query_report.run", data, **headers)


def test_query_report_runs_a_report_builder_report_with_the_users_rows(ctx, client, deals, unique):
    """A saved report view runs in Frappe's answer shape, each user seeing the rows
    they may read (the seller only their own, if_owner); a private one, or one whose
    roles the user lacks, is refused."""
    dt = deals["dt"]
    write(ctx)
    lowcode.get_doc({"doctype": dt, "title": "third", "amount": 5}).insert()
    settings = {"columns": ["title", "amount"], "filters": [[dt, "amount", ">=", 2]], "order_by": "amount asc"}
    for name, public, roles in ((f"Deals {unique}", 1, []), (f"Private {unique}", 0, []),
                                (f"Readers {unique}", 1, [{"role": f"CReader {unique}"}])):
        lowcode.get_doc({"doctype": "Report", "report_name": name, "ref_doctype": dt, "is_public": public,
                         "report_type": "Report Builder", "json": json.dumps(settings), "add_total_row": 1,
                         "roles": roles}).insert()
    refresh(ctx)
    r = ok(run_report(client, deals["admin"], f"Deals {unique}"))["message"]
    assert [c["fieldname"] for c in r["columns"]] == ["name", "title", "amount"]
    assert [(row["title"], row["amount"]) for row in r["result"][:-1]] == [("seller's", 2), ("third", 5)]
    assert r["result"][-1] == ["Total", "", 7.0] and r["add_total_row"]  # Frappe's total row: a list
    assert set(r) >= {"result", "columns", "message", "chart", "report_summary", "skip_total_row"}
    # the seller reads only the record they own; POST works too
    r = ok(run_report(client, deals["seller"], f"Deals {unique}", method="post"))["message"]
    assert [(row["title"], row["amount"]) for row in r["result"][:-1]] == [("seller's", 2)]
    assert r["result"][-1] == ["Total", "", 2.0]
    error(run_report(client, deals["seller"], f"Private {unique}"), 403, "PermissionError")
    refused = error(run_report(client, deals["seller"], f"Readers {unique}"), 403, "PermissionError")
    assert f"Readers {unique}" in refused["message"]
    assert len(ok(run_report(client, deals["reader"], f"Readers {unique}"))["message"]["result"]) == 3  # 2 + total
    error(run_report(client, deals["admin"], f"No such {unique}"), 404, "DoesNotExistError")
    script = ok(client.get(M + "frappe.desk.query_report.get_script", {"report_name": f"Deals {unique}"},
                           **deals["admin"]))["message"]
    assert script["script"] == f'frappe.query_reports["Deals {unique}"] = {{}};'


def test_query_report_runs_sql_for_the_administrator_only(ctx, client, deals, unique):
    dt = deals["dt"]
    name = f"SQL {unique}"
    write(ctx)
    lowcode.get_doc({"doctype": "Report", "report_name": name, "ref_doctype": dt, "report_type": "Query Report",
                     "query": f"SELECT `title` AS `Title:Data:120`, `amount` AS `Amount:Int:80` FROM `tab{dt}` "
                              "WHERE `amount` >= %(min_amount)s ORDER BY `amount`"}).insert()
    admin = token("Administrator")
    refresh(ctx)
    r = ok(run_report(client, admin, name, {"min_amount": 2}))["message"]
    assert [c["fieldname"] for c in r["columns"]] == ["title", "amount"]
    assert r["columns"][1] == {"label": "Amount", "fieldname": "amount", "fieldtype": "Int", "width": "80"}
    assert r["result"] == [{"title": "seller's", "amount": 2}]
    refused = error(run_report(client, deals["admin"], name), 403, "PermissionError")
    assert "Administrator" in refused["message"]
    # nobody else saves one either
    write(ctx)
    lowcode.set_user(make_user(unique, "sqlwriter"))
    try:
        with pytest.raises(lowcode.ValidationError) as caught:
            lowcode.get_doc({"doctype": "Report", "report_name": f"Mine {unique}", "ref_doctype": dt,
                             "report_type": "Query Report", "query": "SELECT 1"}).insert()
        assert caught.value.field == "report_type"
    finally:
        lowcode.set_user("Administrator")


def test_a_report_view_saved_under_a_script_reports_name_leaves_it_alone(ctx, client):
    """The CRM's Lost Reasons is a standard Script Report: saving the Opportunity report
    view under that name is refused naming report_name, and nothing changes."""
    from lowcode.utils import route_for
    from .desk_helpers import login
    csrf = login(ctx, client, "Administrator")
    r = client.post(f"/app/{route_for('Opportunity')}/view/report",
                    {"report_name": "Lost Reasons", "state": "columns=title&apply=1"}, HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert r.status_code == 417 and b"report_name" in r.content, r.content[:300]
    refresh(ctx)
    assert ctx.db.get_value("Report", "Lost Reasons", "report_type") == "Script Report"
    # it opens on its own page (views/query_report.py), not as a report view that has no
    # such saved report; its record is one ?edit=1 away
    page = client.get("/app/report/Lost Reasons")
    assert page.status_code == 302 and page["Location"] == "/app/query-report/Lost%20Reasons"
    page = client.get("/app/report/Lost Reasons", {"edit": "1"})
    assert page.status_code == 200 and b"Script Report" in page.content, page.status_code


def test_report_columns_rows_and_total_row_in_frappes_forms():
    """Columns as Frappe's "Label:Fieldtype/Options:Width" texts or dicts; list rows keyed
    by them; the total row adds numbers, averages percentages, leaves other cells empty."""
    from lowcode.api.query_report import column_as_dict, normalize_result, total_row
    columns = [column_as_dict(c) for c in ("Customer:Link/Customer:200", "Deals:Int", "Win Rate:Percent",
                                           {"label": "Amount", "fieldtype": "Currency"}, "Note")]
    assert columns[0] == {"label": "Customer", "fieldname": "customer", "fieldtype": "Link", "options": "Customer",
                          "width": "200"}
    assert [c["fieldname"] for c in columns] == ["customer", "deals", "win_rate", "amount", "note"]
    rows = normalize_result([["A", 2, 50, 10.5, "x"], {"customer": "B", "deals": 3, "win_rate": 100, "amount": None}],
                            columns)
    assert rows[0] == {"customer": "A", "deals": 2, "win_rate": 50, "amount": 10.5, "note": "x"}
    assert total_row(rows, columns) == ["Total", 5.0, 75.0, 10.5, ""]
