"""Field types: every type in the registry round-trips through a real document on both
engines, invalid values are refused naming the field, and the schema has one real
column per storing field with the indexes the metadata asks for."""
import uuid

import pytest

import lowcode
from lowcode.exceptions import (LinkValidationError, MandatoryError, UniqueValidationError,
                                ValidationError)
from lowcode.fields import registry

LAYOUT = {"Section Break", "Column Break", "Tab Break", "HTML"}
TABLES = {"Table", "Table MultiSelect"}


def f(fieldname, fieldtype, **props):
    return dict(fieldname=fieldname, fieldtype=fieldtype, label=fieldname.replace("_", " ").title(), **props)


@pytest.fixture(scope="module")
def dts(site, bench):
    """Committed DocTypes shared by this module's tests (one set per site):
    a link target, a child table, a child for Table MultiSelect, and one DocType with a
    field of every type in the registry."""
    u = uuid.uuid4().hex[:6]
    names = {"target": f"FT Target {u}", "child": f"FT Child {u}", "tag": f"FT Tag {u}",
             "main": f"FT All {u}"}
    perms = [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}]

    def make(name, fields, **props):
        lowcode.get_doc({"doctype": "DocType", "name": name, "module": "Custom", "fields": fields,
                         "permissions": [] if props.get("istable") else perms, **props}).insert()

    with lowcode.site_context(site, bench=bench) as local:
        make(names["target"], [f("title", "Data")], autoname="field:title")
        make(names["child"], [f("item", "Data", reqd=1), f("qty", "Int"), f("rate", "Currency")], istable=1)
        make(names["tag"], [f("target", "Link", options=names["target"])], istable=1)
        fields = [
            f("data", "Data", in_standard_filter=1),
            f("email", "Data", options="Email"),
            f("phone", "Data", options="Phone"),
            f("mobile", "Phone"),
            f("url", "Data", options="URL"),
            f("code_no", "Data", unique=1),
            f("sb1", "Section Break"),
            f("small_text", "Small Text"),
            f("text", "Text"),
            f("long_text", "Long Text"),
            f("text_editor", "Text Editor"),
            f("code", "Code"),
            f("cb1", "Column Break"),
            f("int_value", "Int"),
            f("float_value", "Float"),
            f("currency", "Currency"),
            f("percent", "Percent"),
            f("check", "Check"),
            f("select", "Select", options="\nAlpha\nBeta\nGamma"),
            f("tb1", "Tab Break"),
            f("link", "Link", options=names["target"]),
            f("link_doctype", "Link", options="DocType"),
            f("dynamic_link", "Dynamic Link", options="link_doctype"),
            f("date", "Date"),
            f("datetime", "Datetime"),
            f("time", "Time"),
            f("duration", "Duration"),
            f("html1", "HTML", options="<p>static help</p>"),
            f("items", "Table", options=names["child"]),
            f("tags", "Table MultiSelect", options=names["tag"]),
            f("attach", "Attach"),
            f("attach_image", "Attach Image"),
            f("rating", "Rating"),
            f("color", "Color"),
            f("json_value", "JSON"),
            f("read_only", "Read Only"),
            f("autocomplete", "Autocomplete", options="apple\nbanana"),
            f("required", "Data", reqd=1),
        ]
        make(names["main"], fields)
        for title in ("T1", "T2"):
            lowcode.get_doc({"doctype": names["target"], "title": title}).insert()
        local.db.commit()
    names["fields"] = fields
    return names


def new(dts, **values):
    data = {"doctype": dts["main"], "required": "yes"}
    data.update(values)
    return lowcode.get_doc(data)


def test_fixture_covers_every_registered_fieldtype(dts):
    used = {df["fieldtype"] for df in dts["fields"]}
    assert used == set(registry), f"types without a round-trip test: {set(registry) - used}"


