"""Row permissions at scale: the CRM's own Lead (crm_app installed, its row rules in
crm_app/permissions.py active) and Note (private activities), filled to N leads and
N/10 notes, timed as the users who see the data rather than as System Manager.

Who (all on one site, each with an API token):

| key          | roles                     | sees                                                    |
|--------------|---------------------------|---------------------------------------------------------|
| system_mgr   | System Manager            | everything (the baseline)                               |
| rep_20       | Sales User                | the 20 leads they are lead owner of, 5 shared with them |
| rep_20k      | Sales User                | the N/50 leads they are lead owner of (20,000 at 1M)    |
| assigned_20  | Sales User                | 20 leads assigned to them, nothing else                 |
| assigned_2k  | Sales User                | N/500 leads assigned to them (2,000 at 1M)              |
| manager      | Sales Manager, Sales User | a region of the territory tree: a quarter of the leads  |

Notes: 10 % are private; rep_20 owns a few private ones and lists notes as a
Sales User (public + own private), next to the System Manager.

Per user and DocType: the REST list page (20 rows, newest first; v1 and Frappe API v2) and exact count
(``frappe.client.get_count``), the desk list page and its separate count request, and
raw SQL of the same list and count (the user's permission condition built once,
outside the timer) on the bench process's own connection. The paths run interleaved
in rotating order, as in the System Manager phases. The manager on Lead also times
the pivot of leads by source x month (``lowcode.pivot.get_pivot``, issue 12).
"""
import datetime
import json
import random
import time
from urllib.parse import quote, urlencode

import lowcode
from lowcode.assignments import TABLE as ASSIGNMENTS
from lowcode.context import local

import bench_setup as setup
from bench_http import Client, method_path, resource_path
from bench_report import Figure
from bench_stats import Series, StatementLog, read_tx

DOMAIN = "bench.example.com"
USERS = {
    "system_mgr": ["System Manager"],
    "rep_20": ["Sales User"],
    "rep_20k": ["Sales User"],
    "assigned_20": ["Sales User"],
    "assigned_2k": ["Sales User"],
    "manager": ["Sales Manager", "Sales User"],
}
OTHER_REPS = 200          # lead owners of everything else
REGIONS, CITIES = 4, 9    # territory tree: 4 regions of 9 cities; the manager has region 0
LEAD_STATUSES = ("New", "Contacted", "Qualified", "Unqualified")
LEAD_FIELDS = ["name", "lead_name", "company_name", "email_id", "status", "territory", "lead_owner", "modified"]
NOTE_FIELDS = ["name", "title", "is_private", "owner", "modified"]
LEAD_COLUMNS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "naming_series",
                "first_name", "lead_name", "company_name", "email_id", "status", "territory", "lead_owner",
                "lead_score", "_assign", "source")
LEAD_SOURCES = 8          # "Source 0".."Source 7": what the pivot groups the leads by
NOTE_COLUMNS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "title", "is_private")

# Targets of the row-permissions issue, for every user.
TARGET_REST_LIST_P95_MS = 15.0
TARGET_COUNT_P95_MS = 50.0
TARGET_DESK_LIST_P95_MS = 50.0
TARGET_PIVOT_P95_MS = 500.0   # issue 12: leads by source x month as a Sales Manager


def user_email(key):
    return f"{key.replace('_', '-')}@{DOMAIN}"


def territory_name(region, city=None):
    return f"Region {region}" if city is None else f"City {region}-{city}"


# -- set-up -----------------------------------------------------------------------------------

def make_world():
    """Territories, users with roles and API tokens. Committed. Returns {key: (api_key, secret)}."""
    from lowcode import auth
    db = local.db
    lowcode.set_user("Administrator")
    for role in {r for roles in USERS.values() for r in roles}:
        if not db.exists("Role", role):
            lowcode.get_doc({"doctype": "Role", "role_name": role}).insert()
    tokens = {}
    for key, roles in USERS.items():
        email = user_email(key)
        lowcode.get_doc({"doctype": "User", "email": email, "first_name": key, "roles": [{"role": r} for r in roles]}
                        ).insert()
        tokens[key] = auth.generate_keys(email)
    for region in range(REGIONS):
        lowcode.get_doc({"doctype": "Territory", "territory_name": territory_name(region), "is_group": 1,
                         "territory_manager": user_email("manager") if region == 0 else None}).insert()
        for city in range(CITIES):
            lowcode.get_doc({"doctype": "Territory", "territory_name": territory_name(region, city),
                             "parent_territory": territory_name(region)}).insert()
    db.commit()
    return tokens


