"""The Role Permission Manager and the User Permissions page over HTTP, on both
engines: rules saved as Custom DocPerms take effect for a user on their very next
request (a role gains read: their list shows rows; loses it: 403), Reset goes back
to the app's rules, bad rules are refused with nothing written, and a user's
restrictions added and removed on the page apply at once."""
import json
from urllib.parse import quote, urlencode

import pytest
from django.test import Client

import lowcode
from lowcode.meta import get_meta
from lowcode.utils import route_for

from .test_desk_customize import desk_user, post, refresh, text, write

ADMIN_RULE = {"role": "System Manager", "permlevel": "0", "read": 1, "write": 1, "create": 1, "delete": 1}


def rules_data(doctype, rules, action="save"):
    data = {"doctype": doctype, "_action": action, "rule": []}
    for key, rule in enumerate(rules, start=1):
        data["rule"].append(str(key))
        for prop, value in rule.items():
            if prop in ("role", "permlevel"):
                data[f"r-{key}-{prop}"] = value
            elif value:
                data[f"r-{key}-{prop}"] = "1"
    return data


def save_rules(client, session, doctype, rules, action="save"):
    return post(client, session, "/app/permission-manager", rules_data(doctype, rules, action))


def cannot_list(browser, doctype):
    """Refused on both the API (403) and the desk list (no rows; the list page shows
    the refusal as a message)."""
    page = browser.get(f"/app/{route_for(doctype)}")
    assert page.status_code == 403 or "Not permitted" in text(page), page.status_code
    assert "row-one" not in text(page)
    assert browser.get(f"/api/resource/{quote(doctype)}").status_code == 403
    return True


def custom_perms(ctx, doctype):
    refresh(ctx)
    return lowcode.get_all("Custom DocPerm", filters={"parent": doctype},
                           fields=["role", "permlevel", "read", "write", "parenttype", "parentfield"],
                           order_by="idx asc")


@pytest.fixture
def manager(ctx, client, unique):
    return desk_user(ctx, client, unique, "perm-admin")[1]


@pytest.fixture
def reader(ctx, site, unique):
    """A second browser: a user with a role of their own, which no rule names yet."""
    role = f"Reader {unique}"
    browser = Client(HTTP_HOST=site, raise_request_exception=False)
    email, session = desk_user(ctx, browser, unique, "reader", roles=(role,))
    return browser, role, session


@pytest.fixture
def secured(ctx, make_doctype):
    dt = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title", "in_list_view": 1}],
                      permissions=[dict(ADMIN_RULE, permlevel=0)])
    write(ctx)
    for title in ("row-one", "row-two"):
        lowcode.get_doc({"doctype": dt, "title": title}).insert()
    refresh(ctx)
    return dt


def test_page_shows_the_rules_in_force(ctx, client, manager, secured):
    r = client.get("/app/permission-manager?" + urlencode({"doctype": secured}))
    assert r.status_code == 200
    page = text(r)
    assert 'value="System Manager"' in page and 'name="r-1-read" value="1"' in page
    assert "These are the app's rules" in page
    assert 'name="r-1-submit"' not in page  # not submittable: no submit column