ROUND_TRIP = {
    "data": "Hello world",
    "email": "sara@example.com",
    "phone": "+98 912 345 6789",
    "mobile": "+989123456789",
    "url": "https://example.com/path?q=1",
    "small_text": "short\nlines",
    "text": "x" * 5000,
    "long_text": "long " * 20000,
    "code": "def f():\n    return '<script>'  # kept verbatim\n",
    "int_value": 42,
    "float_value": 3.25,
    "currency": 1234567.5,
    "percent": 12.5,
    "check": 1,
    "select": "Beta",
    "link": "T1",
    "date": "2024-02-29",
    "datetime": "2024-03-01 10:20:30",
    "time": "10:20:30",
    "duration": 5400.0,
    "attach": "/files/report.pdf",
    "attach_image": "/private/files/photo.png",
    "rating": 0.6,
    "color": "#1e90ff",
    "json_value": {"a": [1, 2, 3], "b": {"nested": "ü"}, "c": None},
    "read_only": "computed value",
    "autocomplete": "apple",
}


def test_every_field_type_round_trips(ctx, dts):
    doc = new(dts, **ROUND_TRIP, link_doctype=dts["target"], dynamic_link="T2",
              items=[{"item": "Pen", "qty": 3, "rate": 1.5}, {"item": "Ink", "qty": 1, "rate": 20}],
              tags=[{"target": "T1"}, {"target": "T2"}])
    doc.insert()
    loaded = lowcode.get_doc(dts["main"], doc.name)
    for fieldname, value in ROUND_TRIP.items():
        assert loaded.get(fieldname) == value, fieldname
        assert type(loaded.get(fieldname)) is type(value), fieldname
    assert loaded.link_doctype == dts["target"]
    assert loaded.dynamic_link == "T2"
    assert [(r.item, r.qty, r.rate, r.idx) for r in loaded.items] == [("Pen", 3, 1.5, 1), ("Ink", 1, 20.0, 2)]
    assert all(r.parent == doc.name and r.parentfield == "items" and r.parenttype == dts["main"]
               for r in loaded.items)
    assert [r.target for r in loaded.tags] == ["T1", "T2"]
    # layout fields carry no value
    for fieldname in ("sb1", "cb1", "tb1", "html1"):
        assert loaded.get(fieldname) is None


def test_values_are_coerced_to_their_type(ctx, dts):
    doc = new(dts, int_value="7", float_value="1,234.5", check="true", duration="1h 30m",
              date="2024-01-05T13:00:00", time="09:05", datetime="2024-01-05T13:14:15").insert()
    loaded = lowcode.get_doc(dts["main"], doc.name)
    assert loaded.int_value == 7
    assert loaded.float_value == 1234.5
    assert loaded.check == 1
    assert loaded.duration == 5400.0
    assert loaded.date == "2024-01-05"
    assert loaded.time == "09:05:00"
    assert loaded.datetime == "2024-01-05 13:14:15"


def test_unset_check_is_zero_and_unset_values_are_none(ctx, dts):
    doc = new(dts).insert()
    loaded = lowcode.get_doc(dts["main"], doc.name)
    assert loaded.check == 0
    assert loaded.int_value is None
    assert loaded.json_value is None
    assert loaded.items == []


def test_text_editor_is_sanitised(ctx, dts):
    html = ('<p onclick="steal()">Hello <b>world</b><script>alert(document.cookie)</script>'
            '<img src="x.png" onerror="evil()"><a href="javascript:evil()">link</a></p>')
    doc = new(dts, text_editor=html).insert()
    stored = lowcode.get_doc(dts["main"], doc.name).text_editor
    assert "<b>world</b>" in stored and "Hello" in stored
    lowered = stored.lower()
    for bad in ("<script", "alert(", "onclick", "onerror", "javascript:"):
        assert bad not in lowered, bad


@pytest.mark.parametrize("value,stored", [
    ("09123456789", "09123456789"),          # Iranian mobile, read in the site's region (IR)
    ("+98 912 345 6789", "+98 912 345 6789"),
    ("۰۹۱۲۳۴۵۶۷۸۹", "09123456789"),          # Persian digits
    ("+972-50-123-4567", "+972-50-123-4567"),  # Israeli mobile (the example fields/text.py documents)
], ids=["ir-local", "ir-intl", "persian-digits", "israeli"])
def test_phone_accepts_iranian_israeli_and_persian_digits(ctx, dts, value, stored):
    doc = new(dts, phone=value).insert()
    assert lowcode.get_doc(dts["main"], doc.name).phone == stored


def test_int_accepts_persian_digits(ctx, dts):
    doc = new(dts, int_value="۴۲").insert()
    assert lowcode.get_doc(dts["main"], doc.name).int_value == 42


