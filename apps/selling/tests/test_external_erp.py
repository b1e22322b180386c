"""Running with an external ERP (docs/EXTERNAL_ERP.md): customers, products and invoices
imported from files in the ERP's layout through the shipped example mappings (Persian
headers, Jalali dates, Persian digits, value maps; Hebrew headers), re-imports updating by
external_id, invoices landing submitted without touching stock when the ERP keeps it, the
export in the same layout and its round trip, a low role refused, and a webhook on an
imported invoice's submit delivered to a loopback receiver."""
import json
import uuid

import pytest

import lowcode
from lowcode.core.doctype.data_import import data_import as di
from lowcode.core.doctype.data_import import template
from lowcode.core.doctype.data_import_mapping.data_import_mapping import export_data, export_rows
from lowcode.exceptions import PermissionError, ValidationError
from lowcode.tests.desk_helpers import as_user, make_user

from selling.tests.helpers import make_product, receive, stock_qty

CUSTOMERS, PRODUCTS = "External ERP - Customer (fa)", "External ERP - Product (fa)"
INVOICES, CUSTOMERS_HE = "External ERP - Sales Invoice (fa)", "External ERP - Customer (he)"
FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def fa(text):
    return str(text).translate(FA)


def code():
    return uuid.uuid4().hex[:6].upper()


def import_rows(tmp_path, mapping, rows, file_type="CSV", **options):
    path = tmp_path / f"erp-{uuid.uuid4().hex[:6]}.{file_type.lower()}"
    path.write_bytes(template.write_rows(rows, file_type))
    return di.import_file(None, str(path), mapping=mapping, **options)


def customer_by(external_id):
    from lowcode.utils import Obj
    return [Obj(r) for r in lowcode.get_all("Customer", filters={"external_id": external_id}, fields=[
        "name", "customer_name", "customer_type", "mobile_no", "external_system", "city"])]


def set_stock_in_erp(on):
    lowcode.db.set_single_value("CRM Settings", "stock_in_external_erp", int(on))


@pytest.fixture
def stock_in_erp(ctx):
    set_stock_in_erp(True)
    yield
    set_stock_in_erp(False)
    ctx.db.commit()


def test_customers_from_persian_headers_and_digits_then_a_reimport_updates(ctx, tmp_path):
    a, b = code(), code()
    header = ["کد مشتری", "نام مشتری", "نوع شخص", "تلفن همراه", "شهر", "ستونی که نگاشته نشده"]
    imp = import_rows(tmp_path, CUSTOMERS, [header, [fa(a), "شرکت آلفا", "حقوقی", "۰۹۱۲۱۲۳۴۵۶۷", "تهران", "x"],
                                            [b, "مریم رضایی", "حقیقی", "", "شیراز", ""]])
    assert (imp.status, imp.success_count) == ("Success", 2)
    [first] = customer_by(a)  # the code in Persian digits is kept in ASCII ones
    assert (first.customer_name, first.customer_type, first.external_system, first.city) == (
        "شرکت آلفا", "Company", "External ERP", "تهران")
    assert first.mobile_no.replace(" ", "").endswith("9121234567")
    assert customer_by(b)[0].customer_type == "Individual"  # the value map: حقیقی -> Individual

    again = import_rows(tmp_path, CUSTOMERS, [header, [a, "شرکت آلفا نو", "حقوقی", "", "کرج", ""]],
                        duplicate_handling="Update")
    assert again.status == "Success"
    [updated] = customer_by(a)  # the same record, updated: no duplicate
    assert (updated.name, updated.customer_name, updated.city) == (first.name, "شرکت آلفا نو", "کرج")


def test_hebrew_headers_and_value_map(ctx, tmp_path):
    c = code()
    imp = import_rows(tmp_path, CUSTOMERS_HE, [["מספר לקוח", "שם לקוח", "סוג לקוח", "עיר"],
                                               [c, "דנה כהן", "פרטי", "חיפה"]])
    assert imp.status == "Success"
    [row] = customer_by(c)
    assert (row.customer_name, row.customer_type, row.city) == ("דנה כהן", "Individual", "חיפה")