def test_role_gains_and_loses_read_at_once(ctx, client, manager, reader, secured):
    browser, role, _ = reader
    route = route_for(secured)
    assert cannot_list(browser, secured)

    r = save_rules(client, manager, secured, [ADMIN_RULE, {"role": role, "permlevel": "0", "read": 1}])
    assert r.status_code == 302, text(r)[:2000]
    rows = custom_perms(ctx, secured)
    assert [(p["role"], p["read"], p["write"]) for p in rows] == [("System Manager", 1, 1), (role, 1, 0)]
    assert {(p["parenttype"], p["parentfield"]) for p in rows} == {("DocType", "permissions")}
    listing = browser.get(f"/app/{route}")
    assert listing.status_code == 200 and "row-one" in text(listing) and "row-two" in text(listing)
    api = browser.get(f"/api/resource/{quote(secured)}", {"fields": json.dumps(["name", "title"])})
    assert api.status_code == 200 and len(api.json()["data"]) == 2
    # Read only: writing is still refused.
    name = api.json()["data"][0]["name"]
    put = browser.put(f"/api/resource/{quote(secured)}/{quote(name)}", json.dumps({"title": "changed"}),
                      content_type="application/json", HTTP_X_FRAPPE_CSRF_TOKEN=reader[2].csrf_token)
    assert put.status_code == 403

    page = text(client.get("/app/permission-manager?" + urlencode({"doctype": secured})))
    assert "These rules were set here" in page and f'value="{role}"' in page

    r = save_rules(client, manager, secured, [ADMIN_RULE])
    assert r.status_code == 302
    assert cannot_list(browser, secured)

    # Reset: the Custom DocPerms go and the app's rules apply again.
    save_rules(client, manager, secured, [ADMIN_RULE, {"role": role, "permlevel": "0", "read": 1}])
    assert "row-one" in text(browser.get(f"/app/{route}"))
    r = post(client, manager, "/app/permission-manager", {"doctype": secured, "_action": "reset"})
    assert r.status_code == 302 and "saved=reset" in r["Location"]
    assert custom_perms(ctx, secured) == []
    assert [p.role for p in get_meta(secured).permissions] == ["System Manager"]
    assert cannot_list(browser, secured)


def test_if_owner_rule_limits_the_list(ctx, client, manager, reader, secured):
    browser, role, session = reader
    r = save_rules(client, manager, secured, [ADMIN_RULE, {"role": role, "permlevel": "0", "read": 1,
                                                           "create": 1, "if_owner": 1}])
    assert r.status_code == 302, text(r)[:2000]
    mine = post(browser, session, f"/api/resource/{quote(secured)}", {"title": "row-mine"})
    assert mine.status_code == 200, text(mine)
    listing = text(browser.get(f"/app/{route_for(secured)}"))
    assert "row-mine" in listing and "row-one" not in listing


BAD_RULES = {
    "unknown role": ([ADMIN_RULE, {"role": "Nobody Has This Role", "read": 1}], "does not exist"),
    "no role": ([ADMIN_RULE, {"role": "", "read": 1}], "choose a role"),
    "duplicate rule": ([ADMIN_RULE, dict(ADMIN_RULE, write=0)], "already has a rule at level 0"),
    "level without level 0": ([ADMIN_RULE, {"role": "Guest", "permlevel": "1", "read": 1}], "level 0 rule"),
    "bad level": ([dict(ADMIN_RULE, permlevel="high")], "whole number"),
    "submit on a draft-only doctype": ([dict(ADMIN_RULE, submit=1)], "submittable"),
    "no rules at all": ([], "at least one rule"),
}


@pytest.mark.parametrize("case", sorted(BAD_RULES))
def test_bad_rules_are_refused(ctx, client, manager, secured, case):
    rules, message = BAD_RULES[case]
    r = save_rules(client, manager, secured, rules)
    assert r.status_code == 417, (r.status_code, text(r)[:2000])
    assert 'id="form-error"' in text(r) and message in text(r)
    assert custom_perms(ctx, secured) == []
    assert [p.role for p in get_meta(secured).permissions] == ["System Manager"]


def test_child_tables_and_engine_doctypes_are_refused(ctx, client, manager):
    assert client.get("/app/permission-manager?doctype=DocField").status_code == 417
    assert client.get("/app/permission-manager?doctype=DocType").status_code == 403
    r = save_rules(client, manager, "Custom Field", [{"role": "Guest", "read": 1}])
    assert r.status_code == 403
    assert custom_perms(ctx, "Custom Field") == []


def test_only_system_managers_manage_permissions(ctx, client, reader, secured):
    browser, role, session = reader
    r = save_rules(browser, session, secured, [{"role": role, "read": 1}])
    assert r.status_code == 403 and "System Manager" in text(r)
    assert custom_perms(ctx, secured) == []
    assert cannot_list(browser, secured)


# -- User Permissions ---------------------------------------------------------------------------