INVALID = [
    ("email", "not-an-email"),
    ("email", "a@b.com, broken@"),
    ("phone", "0912"),
    ("phone", "call me"),
    ("mobile", "0912"),
    ("mobile", "call me"),
    ("mobile", "+999 123"),
    ("url", "ftp://example.com/x"),
    ("int_value", "abc"),
    ("int_value", "1.5"),
    ("float_value", "twelve"),
    ("check", "maybe"),
    ("select", "Delta"),
    ("date", "2024-02-30"),
    ("datetime", "2024-13-01 10:00:00"),
    ("time", "25:61:00"),
    ("duration", "soon"),
    ("rating", 1.5),
    ("rating", -0.1),
    ("color", "red"),
    ("json_value", "{bad"),
    ("attach", "javascript:x"),
    # a link a browser would run or send elsewhere, however it is spelled
    ("attach", " JAVASCRIPT:alert(1)"),
    ("attach", "data:text/html,<script>alert(1)</script>"),
    ("attach", "//evil.example.com/files/x.pdf"),
    ("attach", "/files/x\t.pdf"),
    ("url", "javascript:alert(1)"),
    ("url", "//evil.example.com"),
    ("url", "https://ok.example.com/\njavascript:x"),
    ("attach_image", "file:///etc/passwd"),
    ("data", "x" * 141),
    ("data", {"not": "text"}),
    ("items", "not a list"),
]


@pytest.mark.parametrize("fieldname,value", INVALID, ids=[f"{n}={str(v)[:20]}" for n, v in INVALID])
def test_invalid_value_is_refused_naming_the_field(ctx, dts, fieldname, value):
    before = ctx.db.sql(f"SELECT COUNT(*) FROM `tab{dts['main']}`")[0][0]
    with pytest.raises(ValidationError) as info:
        new(dts, **{fieldname: value}).insert()
    exc = info.value
    assert exc.field == fieldname
    assert exc.http_status == 417
    label = fieldname.replace("_", " ").title()
    assert label in str(exc)
    assert ctx.db.sql(f"SELECT COUNT(*) FROM `tab{dts['main']}`")[0][0] == before


def test_data_of_exactly_140_characters_is_accepted(ctx, dts):
    doc = new(dts, data="x" * 140).insert()
    assert lowcode.get_doc(dts["main"], doc.name).data == "x" * 140


def test_link_to_missing_document_is_refused(ctx, dts):
    with pytest.raises(LinkValidationError) as info:
        new(dts, link="No Such Target").insert()
    assert info.value.field == "link"
    assert info.value.http_status == 417
    assert "No Such Target" in str(info.value)


def test_dynamic_link_to_missing_document_is_refused(ctx, dts):
    with pytest.raises(LinkValidationError) as info:
        new(dts, link_doctype=dts["target"], dynamic_link="Nope").insert()
    assert info.value.field == "dynamic_link"


def test_dynamic_link_to_a_child_table_is_refused(ctx, dts):
    """A child table's rows are not documents of their own: a Dynamic Link cannot name one."""
    with pytest.raises(LinkValidationError) as info:
        new(dts, link_doctype=dts["child"], dynamic_link="anything").insert()
    assert info.value.field == "dynamic_link" and info.value.http_status == 417
    assert "child table" in str(info.value)


def test_dynamic_link_to_an_existing_document_is_accepted(ctx, dts):
    target = lowcode.get_doc({"doctype": dts["target"], "title": f"DL {uuid.uuid4().hex[:6]}"}).insert()
    doc = new(dts, link_doctype=dts["target"], dynamic_link=target.name).insert()
    assert lowcode.get_doc(dts["main"], doc.name).dynamic_link == target.name


def test_mandatory_missing_names_the_field(ctx, dts):
    with pytest.raises(MandatoryError) as info:
        lowcode.get_doc({"doctype": dts["main"], "data": "no required"}).insert()
    assert info.value.field == "required"
    assert info.value.http_status == 417
    assert "Required" in str(info.value)


def test_mandatory_whitespace_only_value_is_missing(ctx, dts):
    with pytest.raises(MandatoryError) as info:
        new(dts, required="   ").insert()
    assert info.value.field == "required"