def test_a_mapping_names_its_bad_rows(ctx):
    doc = lowcode.get_doc("Data Import Mapping", CUSTOMERS).as_dict()
    for key in ("name", "creation", "modified", "owner", "modified_by"):
        doc.pop(key, None)
    doc["columns"] = [{"external_column": c["external_column"], "field": c["field"]} for c in doc["columns"]]
    doc["value_maps"] = [{k: v[k] for k in ("field", "external_value", "value")} for v in doc["value_maps"]]
    copy = lowcode.get_doc(dict(doc, mapping_name=f"Bad {code()}"))
    copy.columns[0].field = "no_such_field"
    with pytest.raises(ValidationError) as e:
        copy.insert()
    assert e.value.field == "columns" and "no_such_field" in e.value.message
    copy.columns[0].field = "external_id"
    copy.thousands_separator = "/"  # the decimal separator too
    with pytest.raises(ValidationError) as e:
        copy.insert()
    assert e.value.field == "thousands_separator"
    copy.thousands_separator = ","
    copy.value_maps[0].field = "website"  # a value map for a field no column fills
    with pytest.raises(ValidationError) as e:
        copy.insert()
    assert e.value.field == "value_maps"
    copy.value_maps[0].field = "customer_type"
    copy.key_field = "lead"  # a field of Customer no column fills
    with pytest.raises(ValidationError) as e:
        copy.insert()
    assert e.value.field == "key_field"
    copy.key_field = "external_id"
    assert copy.insert().name.startswith("Bad ")  # corrected, it saves


def invoice_rows(inv, customer_code, p1, p2):
    # one invoice, two lines (Frappe's layout: the second row has only line values);
    # 1403/05/12 (Jalali) is 2024-08-02; rate ۱۲۰,۰۰۰ is 120000 and ۲/۵ is 2.5 ("/": the decimal separator)
    return [["شماره فاکتور", "تاریخ فاکتور", "کد مشتری", "کد کالا", "مقدار", "فی", "درصد تخفیف"],
            [fa(inv), "۱۴۰۳/۰۵/۱۲", fa(customer_code), p1, "۲", "۱۲۰,۰۰۰", "۱۰"],
            [None, None, None, p2, "۲/۵", "۴۰,۰۰۰", None]]


def erp_world(tmp_path):
    customer_code, p1, p2 = code(), f"K-{code()}", f"K-{code()}"
    import_rows(tmp_path, CUSTOMERS, [["کد مشتری", "نام مشتری"], [customer_code, "بازرگانی بتا"]])
    products = import_rows(tmp_path, PRODUCTS, [["کد کالا", "نام کالا", "نرخ فروش"],
                                                [p1, "کالای یک", "۱۲۰,۰۰۰"], [p2, "کالای دو", "۴۰,۰۰۰"]])
    assert products.status == "Success"
    assert lowcode.db.get_value("Product", p1, "standard_rate") == 120000
    return customer_code, p1, p2, customer_by(customer_code)[0].name


def test_invoices_land_submitted_without_stock_and_a_reimport_adds_none(ctx, tmp_path, stock_in_erp):
    customer_code, p1, p2, customer = erp_world(tmp_path)
    inv = f"F-{code()}"
    imp = import_rows(tmp_path, INVOICES, invoice_rows(inv, customer_code, p1, p2))
    assert (imp.status, imp.success_count) == ("Success", 1), di.failed_logs(imp.name)
    [invoice] = lowcode.get_all("Sales Invoice", filters={"external_id": inv}, pluck="name")
    doc = lowcode.get_doc("Sales Invoice", invoice)
    # 2 x 120000 less 10 % = 216000; 2.5 x 40000 = 100000; net 316000, no taxes
    assert (doc.docstatus, doc.customer, str(doc.posting_date), doc.external_system) == (
        1, customer, "2024-08-02", "External ERP")
    assert [(i.product, i.qty, i.amount) for i in doc.items] == [(p1, 2, 216000), (p2, 2.5, 100000)]
    assert (doc.net_total, doc.grand_total, doc.outstanding_amount) == (316000, 316000, 316000)
    assert (stock_qty(p1), stock_qty(p2)) == (0, 0)  # the ERP keeps the stock: no ledger entry here
    assert not lowcode.get_all("Stock Ledger Entry", filters={"voucher_no": invoice})

    again = import_rows(tmp_path, INVOICES, invoice_rows(inv, customer_code, p1, p2), duplicate_handling="Update")
    assert again.status == "Success"  # the submitted record kept as it is, no second one
    assert lowcode.db.count("Sales Invoice", {"external_id": inv}) == 1

    # changed in the ERP: cancelled here, then imported again as a new version
    doc.cancel()
    rows = invoice_rows(inv, customer_code, p1, p2)
    rows[1][4] = "۳"  # 3 x 120000 less 10 % = 324000; + 100000 = 424000
    newer = import_rows(tmp_path, INVOICES, rows, duplicate_handling="Update")
    assert newer.status == "Success"
    versions = lowcode.get_all("Sales Invoice", filters={"external_id": inv}, fields=["docstatus", "grand_total"])
    assert sorted((v["docstatus"], v["grand_total"]) for v in versions) == [(1, 424000), (2, 316000)]