@pytest.fixture
def regions(ctx, make_doctype, reader):
    """Region (named by its field) and Account linking to it, both readable by the reader's role."""
    _, role, _ = reader
    rules = [dict(ADMIN_RULE, permlevel=0), {"role": role, "read": 1}]
    region = make_doctype([{"fieldname": "region_name", "fieldtype": "Data", "label": "Region", "reqd": 1}],
                          permissions=rules, autoname="field:region_name")
    account = make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title", "in_list_view": 1},
                            {"fieldname": "region", "fieldtype": "Link", "label": "Region", "options": region}],
                           permissions=rules)
    write(ctx)
    for name in ("North", "South"):
        lowcode.get_doc({"doctype": region, "region_name": name}).insert()
    lowcode.get_doc({"doctype": account, "title": "acct-north", "region": "North"}).insert()
    lowcode.get_doc({"doctype": account, "title": "acct-south", "region": "South"}).insert()
    refresh(ctx)
    return region, account


def user_permissions_url(user):
    return "/app/user-permissions?" + urlencode({"user": user})


def test_user_permissions_page_adds_and_removes_restrictions(ctx, client, manager, reader, regions, unique):
    browser, role, _ = reader
    region, account = regions
    user = f"reader-{unique}@example.com"
    titles = lambda: sorted(r["title"] for r in browser.get(  # noqa: E731
        f"/api/resource/{quote(account)}", {"fields": json.dumps(["title"])}).json()["data"])
    assert titles() == ["acct-north", "acct-south"]

    r = post(client, manager, "/app/user-permissions", {"user": user, "_action": "add", "allow": region,
                                                       "for_value": "North", "apply_to_all_doctypes": "1"})
    assert r.status_code == 302, text(r)[:2000]
    assert titles() == ["acct-north"]
    listing = text(browser.get(f"/app/{route_for(account)}"))
    assert "acct-north" in listing and "acct-south" not in listing

    page = text(client.get(user_permissions_url(user)))
    assert f"/app/{route_for(region)}/North" in page
    refresh(ctx)
    name = lowcode.get_value("User Permission", {"user": user, "allow": region})
    assert name
    # The same restriction twice is refused.
    again = post(client, manager, "/app/user-permissions", {"user": user, "_action": "add", "allow": region,
                                                           "for_value": "North", "apply_to_all_doctypes": "1"})
    assert again.status_code == 409 and "already has this restriction" in text(again)

    r = post(client, manager, "/app/user-permissions", {"user": user, "_action": "remove", "name": name})
    assert r.status_code == 302
    assert titles() == ["acct-north", "acct-south"]
    refresh(ctx)
    assert lowcode.get_count("User Permission", filters={"user": user}) == 0


def test_restriction_for_one_doctype_only(ctx, client, manager, reader, regions, unique):
    browser, role, _ = reader
    region, account = regions
    user = f"reader-{unique}@example.com"
    r = post(client, manager, "/app/user-permissions", {"user": user, "_action": "add", "allow": region,
                                                       "for_value": "South", "applicable_for": region})
    assert r.status_code == 302, text(r)[:2000]
    # Accounts are not restricted; Regions are.
    accounts = browser.get(f"/api/resource/{quote(account)}").json()["data"]
    assert len(accounts) == 2
    names = [row["name"] for row in browser.get(f"/api/resource/{quote(region)}").json()["data"]]
    assert names == ["South"]


@pytest.mark.parametrize("values,status,message", [
    ({"for_value": "Atlantis", "apply_to_all_doctypes": "1"}, 417, "could not find"),
    ({"for_value": "North"}, 417, "Applicable For"),
    ({"for_value": "", "apply_to_all_doctypes": "1"}, 417, "For Value"),
])
def test_bad_restrictions_are_refused(ctx, client, manager, reader, regions, unique, values, status, message):
    region, _ = regions
    user = f"reader-{unique}@example.com"
    r = post(client, manager, "/app/user-permissions", dict(values, user=user, _action="add", allow=region))
    assert r.status_code == status, (r.status_code, text(r)[:2000])
    assert message in text(r)
    refresh(ctx)
    assert lowcode.get_count("User Permission", filters={"user": user}) == 0


def test_unknown_user_is_404(client, manager):
    assert client.get(user_permissions_url("nobody@example.com")).status_code == 404