def test_unique_violation(ctx, dts):
    new(dts, code_no="C-1").insert()
    with pytest.raises(UniqueValidationError) as info:
        new(dts, code_no="C-1").insert()
    assert info.value.field == "code_no"
    assert info.value.http_status == 409
    assert "C-1" in str(info.value)


def test_unique_violation_on_save(ctx, dts):
    new(dts, code_no="S-1").insert()
    other = new(dts, code_no="S-2").insert()
    other.code_no = "S-1"
    with pytest.raises(UniqueValidationError) as info:
        other.save()
    assert info.value.field == "code_no"


def test_child_row_error_names_the_row_and_field(ctx, dts):
    doc = new(dts, items=[{"item": "ok", "qty": 1}, {"item": "bad", "qty": "many"}])
    with pytest.raises(ValidationError) as info:
        doc.insert()
    assert info.value.field == "qty"
    assert "row 2" in str(info.value)
    assert "Items" in str(info.value)


def test_child_row_mandatory_names_the_row(ctx, dts):
    doc = new(dts, items=[{"item": "ok"}, {"qty": 2}])
    with pytest.raises(MandatoryError) as info:
        doc.insert()
    assert info.value.field == "item"
    assert "row 2" in str(info.value)


def test_child_row_link_error_names_the_row(ctx, dts):
    doc = new(dts, tags=[{"target": "T1"}, {"target": "missing"}])
    with pytest.raises(LinkValidationError) as info:
        doc.insert()
    assert info.value.field == "target"
    assert "row 2" in str(info.value)


# -- schema ---------------------------------------------------------------------------

def test_one_real_column_per_storing_field(ctx, dts):
    columns = ctx.db.get_columns(dts["main"])
    for df in dts["fields"]:
        if df["fieldtype"] in LAYOUT or df["fieldtype"] in TABLES:
            assert df["fieldname"] not in columns, df["fieldname"]
        else:
            assert df["fieldname"] in columns, df["fieldname"]
    for std in ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"):
        assert std in columns
    storing = [df for df in dts["fields"] if df["fieldtype"] not in LAYOUT | TABLES]
    assert set(columns) == {df["fieldname"] for df in storing} | {
        "name", "owner", "creation", "modified", "modified_by", "docstatus", "idx",
        "_assign", "_comments", "_liked_by", "_user_tags"}


def test_child_table_has_parent_columns(ctx, dts):
    columns = ctx.db.get_columns(dts["child"])
    for c in ("parent", "parentfield", "parenttype", "item", "qty", "rate"):
        assert c in columns
    assert any(cols[0] == "parent" for _, cols in ctx.db.get_indexes(dts["child"]).values())


def test_column_types_fit_the_field_types(ctx, dts):
    columns = ctx.db.get_columns(dts["main"])
    if ctx.db.db_type == "mariadb":
        assert columns["int_value"].startswith("int")
        assert columns["check"].startswith("int")
        assert columns["currency"].startswith("decimal")
        assert columns["date"] == "date"
        assert columns["long_text"] == "longtext"
        assert columns["data"] == "varchar(140)"
    else:
        assert columns["int_value"] == "integer"
        assert columns["currency"] == "real"


def _indexed_first(indexes, column, unique=None):
    return [name for name, (is_unique, cols) in indexes.items()
            if cols and cols[0] == column and (unique is None or is_unique == unique)]


def test_indexes_for_link_unique_and_standard_filter_fields(ctx, dts):
    indexes = ctx.db.get_indexes(dts["main"])
    assert _indexed_first(indexes, "link"), indexes
    assert _indexed_first(indexes, "dynamic_link"), indexes
    assert _indexed_first(indexes, "data"), indexes          # in_standard_filter
    assert _indexed_first(indexes, "code_no", unique=True), indexes
    assert _indexed_first(indexes, "modified"), indexes
    assert not _indexed_first(indexes, "email"), indexes     # a plain field gets none
    assert not _indexed_first(indexes, "long_text"), indexes