def test_tax_codes_through_the_value_map_and_back(ctx, tmp_path, stock_in_erp):
    customer_code, p1, p2, _ = erp_world(tmp_path)
    inv = f"F-{code()}"
    rows = invoice_rows(inv, customer_code, p1, p2)
    rows[0] += ["کد مالیات", "نرخ مالیات"]
    rows[1] += ["۰۱", "۱۰"]  # the ERP's tax code 01: VAT here, 10 %
    rows[2] += ["02", "1"]
    imp = import_rows(tmp_path, INVOICES, rows)
    assert imp.status == "Success", di.failed_logs(imp.name)
    doc = lowcode.get_doc("Sales Invoice", lowcode.get_all("Sales Invoice", filters={"external_id": inv},
                                                           pluck="name")[0])
    assert [(t.description, t.rate) for t in doc.taxes] == [("مالیات بر ارزش افزوده", 10), ("عوارض", 1)]
    # net 316000; taxes 10 % = 31600 and 1 % = 3160; gross 316000 + 34760 = 350760
    assert (doc.net_total, doc.total_taxes, doc.grand_total) == (316000, 34760, 350760)
    exported = export_rows(lowcode.get_doc("Data Import Mapping", INVOICES), {"external_id": inv})
    assert [r[-2:] for r in exported[1:]] == [["01", "10"], ["02", "1"]]  # the codes again

    # the customer's purchase history (360° view) counts it: net 316000, gross 350760, all outstanding
    from selling.customer_360 import invoice_section
    purchases = invoice_section(doc.customer)
    assert [r["name"] for r in purchases["rows"]] == [doc.name]
    assert {f["key"]: f["value"] for f in purchases["figures"]} == {
        "revenue_net": 316000, "invoiced_gross": 350760, "outstanding": 350760, "invoices": 1}


def test_without_the_setting_an_imported_invoice_takes_stock(ctx, tmp_path):
    customer_code, p1, p2, _ = erp_world(tmp_path)
    inv = f"F-{code()}"
    refused = import_rows(tmp_path, INVOICES, invoice_rows(inv, customer_code, p1, p2))
    assert refused.status == "Error" and "in stock" in di.failed_logs(refused.name)[0][1]
    assert lowcode.db.count("Sales Invoice", {"external_id": inv}) == 0  # the failed row left nothing
    receive(p1, 5)
    receive(p2, 5)
    ctx.db.commit()
    imp = import_rows(tmp_path, INVOICES, invoice_rows(inv, customer_code, p1, p2))
    assert imp.status == "Success"
    assert (stock_qty(p1), stock_qty(p2)) == (3, 2.5)  # 5 - 2, 5 - 2.5


