"""Adding a field type touches one file (plus its test): the type's class in fields/ and,
when it has its own control, templates in desk/templates/controls/. Everywhere else the
engine asks the type (its traits, ``types_where``, its templates and methods), so no list
of type names can go stale when a type is added.

This test finds every field type name written as a string literal in the engine's Python
code outside fields/ (an ast scan; tests are left out) and every template outside
controls/ that compares a field's type with a name. A field *declared* with a type
(``{"fieldtype": "Data"}``, ``fieldtype="Data"``) is data, not a decision, and is not
counted. What remains must be in ALLOWED (a legitimate use, with the reason) or in
NOT_YET_MOVED (known places still to move onto the types; the list may only shrink: an
entry that no longer matches fails too, so fixing a place means deleting its line)."""
import ast
import collections
import os
import re

import lowcode
from lowcode.fields.base import _core

ROOT = os.path.dirname(lowcode.__file__)
NAMES = frozenset(_core)  # the engine's own types (apps' types are not the engine's business)

#: (file, type name) -> why the name belongs there
ALLOWED = {
    # Frappe's formats: the types of the standard columns every table has, the value
    # types of Property Setter (``property_type``) and a Script Report's column types
    ("query.py", "Data"): "the standard columns' types (name, owner, ...) as Frappe declares them",
    ("query.py", "Link"): "the standard columns' types (owner, modified_by)",
    ("query.py", "Datetime"): "the standard columns' types (creation, modified) and their seconds",
    ("query.py", "Int"): "the standard columns' types (docstatus, idx)",
    ("query.py", "Text"): "the standard columns' types (_assign, _comments ...)",
    ("desk/views/report.py", "Data"): "the standard columns' types (Frappe's report columns)",
    ("desk/views/report.py", "Datetime"): "the standard columns' types (Frappe's report columns)",
    ("storage.py", "Code"): "the S3 error's Code in boto3's response, not a field type",
    ("customize.py", "Data"): "Property Setter property_type values (Frappe's format)",
    ("customize.py", "Small Text"): "Property Setter property_type values (Frappe's format)",
    ("customize.py", "Check"): "Property Setter property_type values (Frappe's format), and how each is read",
    ("customize.py", "Code"): "Property Setter property_type values (Frappe's format)",
    ("customize.py", "Int"): "Property Setter property_type values (Frappe's format), and how each is read",
    ("desk/views/customize.py", "Check"): "Property Setter property_type values (Frappe's format)",
    ("api/query_report.py", "Data"): "a Script Report column without a type is Data, as in Frappe",
    **{("api/query_report.py", t): "Frappe's total row of a Script Report: these column types are added up"
       for t in ("Int", "Float", "Currency", "Duration", "Percent", "Date")},
    ("meta.py", "Check"): "Property Setter property_type values (Frappe's format) read as numbers",
    ("meta.py", "Int"): "Property Setter property_type values (Frappe's format) read as numbers",
    # a type used, not tested for: its own coercion or its own name as a fallback
    ("client.py", "Int"): "frappe.client's limit is coerced as an Int field would be",
    ("desk/formatting.py", "Data"): "an unknown type is shown as Data",
    ("desk/render.py", "Data"): "an unknown type is shown as Data",
    ("desk/render.py", "Date"): "date_placeholder's default argument",
    ("desk/views/customize.py", "Data"): "a new row in the form editor starts as Data",
    **{("printing.py", t): "a print value without a field is shown as the type its Python value has"
       for t in ("Datetime", "Date", "Check", "Int", "Float", "Data")},
    # not field types at all
    ("channels/email.py", "Date"): "the e-mail Date header",
    ("desk/doctype/print_format/print_format.py", "HTML"): "the syntax checked: HTML",
}