def test_a_doctype_asks_for_indexes_over_several_columns():
    """A DocType's "indexes" (lists of columns) come on top of the per-field ones, each
    named within the engines' 64 characters and distinct; a column that is not a field
    is refused by name."""
    from lowcode.exceptions import DocTypeDefinitionError
    from lowcode.meta import Meta, validate_definition
    from lowcode.schema import wanted_indexes
    many = ["first_response_time", "resolution_time", "response_breached", "resolution_breached", "reopen_count"]
    defn = {"name": "Index Test", "module": "Custom",
            "fields": [f("status", "Data"), f("opened_on", "Datetime")] + [f(n, "Int") for n in many],
            "indexes": [["status", "opened_on"], ["opened_on", "status"] + many, ["opened_on", "status"] + many[:4]]}
    validate_definition(defn, {})
    got = {tuple(cols): name for name, cols, _ in wanted_indexes(Meta(defn))}
    assert got[("status", "opened_on")] == "index_test__ix_status_opened_on"
    assert ("opened_on", "status", *many) in got and ("opened_on", "status", *many[:4]) in got
    names = list(got.values())
    assert len(set(names)) == len(names) and max(len(n) for n in names) <= 64
    with pytest.raises(DocTypeDefinitionError) as caught:
        validate_definition(dict(defn, indexes=[["status", "closed_on"]]), {})
    assert caught.value.field == "closed_on"
    with pytest.raises(DocTypeDefinitionError):
        validate_definition(dict(defn, indexes=["status"]), {})


def test_a_sort_field_that_is_also_a_filter_gets_one_index(site, bench):
    """A DocType sorted by a field it also offers as a standard filter (or a Link) asks
    for that field's index once: twice, under one name, and the table could not be built."""
    from lowcode.meta import Meta
    from lowcode.schema import wanted_indexes
    start = dict(f("period_start", "Date"), in_standard_filter=1)
    defn = {"name": "Sort Filter Test", "module": "Custom", "sort_field": "period_start",
            "fields": [start, f("owner_user", "Link", options="User")]}
    indexes = wanted_indexes(Meta(defn))
    names = [name for name, _, _ in indexes]
    assert len(set(names)) == len(names), names
    assert [cols for _, cols, _ in indexes if cols[0] == "period_start"] == [["period_start"]]
    assert ["owner_user", "period_start"] in [cols for _, cols, _ in indexes]
    name = f"Sort Filter {uuid.uuid4().hex[:6]}"
    with lowcode.site_context(site, bench=bench) as local:
        lowcode.get_doc(dict(defn, doctype="DocType", name=name, permissions=[
            {"role": "System Manager", "read": 1, "write": 1, "create": 1}])).insert()
        local.db.commit()
        assert lowcode.get_doc({"doctype": name, "period_start": "2026-01-01"}).insert().name


# -- engine limits: a value either round-trips or is refused naming the field -------------

@pytest.mark.parametrize("fieldname,value", [
    ("text", "x" * 70000),                 # over MariaDB's 64 KB TEXT
    ("small_text", "y" * 70000),
    ("currency", 1234567890123.5),         # 13 integer digits (IRR amounts get this big)
    ("float_value", -98765432109876.25),
], ids=["text-70k", "small-text-70k", "currency-1e12", "float-1e13"])
def test_large_values_round_trip_or_are_refused_naming_the_field(ctx, dts, fieldname, value):
    doc = new(dts, **{fieldname: value})
    try:
        doc.insert()
    except ValidationError as e:
        assert e.field == fieldname
        assert e.http_status == 417
    else:
        assert lowcode.get_doc(dts["main"], doc.name).get(fieldname) == value


def test_unicode_text_round_trips(ctx, dts):
    values = {"data": "سلام دنیا ۱۲۳ — שלום עולם 😀", "small_text": "خط اول\nשורה שנייה",
              "text_editor": "<p dir=\"rtl\">سلام <b>دنیا</b></p>", "json_value": {"نام": "سارا", "שם": ["א", 1]}}
    doc = new(dts, **values).insert()
    loaded = lowcode.get_doc(dts["main"], doc.name)
    for key in ("data", "small_text", "json_value"):
        assert loaded.get(key) == values[key]
    assert "سلام" in loaded.text_editor and "<b>دنیا</b>" in loaded.text_editor
    assert new(dts, data="ش" * 140).insert()  # 140 characters, not bytes