def test_export_in_the_erp_layout_round_trips(ctx, tmp_path, stock_in_erp):
    customer_code, p1, p2, customer = erp_world(tmp_path)
    inv = f"F-{code()}"
    import_rows(tmp_path, INVOICES, invoice_rows(inv, customer_code, p1, p2))
    mapping = lowcode.get_doc("Data Import Mapping", INVOICES)
    rows = export_rows(mapping, {"external_id": inv})
    assert rows[0] == [c.external_column for c in mapping.columns]
    # the customer by its ERP code, the date in Jalali, numbers with "/" for decimals, lines below
    # (a line's description: the product's name, filled in from it)
    assert rows[1] == [inv, "1403/05/12", customer_code, None, p1, "کالای یک", "2", "120000", "10", None, None]
    assert rows[2] == [None, None, None, None, p2, "کالای دو", "2/5", "40000", None, None, None]

    response = export_data(INVOICES, "XLSX", json.dumps({"external_id": inv}))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    before = lowcode.get_doc("Sales Invoice", lowcode.get_all("Sales Invoice", filters={"external_id": inv},
                                                              pluck="name")[0])
    again = import_rows(tmp_path, INVOICES, template.read_rows(response.content, "XLSX"), "XLSX",
                        duplicate_handling="Update")
    assert again.status == "Success" and lowcode.db.count("Sales Invoice", {"external_id": inv}) == 1

    # customers: exported, then imported again as updates, give the same records
    cmap = lowcode.get_doc("Data Import Mapping", CUSTOMERS)
    crow = export_rows(cmap, {"external_id": customer_code})
    assert crow[1][:2] == [customer_code, "بازرگانی بتا"]
    reimport = import_rows(tmp_path, CUSTOMERS, crow, duplicate_handling="Update")
    assert reimport.status == "Success"
    assert [(c.name, c.customer_name) for c in customer_by(customer_code)] == [(customer, "بازرگانی بتا")]
    assert before.grand_total == 316000


def test_an_export_neutralises_formulas(ctx, tmp_path):
    c = code()
    import_rows(tmp_path, CUSTOMERS, [["کد مشتری", "نام مشتری"], [c, "=HYPERLINK(\"http://evil\")"]])
    content = export_data(CUSTOMERS, "CSV", json.dumps({"external_id": c})).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in content


def test_a_low_role_is_refused_and_nothing_is_written(ctx, tmp_path, unique):
    clerk = make_user(unique, "erpclerk", ["Accounts User"])  # reads customers; no create, no export
    ctx.db.commit()
    c = code()
    path = tmp_path / "c.csv"
    path.write_bytes(template.write_rows([["کد مشتری", "نام مشتری"], [c, "نباید"]], "CSV"))
    with as_user(clerk):
        with pytest.raises(PermissionError) as e:
            export_data(CUSTOMERS, "CSV")
        assert e.value.http_status == 403
        with pytest.raises(PermissionError):
            di.import_file(None, str(path), mapping=CUSTOMERS)
    assert customer_by(c) == []


def test_an_export_refuses_a_field_above_the_users_permission_level(ctx, unique):
    """A mapping that names a field of permission level 1: a Sales Manager (export on
    Customer, level 0 only) is refused naming the field, so the ERP file never carries it;
    for who reads level 1 (here the Administrator) the same export writes the value."""
    field = lowcode.get_doc({"doctype": "Custom Field", "dt": "Customer", "fieldname": f"credit_note_{unique[:6]}",
                             "label": "Credit Note", "fieldtype": "Data", "permlevel": 1}).insert()
    fieldname = field.fieldname
    ctx.db.commit()
    try:
        c = code()
        lowcode.get_doc({"doctype": "Customer", "customer_name": f"Level {c}", "external_id": c,
                         fieldname: "secret terms"}).insert()
        mapping = lowcode.get_doc({"doctype": "Data Import Mapping", "mapping_name": f"Levels {unique}",
                                   "external_system": "External ERP", "reference_doctype": "Customer",
                                   "key_field": "external_id",
                                   "columns": [{"external_column": "code", "field": "external_id"},
                                               {"external_column": "terms", "field": fieldname}]}).insert()
        manager = make_user(unique, "lvlmgr", ["Sales Manager"])
        ctx.db.commit()
        with as_user(manager):
            with pytest.raises(PermissionError) as e:
                export_rows(mapping, {"external_id": c})
            assert fieldname in str(e.value) and e.value.http_status == 403
        assert export_rows(mapping, {"external_id": c}) == [["code", "terms"], [c, "secret terms"]]
    finally:
        ctx.db.rollback()
        ctx.db.begin()
        lowcode.delete_doc("Custom Field", field.name, ignore_permissions=True)
        ctx.db.commit()


