"""Property-based fuzzing of the REST API from the site's own /api/openapi.json:
schemathesis generates requests that fit the schema and requests that break it
(wrong types, out-of-range numbers, odd text, missing and extra fields), sends them
through the WSGI application, and any 5xx fails the test. No 5xx is the contract:
bad input is a 4xx naming the parameter.

Bounded and reproducible: a fixed number of examples, derandomized, no example
database. It cannot damage the session's shared sites: writes (POST, PUT, DELETE)
go only to a DocType made for this test; every other DocType is only read, as
Administrator and as a Sales User."""
import pytest
import schemathesis

import lowcode
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis import GenerationMode

from crm_app.tests.helpers import body, make_user, refresh, token

FIELDS = [
    {"fieldname": "title", "fieldtype": "Data", "label": "Title", "in_list_view": 1},
    {"fieldname": "email", "fieldtype": "Data", "options": "Email"},
    {"fieldname": "qty", "fieldtype": "Int"},
    {"fieldname": "amount", "fieldtype": "Currency"},
    {"fieldname": "ratio", "fieldtype": "Percent"},
    {"fieldname": "stars", "fieldtype": "Rating"},
    {"fieldname": "flag", "fieldtype": "Check"},
    {"fieldname": "due", "fieldtype": "Date"},
    {"fieldname": "at", "fieldtype": "Datetime"},
    {"fieldname": "when", "fieldtype": "Time"},
    {"fieldname": "spent", "fieldtype": "Duration"},
    {"fieldname": "status", "fieldtype": "Select", "options": "Open\nClosed"},
    {"fieldname": "owner_user", "fieldtype": "Link", "options": "User"},
    {"fieldname": "notes", "fieldtype": "Small Text"},
    {"fieldname": "body", "fieldtype": "Text Editor"},
    {"fieldname": "extra", "fieldtype": "JSON"},
    {"fieldname": "colour", "fieldtype": "Color"},
]
ROLES = ("System Manager", "Sales User")
# Examples per operation: the throwaway DocType's five operations and the standard read
# methods get many, every other DocType's two read operations a few (there are dozens).
OWN_EXAMPLES, METHOD_EXAMPLES, READ_EXAMPLES = 30, 15, 2


@pytest.fixture
def wsgi_app(bench, monkeypatch):
    monkeypatch.setenv("LOWCODE_SITES", bench)
    from lowcode.web.wsgi import application
    return application


def _no_server_error(case, response):
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} answered {response.status_code}: {response.text[:500]}\n"
        f"query={case.query!r} body={case.body!r}")


def _fuzz(schema, base_url, examples, auth, existing=None):
    """Run ``examples`` positive and negative cases of each operation of ``schema``;
    updates go to the ``existing`` document when given (else most would be 404s)."""
    operations = [op.ok() for op in schema.get_all_operations()]
    strategy = st.one_of([
        op.as_strategy(generation_mode=mode, path_parameters={"name": existing}
                       if existing and op.method.upper() == "PUT" else None)
        for op in operations for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)])

    @settings(max_examples=examples * len(operations), deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=strategy)
    def run(case):
        _no_server_error(case, case.call(base_url=base_url, headers=auth))
    run()
    return len(operations)


def test_rest_api_answers_no_5xx_to_generated_requests(ctx, make_doctype, site, unique, wsgi_app):
    own = make_doctype(FIELDS, autoname="hash", permissions=[
        {"role": role, "read": 1, "write": 1, "create": 1, "delete": 1} for role in ROLES])
    sales = make_user(unique, "fuzz", roles=("Sales User",))
    existing = lowcode.get_doc({"doctype": own, "title": "fuzzed"}).insert().name
    tokens = {"Administrator": token("Administrator"), sales: token(sales)}
    refresh(ctx)
    own_path = f"^/api/resource/{own}(/|$)"
    for user, auth in tokens.items():
        headers = {"Authorization": auth["HTTP_AUTHORIZATION"]}
        # The site answers by Host, so every request names it (else the bench's default site answers).
        base_url = f"http://{site}"
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app, base_url=base_url, headers=headers)
        assert _fuzz(schema.include(path_regex=own_path), base_url, OWN_EXAMPLES, headers, existing) == 5
        # Everything else: reads only, so the shared site keeps its data.
        assert _fuzz(schema.include(path_regex="^/api/method/"), base_url, METHOD_EXAMPLES, headers) == 7
        assert _fuzz(schema.exclude(path_regex=own_path).exclude(path_regex="^/api/method/").include(method="GET"),
                     base_url, READ_EXAMPLES, headers) > 10


def test_openapi_describes_what_the_api_accepts(ctx, client, make_doctype, unique):
    own = make_doctype(FIELDS, autoname="hash")
    nobody = make_user(unique, "openapi", roles=("Sales User",))
    admin, sales = token("Administrator"), token(nobody)
    refresh(ctx)
    spec = body(client.get("/api/openapi.json", **admin))
    listing = {p["name"]: p["schema"] for p in spec["paths"][f"/api/resource/{own}"]["get"]["parameters"]}
    assert listing["limit_page_length"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    document = spec["components"]["schemas"][own.replace(" ", "_")]
    assert document["additionalProperties"] is False
    assert document["properties"]["qty"]["maximum"] == 2**31 - 1
    get_list = spec["paths"]["/api/method/frappe.client.get_list"]["get"]["parameters"]
    assert own in next(p for p in get_list if p["name"] == "doctype")["schema"]["enum"]
    # the Sales User may not read the test's DocType: the methods do not offer it
    spec = body(client.get("/api/openapi.json", **sales))
    doctypes = next(p for p in spec["paths"]["/api/method/frappe.client.get_list"]["get"]["parameters"]
                    if p["name"] == "doctype")["schema"]["enum"]
    assert "Lead" in doctypes and own not in doctypes