def test_unique_error_names_the_field_on_a_long_doctype_name(ctx, make_doctype, unique):
    # index names are cut to 64 characters; the error must still name the field
    name = make_doctype([{"fieldname": "external_reference_number", "fieldtype": "Data", "unique": 1,
                          "label": "External Reference"}],
                        name=f"Partner Integration Settings Entry {unique} Long Name Here")
    lowcode.get_doc({"doctype": name, "external_reference_number": "EXT-1"}).insert()
    with pytest.raises(UniqueValidationError) as info:
        lowcode.get_doc({"doctype": name, "external_reference_number": "EXT-1"}).insert()
    assert info.value.field == "external_reference_number"
    assert "EXT-1" in str(info.value) and "External Reference" in str(info.value)


def test_defaults(ctx, make_doctype):
    import datetime
    dt = make_doctype([
        {"fieldname": "data", "fieldtype": "Data", "default": "hello"},
        {"fieldname": "count", "fieldtype": "Int", "default": "5"},
        {"fieldname": "active", "fieldtype": "Check", "default": "1"},
        {"fieldname": "stage", "fieldtype": "Select", "options": "\nNew\nWon", "reqd": 1},
        {"fieldname": "kind", "fieldtype": "Select", "options": "A\nB", "default": "B"},
        {"fieldname": "on", "fieldtype": "Date", "default": "Today"},
        {"fieldname": "by", "fieldtype": "Link", "options": "User", "default": "__user"},
    ])
    doc = lowcode.get_doc({"doctype": dt}).insert()
    loaded = lowcode.get_doc(dt, doc.name)
    assert (loaded.data, loaded.count, loaded.active, loaded.stage, loaded.kind) == ("hello", 5, 1, "New", "B")
    assert loaded.on == datetime.date.today().isoformat()
    assert loaded.by == "Administrator"
    # an explicit value wins over the default
    doc = lowcode.get_doc({"doctype": dt, "data": "mine", "count": 0, "active": 0}).insert()
    assert (doc.data, doc.count, doc.active) == ("mine", 0, 0)