def test_webhooks_on_invoice_submit_and_cancel_and_customer_changes_reach_the_receiver(ctx, tmp_path, stock_in_erp,
                                                                                        bench):
    import os
    from lowcode.sites import get_site_config, read_json, write_json
    from lowcode.tests.test_webhooks import Receiver, run_jobs
    path = os.path.join(bench, ctx.site, "site_config.json")
    if not get_site_config(ctx.site, bench).get("allow_private_webhook_targets"):  # the receiver is on loopback
        write_json(path, {**read_json(path), "allow_private_webhook_targets": 1})
    ctx.conf.update({"allow_private_webhook_targets": 1})
    server = Receiver()
    hooks = [lowcode.get_doc({"doctype": "Webhook", "webhook_doctype": doctype, "webhook_docevent": event,
                              "request_url": server.url, "request_structure": "JSON", "enabled": 1,
                              "webhook_data": [{"fieldname": "external_id", "key": "external_id"},
                                               {"fieldname": field, "key": field}]}).insert()
             for doctype, event, field in (("Sales Invoice", "on_submit", "grand_total"),
                                           ("Sales Invoice", "on_cancel", "status"),
                                           ("Customer", "on_update", "customer_name"))]
    try:
        customer_code, p1, p2, customer = erp_world(tmp_path)
        ctx.db.commit()
        inv = f"F-{code()}"
        assert import_rows(tmp_path, INVOICES, invoice_rows(inv, customer_code, p1, p2)).status == "Success"
        import_rows(tmp_path, CUSTOMERS, [["کد مشتری", "نام مشتری"], [customer_code, "بازرگانی بتا نو"]],
                    duplicate_handling="Update")
        invoice = lowcode.get_doc("Sales Invoice", lowcode.get_all("Sales Invoice", filters={"external_id": inv},
                                                                   pluck="name")[0])
        invoice.cancel()
        ctx.db.commit()
        run_jobs(ctx)
        bodies = [json.loads(r["body"]) for r in server.requests]
        assert {"external_id": inv, "grand_total": 316000} in bodies  # the imported invoice's submit
        assert {"external_id": inv, "status": "Cancelled"} in bodies
        assert {"external_id": customer_code, "customer_name": "بازرگانی بتا نو"} in bodies
    finally:
        server.close()
        for hook in hooks:
            lowcode.delete_doc("Webhook", hook.name, ignore_permissions=True)
        ctx.db.commit()


def test_the_export_method_over_rest(ctx, client, tmp_path, unique):
    from lowcode.testing.http import token
    c = code()
    import_rows(tmp_path, CUSTOMERS, [["کد مشتری", "نام مشتری", "نوع شخص"], [c, "پارس", "حقیقی"]])
    admin = token(make_user(unique, "erpadmin", ["System Manager"]))
    clerk = token(make_user(unique, "erpclerk2", ["Accounts User"]))
    ctx.db.commit()
    url = "/api/method/lowcode.core.doctype.data_import_mapping.data_import_mapping.export_data"
    query = {"mapping": CUSTOMERS, "filters": json.dumps({"external_id": c})}
    answer = client.get(url, query, **admin)
    assert answer.status_code == 200
    rows = template.read_rows(answer.content, "CSV")
    assert rows[0][:3] == ["کد مشتری", "نام مشتری", "نوع شخص"] and rows[1][:3] == [c, "پارس", "حقیقی"]
    refused = client.get(url, query, **clerk)
    assert refused.status_code == 403
    bad = client.get(url, {"mapping": CUSTOMERS, "filters": "{nope"}, **admin)
    assert bad.status_code == 417 and "filters" in bad.content.decode()  # ValidationError: Frappe's 417