#: (file, type name): the count of places still to move onto the types (the debt; only shrinks)
NOT_YET_MOVED = {
    ("desk/views/kanban.py", "Percent"): 1,
    ("desk/views/quick_entry.py", "Data"): 2,
    ("desk/views/quick_entry.py", "Small Text"): 1,
}


def engine_files():
    for folder, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(folder, ROOT)
        parts = rel.split(os.sep)
        if parts[0] == "fields" or "tests" in parts:
            dirs[:] = []
            continue
        for f in sorted(files):
            if f.endswith(".py") and not f.startswith("test_"):
                yield os.path.normpath(os.path.join(rel, f))


def names_in(source):
    """(line, name) of each field type name written as a literal, declarations left out."""
    tree = ast.parse(source)
    declared = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            declared |= {id(v) for k, v in zip(node.keys, node.values)
                         if isinstance(k, ast.Constant) and k.value == "fieldtype"}
        elif isinstance(node, ast.keyword) and node.arg == "fieldtype":
            declared.add(id(node.value))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in NAMES
            and id(node) not in declared]


def type_names_in_engine_code():
    found = collections.defaultdict(list)
    for path in engine_files():
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            for line, name in names_in(f.read()):
                found[(path, name)].append(line)
    return found


def test_no_new_field_type_names_outside_the_types():
    found = type_names_in_engine_code()
    new = {f"{path}:{lines} {name!r}" for (path, name), lines in found.items()
           if (path, name) not in ALLOWED and len(lines) > NOT_YET_MOVED.get((path, name), 0)}
    assert not new, ("field type names written outside fields/ (ask the type: a trait, types_where, "
                     "a method or template attribute): " + ", ".join(sorted(new)))


def test_the_lists_of_known_places_only_shrink():
    found = type_names_in_engine_code()
    stale = {f"{key}: {count} listed, {len(found.get(key, []))} found" for key, count in NOT_YET_MOVED.items()
             if len(found.get(key, [])) < count}
    stale |= {f"{key}: allowed but gone" for key in ALLOWED if key not in found}
    assert not stale, "moved onto the types: shrink NOT_YET_MOVED/ALLOWED: " + "; ".join(sorted(stale))


TEMPLATE_COMPARE = re.compile(r"fieldtype\s*(==|!=)\s*['\"]|['\"]\s*(==|!=)\s*\w+\.fieldtype|"
                              r"fieldtype\s+(not\s+)?in\s*[(\[]|options\s*==\s*['\"]Phone['\"]")


def test_templates_outside_controls_ask_the_type_not_its_name():
    # e.g. {% if df.fieldtype == "Link" %} in list.html: the type's filter_template says it
    templates = os.path.join(ROOT, "desk", "templates")
    found = collections.Counter()
    for folder, dirs, files in os.walk(templates):
        if os.path.relpath(folder, templates).split(os.sep)[0] == "controls":
            continue
        for f in files:
            with open(os.path.join(folder, f), encoding="utf-8") as fh:
                found[os.path.relpath(os.path.join(folder, f), templates)] += len(TEMPLATE_COMPARE.findall(fh.read()))
    compared = sorted(f"{t}: {n}" for t, n in found.items() if n)
    assert not compared, "templates comparing field type names (ask fieldtype(...) instead): " + ", ".join(compared)


def test_the_scan_sees_a_name_and_passes_a_declaration():
    # the checker itself: a comparison is found, a field declared with a type is not
    assert names_in('if df.fieldtype == "Link": pass') == [(1, "Link")]
    assert names_in('x = df.fieldtype in ("Check", "Int")') == [(1, "Check"), (1, "Int")]
    assert names_in('d = {"fieldname": "x", "fieldtype": "Data"}\nObj(fieldtype="Check")') == []
    assert len(TEMPLATE_COMPARE.findall('{% if df.fieldtype == "Link" %}{% elif "Check" != df.fieldtype %}')) == 2
    assert not TEMPLATE_COMPARE.findall("{% if fieldtype(df.fieldtype).link %}")