@pytest.mark.parametrize("value,safe", [
    ("https://example.com/a?b=1", True), ("HTTP://EXAMPLE.COM", True), ("/files/a b.pdf", True),
    ("relative/page", True), ("#top", True), ("mailto:sales@example.com", True), ("tel:+989121234567", True),
    ("javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False), (" javascript:alert(1)", False),
    ("\x01javascript:alert(1)", False), ("java\tscript:alert(1)", False), ("java\nscript:alert(1)", False),
    ("vbscript:x", False), ("data:text/html,<script>", False), ("//evil.example.com", False),
    ("/\\evil.example.com", False), ("\\\\evil.example.com", False), ("https://ok.example.com/a\tb", False),
    ("mailto:", False), ("http://", False), ("", False), (None, False),
])
def test_safe_url(value, safe):
    """The one test of link targets, used on save and by the templates' safe_url filter."""
    from lowcode.urls import is_safe_url, safe_url
    assert is_safe_url(value) is safe
    assert safe_url(value) == (value if safe else "")


# -- the Phone type: E.164 storage, desk display and input, filters --------------------

@pytest.mark.parametrize("value,stored", [
    ("09123456789", "+989123456789"),          # read in the site's region (IR)
    ("+98 (912) 345-6789", "+989123456789"),
    ("۰۹۱۲ ۳۴۵ ۶۷۸۹", "+989123456789"),        # Persian digits
    ("٠٩١٢٣٤٥٦٧٨٩", "+989123456789"),          # Arabic-Indic digits
    ("+972-50-123-4567", "+972501234567"),     # an Israeli mobile
], ids=["ir-local", "ir-formatted", "persian-digits", "arabic-digits", "israeli"])
def test_phone_type_stores_e164(ctx, dts, value, stored):
    doc = new(dts, mobile=value).insert()
    assert lowcode.get_doc(dts["main"], doc.name).mobile == stored
    assert ctx.db.sql(f"SELECT `mobile` FROM `tab{dts['main']}` WHERE `name`=%s", (doc.name,))[0][0] == stored


def test_phone_type_filter_matches_the_number_however_typed(ctx, dts):
    doc = new(dts, mobile="+98 912 777 0001").insert()
    for typed in ("09127770001", "۰۹۱۲۷۷۷۰۰۰۱", "+989127770001"):
        assert lowcode.get_list(dts["main"], filters={"mobile": typed}, pluck="name") == [doc.name], typed
    assert doc.name in lowcode.get_list(dts["main"], filters={"mobile": ["like", "%7770001"]}, pluck="name")
    with pytest.raises(ValidationError) as info:
        lowcode.get_list(dts["main"], filters={"mobile": "not a phone"})
    assert info.value.field == "mobile"


def test_phone_type_desk_display_input_and_control():
    from lowcode.desk import formatting
    from lowcode.desk.render import environment
    df = {"fieldname": "mobile", "fieldtype": "Phone", "label": "Mobile"}
    prefs = formatting.Prefs(lang="fa", local_digits=True)
    shown = str(formatting.display_value("+989123456789", df, prefs))
    assert shown == '<a href="tel:+989123456789" dir="ltr" data-tel>+989123456789</a>'
    assert str(formatting.display_value("<b>", df, prefs)) == "&lt;b&gt;"  # no digits: escaped text
    assert formatting.parse_input("\u2066۰۹۱۲۳۴۵۶۷۸۹\u2069", df, prefs) == "۰۹۱۲۳۴۵۶۷۸۹"
    assert registry["Phone"].coerce(formatting.parse_input("۰۹۱۲۳۴۵۶۷۸۹", df, prefs), df) == "+989123456789"
    module = environment().get_template("controls.html").make_module({"prefs": prefs})
    html = str(module.control(lowcode.utils.Obj(df), "+989123456789", "mobile", True))
    assert 'type="tel"' in html and 'name="mobile"' in html and 'value="+989123456789"' in html
    assert 'href="tel:+989123456789"' in html  # the call link beside a saved number


# -- traits: code asks the registry instead of listing type names ------------------------

def test_traits_answer_what_the_old_lists_said():
    from lowcode.fields import types_where
    assert types_where("numeric") == {"Int", "Float", "Currency", "Percent", "Duration", "Rating"}
    assert types_where("comparable") == types_where("numeric") | {"Date", "Datetime", "Time"}
    assert types_where("layout") == LAYOUT
    assert types_where("table") == TABLES
    assert types_where("may_be_unique", False) == {"Small Text", "Text", "Long Text", "Text Editor", "Code", "JSON"}
    assert "Phone" in types_where("ltr") and "Rating" not in types_where("ltr")
    assert types_where("text_like", False) == types_where("numeric") | {"Check", "Date", "Datetime", "Time"}
    with pytest.raises(ValueError):
        types_where("no_such_trait")


def test_field_type_option_lists_come_from_the_registry(ctx):
    from lowcode.meta import get_meta
    for doctype in ("DocField", "Custom Field"):
        options = get_meta(doctype).get_field("fieldtype").options.split("\n")
        assert set(options) == set(registry), doctype
        assert "Phone" in options


def test_custom_field_of_unknown_type_is_refused_naming_the_field(ctx, dts):
    with pytest.raises(ValidationError) as info:
        lowcode.get_doc({"doctype": "Custom Field", "dt": dts["target"], "label": "Fax",
                         "fieldtype": "Fax Number"}).insert()
    assert info.value.field == "fieldtype"
    assert "Fax Number" in str(info.value)
    assert not ctx.db.sql("SELECT 1 FROM `tabCustom Field` WHERE `dt`=%s", (dts["target"],))


def test_custom_field_of_phone_type_gets_a_column(ctx, dts):
    lowcode.get_doc({"doctype": "Custom Field", "dt": dts["target"], "label": "Hotline",
                     "fieldtype": "Phone"}).insert()
    doc = lowcode.get_doc({"doctype": dts["target"], "title": f"P {uuid.uuid4().hex[:6]}",
                           "custom_hotline": "021 1234 5678"}).insert()
    assert lowcode.get_doc(dts["target"], doc.name).custom_hotline == "+982112345678"


def test_a_posted_checkbox_is_read_by_its_type():
    # the desk's form, grid, quick entry and bulk set no longer special-case Check: the
    # type reads what a checkbox posts, and says what posting nothing means
    check, df = registry["Check"], {"fieldname": "done", "label": "Done"}
    assert check.parse_input("1", df, None) == 1 and check.parse_input("on", df, None) == 1
    assert check.parse_input("0", df, None) == 0
    assert check.parse_input("maybe", df, None) == "maybe"  # refused by the save, naming the field
    assert check.absent_input == 0 and registry["Data"].absent_input is None