def test_cli_import_and_export_with_a_mapping(site, bench, tmp_path):
    from click.testing import CliRunner
    from lowcode.cli import main
    c = code()
    path = tmp_path / "customers.xlsx"
    path.write_bytes(template.write_rows([["کد مشتری", "نام مشتری", "نوع شخص"], [fa(c), "کاوه", "حقیقی"]], "XLSX"))
    base = ["--sites-path", bench, "--site", site]
    result = CliRunner().invoke(main, base + ["data-import", "--mapping", CUSTOMERS, "--file", str(path),
                                              "--duplicates", "update"])
    assert result.exit_code == 0 and "Success; 1 imported, 0 failed of 1" in result.output, result.output
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, base + ["data-export", "--mapping", CUSTOMERS, "--file", str(out),
                                              "--filters", json.dumps({"external_id": c})])
    assert result.exit_code == 0 and "1 rows written" in result.output, result.output
    rows = template.read_rows(out.read_bytes(), "CSV")
    assert rows[1][:3] == [c, "کاوه", "حقیقی"]  # the value map backwards: Individual -> حقیقی
    result = CliRunner().invoke(main, base + ["data-export", "--mapping", CUSTOMERS, "--file", str(out),
                                              "--filters", "{nope"])
    assert result.exit_code == 2 and "--filters" in result.output
    result = CliRunner().invoke(main, base + ["data-import", "--file", str(path)])
    assert result.exit_code == 2 and "--doctype or --mapping" in result.output


def test_a_data_import_picks_a_mapping_previews_and_runs_as_a_job(ctx, tmp_path):
    from lowcode.api.files import save_file
    from lowcode.core.doctype.data_import.test_data_import import run
    c = code()
    content = template.write_rows([["نام مشتری", "کد مشتری", "نوع شخص"], ["ونوس", fa(c), "حقوقی"]], "CSV")
    url = save_file(f"erp-{c}.csv", content, private=True).file_url
    with pytest.raises(ValidationError) as e:
        lowcode.get_doc({"doctype": "Data Import", "reference_doctype": "Lead", "import_file": url,
                         "import_mapping": CUSTOMERS}).insert()
    assert e.value.field == "import_mapping"
    imp = lowcode.get_doc({"doctype": "Data Import", "reference_doctype": "Customer", "import_file": url,
                           "import_mapping": CUSTOMERS}).insert()
    preview = di.get_preview_from_template(imp.name)
    assert [c["target"] for c in preview["columns"]] == ["customer_name", "external_id", "customer_type"]
    assert preview["errors"] == [] and lowcode.db.count("Customer", {"external_id": c}) == 0  # nothing written
    assert run(ctx, imp).status == "Success"
    assert [(r.customer_name, r.customer_type) for r in customer_by(c)] == [("ونوس", "Company")]


def test_dates_written_in_the_mappings_calendar():
    import datetime
    from lowcode.core.doctype.data_import_mapping.data_import_mapping import _date_out
    assert _date_out(datetime.date(2024, 8, 2), "Jalali") == "1403/05/12"
    assert _date_out("2024-08-02 14:30:05.123456", "Jalali") == "1403/05/12 14:30:05"
    assert _date_out(datetime.datetime(2024, 3, 20, 9, 0), "Jalali") == "1403/01/01 09:00:00"  # Nowruz
    assert _date_out(datetime.date(2024, 8, 2), "Gregorian") == "2024-08-02"


def test_the_mapping_form_and_a_submitted_erp_invoice_in_the_desk(ctx, client, tmp_path, stock_in_erp, unique):
    import re
    from lowcode.testing.http import login
    customer_code, p1, p2, _ = erp_world(tmp_path)
    inv = f"F-{code()}"
    import_rows(tmp_path, INVOICES, invoice_rows(inv, customer_code, p1, p2))
    name = lowcode.get_all("Sales Invoice", filters={"external_id": inv}, pluck="name")[0]
    login(ctx, client, make_user(unique, "erpdesk", ["System Manager"]))
    form = client.get("/app/data-import-mapping/" + CUSTOMERS.replace(" ", "%20"))
    assert form.status_code == 200 and "کد مشتری" in form.content.decode()
    from html import unescape
    from urllib.parse import quote
    link = re.search(r'href="(/api/method/[^"]*export_data[^"]*)"', form.content.decode())
    assert link and f"mapping={quote(CUSTOMERS, safe='')}&" in unescape(link.group(1))  # the form's export button
    exported = client.get(unescape(link.group(1)))
    assert exported.status_code == 200 and template.read_rows(exported.content, "XLSX")[0][0] == "کد مشتری"
    html = client.get(f"/app/sales-invoice/{name}").content.decode()
    assert inv in html and 'id="f-customer" dir="auto" data-readonly' in html  # submitted: shown, not editable
    assert not re.search(r'<(input|select|textarea)[^>]*name="(customer|external_id)"', html)