def _stamp(ts):
    return datetime.datetime.fromtimestamp(ts).isoformat(" ", "microseconds")


def lead_plan(rows):
    """Which lead goes to whom: {index: lead owner} for the named reps, and the indexes
    assigned to each assignee. Spread evenly over the table (and so over time)."""
    owners = {}
    for k in range(20):
        owners[k * (rows // 20) + 3] = user_email("rep_20")
    big = max(rows // 50, 1)
    for k in range(big):
        owners.setdefault(k * (rows // big) + 11, user_email("rep_20k"))
    assigned = {user_email("assigned_20"): {k * (rows // 20) + 5 for k in range(20)},
                user_email("assigned_2k"): {k * (rows // max(rows // 500, 1)) + 7 for k in range(max(rows // 500, 1))}}
    return owners, assigned


def lead_name(i):
    return f"LEAD-2026-{i:07d}"


def fill(rows, batch=5000, commit_rows=None, seed=7, progress=True):
    """Leads (with _assign and the assignment table in step), a few shares for rep_20,
    and rows/10 notes. Returns {"seconds", "leads", "notes", "assignments"}."""
    db = local.db
    rng = random.Random(seed)
    owners, assigned = lead_plan(rows)
    assignee_of = {}
    for user, idxs in assigned.items():
        for i in idxs:
            assignee_of.setdefault(i, []).append(user)
    cities = [territory_name(r, c) for r in range(REGIONS) for c in range(CITIES)]
    now = time.time()
    year = 365 * 86400
    importer = f"import@{DOMAIN}"
    commit_rows = commit_rows or (50_000 if db.db_type == "sqlite" else batch)
    sqlite_cache = setup.start_bulk_load(db)
    t0 = time.perf_counter()

    def lead_row(i):
        modified = now - year + rng.random() * year
        owner = owners.get(i) or f"rep{i % OTHER_REPS}@{DOMAIN}"
        # i // OTHER_REPS too: with i alone, a rep (rep{i % 200}) would own one first name
        # only (200 is a multiple of 20), and a search for any other name would match none
        first = setup.FIRST[(i + i // OTHER_REPS) % len(setup.FIRST)]
        last = setup.LAST[(i // 7) % len(setup.LAST)]
        users = assignee_of.get(i)
        return (lead_name(i), importer, _stamp(modified - rng.random() * 86400 * 30), _stamp(modified),
                importer, 0, 0, "LEAD-.YYYY.-", first, f"{first} {last}", f"Company {i % 50000}",
                f"{first.lower()}.{i}@example.com", LEAD_STATUSES[i % 4], cities[(i * 7) % len(cities)],
                owner, i % 100, json.dumps(users) if users else None, f"Source {(i * 5) % LEAD_SOURCES}")
    setup.insert_in_batches("Lead", LEAD_COLUMNS, rows, lead_row, batch, commit_rows, "leads" if progress else None)
    db.begin()
    assignments = [(u, "Lead", lead_name(i)) for i, users in assignee_of.items() if i < rows for u in users]
    db.bulk_insert(ASSIGNMENTS, ("user", "reference_type", "reference_name"), assignments)
    rep20 = user_email("rep_20")
    stamp = _stamp(now)
    db.bulk_insert("DocShare", ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx",
                                "share_doctype", "share_name", "user", "read", "write", "share", "everyone"),
                   [(f"bench-share-{k}", "Administrator", stamp, stamp, "Administrator", 0, 0, "Lead",
                     lead_name(k * (rows // 5) + 13), rep20, 1, 0, 0, 0) for k in range(5)])
    db.commit()
    notes = max(rows // 10, 100)

    def note_row(i):
        modified = now - year + rng.random() * year
        # rep_20 owns one note in 2,000 (50 at 1M leads), a tenth of them private.
        owner = rep20 if i % 2000 == 17 else f"rep{i % OTHER_REPS}@{DOMAIN}"
        return (f"note-{i:08x}", owner, _stamp(modified), _stamp(modified), owner, 0, 0,
                f"Call notes {i}", 1 if i % 10 == 0 or (owner == rep20 and i % 20000 == 17) else 0)
    setup.insert_in_batches("Note", NOTE_COLUMNS, notes, note_row, batch, batch)
    seconds = time.perf_counter() - t0
    setup.end_bulk_load(db, sqlite_cache, ("Lead", "Note", ASSIGNMENTS, "DocShare"))
    return {"seconds": seconds, "leads": rows, "notes": notes, "assignments": len(assignments)}


# -- timing -------------------------------------------------------------------------------------

def _statements(fn, user):
    """[(sql, values)] of the SELECTs ``fn`` sends as ``user`` (caches warm: a second call)."""
    lowcode.set_user(user)
    read_tx(fn)
    local.db.begin(write=False)
    try:
        with StatementLog(local.db, keep_text=True) as log:
            fn()
    finally:
        local.db.commit()
    return [(q, v) for (q, _), v in zip(log.statements, log.values) if q.lstrip().upper().startswith("SELECT")]


def _replay(statements, as_dict=False):
    """Run the statements; the last one's rows are the answer."""
    rows = None
    for sql, values in statements:
        rows = local.db.sql(sql, values, as_dict=as_dict)
    return rows


def _plain(doctype, user):
    """(names of the newest page, exact count) of one plain SELECT with the user's whole
    row condition (match_conditions), as a reference for the engine's answers."""
    from lowcode.permissions import match_conditions
    lowcode.set_user(user)
    cond, values = match_conditions(doctype)
    table = f"`tab{doctype}`"
    names = local.db.sql(f"SELECT `name` FROM {table} WHERE {cond} ORDER BY `modified` DESC LIMIT 20", values,
                         pluck=True)
    return list(names), int(local.db.sql(f"SELECT COUNT(*) FROM {table} WHERE {cond}", values)[0][0])


def measure_user(key, client, doctype, fields, reps, warmup, explain):
    """The paths for one user on one DocType, interleaved. Returns the summaries,
    the counts each path gave, and the query plans of the raw list and count."""
    from lowcode.utils import route_for
    email = user_email(key)
    route = "/app/" + route_for(doctype)
    rest_list = resource_path(doctype, fields=fields, order_by="modified desc", limit_page_length=20)
    rest_count = method_path("frappe.client.get_count", doctype=doctype)
    # Frappe's API v2 list (api/v2.py): the same page through the v2 layer, next to v1
    v2_list = f"/api/v2/document/{quote(doctype)}?" + urlencode(
        {"fields": json.dumps(fields), "order_by": "modified desc", "limit": 20})
    # Raw SQL = the statements the engine sends for this user's page and count (the
    # permission look-ups, then the query, or the bounded query and the plain one),
    # recorded once and replayed here without the engine's Python around them.
    list_sql = _statements(lambda: lowcode.get_list(doctype, fields=fields, order_by="modified desc",
                                                    limit_page_length=20), email)
    count_sql = _statements(lambda: lowcode.get_count(doctype), email)
    paths = {
        "raw_list": lambda: read_tx(lambda: _replay(list_sql, as_dict=True)),
        "rest_list": lambda: client.timed_get(rest_list),
        "v2_list": lambda: client.timed_get(v2_list),
        "raw_count": lambda: read_tx(lambda: _replay(count_sql)[0][0]),
        "rest_count": lambda: client.timed_get(rest_count),
        "desk_list": lambda: client.timed_get(route),
        "desk_count": lambda: client.timed_get(route + "?__count=1"),
    }
    if doctype == "Lead" and key == "manager":  # the pivot of leads by source x month (lowcode/pivot.py)
        pivot = method_path("lowcode.pivot.get_pivot", doctype=doctype, rows=json.dumps(["source"]),
                            column="creation:month", calendar="Gregorian")
        paths["pivot"] = lambda: client.timed_get(pivot)
    raw_names = [r["name"] for r in paths["raw_list"]()[0]]
    rest_names = [r["name"] for r in paths["rest_list"]()[0]["data"]]
    v2_names = [r["name"] for r in paths["v2_list"]()[0]["data"]]
    # The engine may answer in several statements (a count as a sum of parts), so the
    # figures are checked against the plain query: the user's whole row condition.
    plain_list, plain_count = read_tx(lambda: _plain(doctype, email))[0]
    counts = {"raw": plain_count, "rest": paths["rest_count"]()[0]["message"]}
    for _ in range(warmup):
        for fn in paths.values():
            fn()
    series = {k: Series(k) for k in paths}
    order = list(paths)
    for i in range(reps):
        for k in order[i % len(order):] + order[:i % len(order)]:
            series[k].add_seconds(paths[k]()[1])
    return {"summary": {k: s.summary() for k, s in series.items()}, "counts": counts,
            "same_page": raw_names == rest_names == v2_names == plain_list, "rows_on_page": len(raw_names),
            "statements": {"list": [" ".join(q.split())[:400] for q, _ in list_sql],
                           "count": [" ".join(q.split())[:400] for q, _ in count_sql]},
            "plans": {"list": [explain(q, v) for q, v in list_sql if f"FROM `tab{doctype}`" in q],
                      "count": [explain(q, v) for q, v in count_sql if f"FROM `tab{doctype}`" in q]}}


def measure(run, server, site, tokens, reps, warmup, explain):
    """Every user on Lead, rep_20 and the System Manager on Note. Fills run["roles"]."""
    out = {}
    cases = [(k, "Lead", LEAD_FIELDS) for k in USERS] + [("system_mgr", "Note", NOTE_FIELDS),
                                                          ("rep_20", "Note", NOTE_FIELDS)]
    for key, doctype, fields in cases:
        client = Client(server.port, site, *tokens[key])
        try:
            print(f"  {doctype} as {key} x{reps}", flush=True)
            out[f"{doctype}:{key}"] = measure_user(key, client, doctype, fields, reps, warmup, explain)
        finally:
            client.close()
    lowcode.set_user("Administrator")
    run["roles"] = out


def figures(run):
    out = []
    for case, r in run.get("roles", {}).items():
        s = r["summary"]
        doctype, key = case.split(":")
        label = f"{doctype} as {key}"
        ok_rows = r["same_page"] and r["counts"]["raw"] == r["counts"]["rest"]
        note = (f"{r['counts']['rest']:,} visible; " + ("" if ok_rows else "MISMATCH with the plain query; ")
                + f"p50 {s['rest_list']['p50_ms']:.2f} ms")
        out += [
            Figure(f"{label}: REST list p95", s["rest_list"]["p95_ms"], "ms", raw=s["raw_list"]["p95_ms"],
                   target=f"< {TARGET_REST_LIST_P95_MS:g} ms", ok=s["rest_list"]["p95_ms"] < TARGET_REST_LIST_P95_MS,
                   detail=note),
            Figure(f"  API v2 list p95", s["v2_list"]["p95_ms"], "ms", raw=s["raw_list"]["p95_ms"],
                   target=f"< {TARGET_REST_LIST_P95_MS:g} ms", ok=s["v2_list"]["p95_ms"] < TARGET_REST_LIST_P95_MS,
                   detail=f"p50 {s['v2_list']['p50_ms']:.2f} ms; v1 REST p95 {s['rest_list']['p95_ms']:.2f} ms"),
            Figure(f"  count p95 (frappe.client.get_count)", s["rest_count"]["p95_ms"], "ms",
                   raw=s["raw_count"]["p95_ms"], target=f"< {TARGET_COUNT_P95_MS:g} ms",
                   ok=s["rest_count"]["p95_ms"] < TARGET_COUNT_P95_MS,
                   detail=f"p50 {s['rest_count']['p50_ms']:.2f} ms"),
            Figure(f"  desk list p95", s["desk_list"]["p95_ms"], "ms", raw=s["raw_list"]["p95_ms"],
                   target=f"< {TARGET_DESK_LIST_P95_MS:g} ms", ok=s["desk_list"]["p95_ms"] < TARGET_DESK_LIST_P95_MS,
                   detail=f"p50 {s['desk_list']['p50_ms']:.2f} ms"),
            Figure(f"  desk count p95", s["desk_count"]["p95_ms"], "ms", raw=s["raw_count"]["p95_ms"],
                   target=f"< {TARGET_COUNT_P95_MS:g} ms", ok=s["desk_count"]["p95_ms"] < TARGET_COUNT_P95_MS,
                   detail=f"p50 {s['desk_count']['p50_ms']:.2f} ms"),
        ]
        if "pivot" in s:
            out.append(Figure("  pivot source x month p95 (get_pivot)", s["pivot"]["p95_ms"], "ms",
                              target=f"< {TARGET_PIVOT_P95_MS:g} ms", ok=s["pivot"]["p95_ms"] < TARGET_PIVOT_P95_MS,
                              detail=f"p50 {s['pivot']['p50_ms']:.2f} ms"))
    return out
