"""/api/openapi.json: an OpenAPI 3.1 description generated from the site's metadata,
one schema per DocType the caller may read."""
from django.http import JsonResponse

from ..context import local
from ..params import MAX_ROWS
from ..fields import registry
from ..meta import CHILD_FIELDS, get_meta
from ..permissions import role_access

_STANDARD = {"name": {"type": "string"}, "owner": {"type": "string"}, "creation": {"type": "string"},
             "modified": {"type": "string"}, "modified_by": {"type": "string"},
             "docstatus": {"type": "integer", "enum": [0, 1, 2]},
             "idx": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}
_ROW_COUNT = {"type": "integer", "minimum": 0, "maximum": MAX_ROWS}
_ERROR = {"type": "object", "properties": {"exc_type": {"type": "string"}, "message": {"type": "string"},
                                           "field": {"type": "string"}}}


def field_schema(df):
    ftype = registry[df.fieldtype]
    schema = dict(ftype.json_schema)
    if ftype.option_list:
        schema["enum"] = [o for o in (df.options or "").split("\n")] or [""]
    if ftype.table:
        schema = {"type": "array", "items": {"$ref": f"#/components/schemas/{_ref(df.options)}"}}
    if df.get("label"):
        schema["title"] = df.label
    if df.get("description"):
        schema["description"] = df.description
    return schema


def _ref(doctype):
    return doctype.replace(" ", "_")


def doctype_schema(meta):
    props = dict(_STANDARD)
    if meta.istable:
        props.update({f: {"type": "string"} for f in CHILD_FIELDS})
    for df in meta.fields:
        if registry[df.fieldtype].column or registry[df.fieldtype].table:
            props[df.fieldname] = field_schema(df)
    required = [df.fieldname for df in meta.fields if df.get("reqd")]
    # Unknown fields are refused by name (client.clean_payload), so the schema says so.
    out = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def build_spec():
    doctypes = local.db.sql("SELECT `name`, `istable` FROM `tabDocType` ORDER BY `name`")
    schemas, paths = {}, {}
    err = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for name, istable in doctypes:
        meta = get_meta(name)
        if not istable and role_access(name, "read") is None:
            continue
        schemas[_ref(name)] = doctype_schema(meta)
        if istable:
            continue
        ref = {"$ref": f"#/components/schemas/{_ref(name)}"}
        one = {"200": {"description": name, "content": {"application/json": {"schema": {
            "type": "object", "properties": {"data": ref}}}}}, "403": err, "404": err, "417": err}
        paths[f"/api/resource/{name}"] = {
            "get": {"summary": f"List {name}", "parameters": [
                {"name": p, "in": "query", "schema": {"type": "string"}}
                for p in ("fields", "filters", "or_filters", "order_by")] + [
                {"name": p, "in": "query", "schema": _ROW_COUNT} for p in ("limit_start", "limit_page_length")],
                "responses": {"200": {"description": f"{name} rows", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"data": {"type": "array", "items": {"type": "object"}}}}}}},
                    "403": err, "417": err}},
            "post": {"summary": f"Create {name}", "requestBody": {"content": {"application/json": {"schema": ref}}},
                     "responses": {**one, "409": err}},
        }
        paths[f"/api/resource/{name}/{{name}}"] = {
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"summary": f"Read {name}", "responses": one},
            "put": {"summary": f"Update {name}", "requestBody": {"content": {"application/json": {"schema": ref}}},
                    "responses": {**one, "409": err}},
            "delete": {"summary": f"Delete {name}", "responses": {"200": {"description": "ok"}, "403": err,
                                                                  "404": err, "409": err}},
        }
    readable = sorted(p[len("/api/resource/"):] for p in paths if p.count("/") == 3)
    if readable:
        paths.update(method_paths(readable, err))
    schemas["Error"] = _ERROR
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{local.site} API", "version": "1"},
        "components": {"schemas": schemas, "securitySchemes": {
            "token": {"type": "apiKey", "in": "header", "name": "Authorization",
                      "description": "token <api_key>:<api_secret>"},
            "session": {"type": "apiKey", "in": "cookie", "name": "sid"}}},
        "security": [{"token": []}, {"session": []}],
        "paths": paths,
    }


def _query(name, schema=None, required=False):
    return {"name": name, "in": "query", "required": required, "schema": schema or {"type": "string"}}


def method_paths(doctypes, err):
    """The standard read methods Frappe clients call (GET /api/method/...), for the
    DocTypes the caller may read; filters and fields are JSON text, as clients send them."""
    doctype = _query("doctype", {"type": "string", "enum": doctypes}, required=True)
    listing = [_query(p) for p in ("fields", "filters", "or_filters", "order_by", "group_by")]
    methods = {
        "frappe.client.get_list": [doctype, *listing, _query("limit_start", _ROW_COUNT),
                                   _query("limit_page_length", _ROW_COUNT)],
        "frappe.client.get_count": [doctype, _query("filters")],
        "frappe.client.get_value": [doctype, _query("fieldname", required=True), _query("filters")],
        "frappe.client.get": [doctype, _query("name"), _query("filters")],
        "frappe.desk.search.search_link": [doctype, _query("txt"), _query("filters"),
                                           _query("page_length", _ROW_COUNT)],
        "frappe.desk.reportview.get": [doctype, *listing, _query("start", _ROW_COUNT),
                                       _query("page_length", _ROW_COUNT)],
        "frappe.desk.reportview.get_count": [doctype, _query("filters")],
    }
    ok = {"description": "The method's result", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"message": {}}}}}}
    return {f"/api/method/{name}": {"get": {"summary": name, "parameters": parameters, "responses": {
        "200": ok, "400": err, "403": err, "404": err, "417": err}}} for name, parameters in methods.items()}


def view(request):
    return JsonResponse(build_spec(), json_dumps_params={"ensure_ascii": False})
