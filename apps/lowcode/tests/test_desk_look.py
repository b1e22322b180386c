"""The desk's look over HTTP on both engines: status badges coloured by the Workflow
State's style (else Frappe's guess from the words), avatars with initials, the favicon,
empty lists that say what to do next, phone fields that call and text, and the toast
after a save."""
import re

import pytest

import lowcode
from lowcode.desk import avatars
from lowcode.desk.indicators import style_for
from lowcode.utils import route_for

from .desk_helpers import commit, ensure_role, login, make_user


def html(response):
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


@pytest.fixture
def flow(ctx, make_doctype, unique):
    """A DocType whose Select ``status`` is a workflow's state field, with states styled
    Success and Danger and one without a style."""
    won, lost, idle = f"Won {unique}", f"Lost {unique}", f"Idle {unique}"
    for state, style in ((won, "Success"), (lost, "Danger"), (idle, "")):
        lowcode.get_doc({"doctype": "Workflow State", "workflow_state_name": state, "style": style}).insert()
    dt = make_doctype([{"fieldname": "subject", "fieldtype": "Data", "in_list_view": 1},
                       {"fieldname": "status", "fieldtype": "Select", "options": f"{won}\n{lost}\n{idle}",
                        "in_list_view": 1}], title_field="subject")
    lowcode.get_doc({"doctype": "Workflow", "workflow_name": f"Flow {unique}", "document_type": dt, "is_active": 1,
                     "workflow_state_field": "status",
                     "states": [{"state": s, "allow_edit": "System Manager"} for s in (won, lost, idle)],
                     "transitions": [{"state": won, "action": "Lose", "next_state": lost,
                                      "allowed": "System Manager", "allow_self_approval": 1}]}).insert()
    ctx.db.commit()
    ctx.db.begin()
    names = {}
    for state in (won, lost, idle):
        doc = lowcode.get_doc({"doctype": dt, "subject": f"Deal {state}"}).insert()
        lowcode.db.sql(f"UPDATE `tab{dt}` SET `status`=%s WHERE `name`=%s", (state, doc.name))
        names[state] = doc.name
    commit(ctx)
    return {"doctype": dt, "route": route_for(dt), "won": won, "lost": lost, "idle": idle, "names": names}


def badge(page, state):
    found = re.findall(r'<span class="badge status-badge text-bg-(\w+)" data-status="%s">' % re.escape(state), page)
    assert found, f"no badge for {state}"
    return found[0]


def test_list_form_and_kanban_colour_the_status_by_the_workflow_states_style(ctx, client, flow):
    login(ctx, client, "Administrator")
    page = html(client.get(f"/app/{flow['route']}"))
    assert (badge(page, flow["won"]), badge(page, flow["lost"]), badge(page, flow["idle"])) == (
        "success", "danger", "secondary")
    form = html(client.get(f"/app/{flow['route']}/{flow['names'][flow['lost']]}"))
    assert re.search(r'class="badge status-badge text-bg-danger" id="workflow-state">' + re.escape(flow["lost"]), form)
    board = html(client.get(f"/app/{flow['route']}/view/kanban", {"field": "status"}))
    assert 'status-dot text-bg-success' in board and 'status-dot text-bg-danger' in board
    # A changed style shows on the next page.
    lowcode.db.sql("UPDATE `tabWorkflow State` SET `style`='Inverse' WHERE `name`=%s", (flow["won"],))
    commit(ctx)
    assert badge(html(client.get(f"/app/{flow['route']}")), flow["won"]) == "dark"


def test_a_status_without_workflow_is_coloured_by_its_words_as_frappe_guesses(ctx, client, make_doctype):
    dt = make_doctype([{"fieldname": "status", "fieldtype": "Select", "options": "Open\nCompleted\nOn Hold",
                        "in_list_view": 1}])
    for status in ("Open", "Completed", "On Hold"):
        lowcode.get_doc({"doctype": dt, "status": status}).insert()
    commit(ctx)
    assert (style_for(dt, "Open"), style_for(dt, "Completed"), style_for(dt, "Pending Review")) == (
        "danger", "success", "warning")
    login(ctx, client, "Administrator")
    page = html(client.get(f"/app/{route_for(dt)}"))
    assert (badge(page, "Open"), badge(page, "Completed"), badge(page, "On Hold")) == ("danger", "success", "secondary")


def test_leads_states_are_styled_by_the_crm_fixture(ctx):
    assert (style_for("Lead", "New"), style_for("Lead", "Converted"), style_for("Lead", "Unqualified")) == (
        "info", "success", "danger")


def test_an_apps_indicator_rules_colour_a_status_without_workflow(ctx):
    # crm_app's hooks.py: Call Log has no workflow; "No Answer" has none of Frappe's words.
    assert (style_for("Call Log", "No Answer"), style_for("Call Log", "Ringing"), style_for("Call Log", "Completed")) == (
        "danger", "warning", "success")


def test_initials_and_colours_of_avatars():
    assert avatars.initials("Parisa Ahmadi") == "PA"
    assert avatars.initials("sales.user@example.com") == "SU"
    assert avatars.initials("Administrator") == "A"
    assert avatars.initials("پریسا احمدی") == "پا"
    assert avatars.initials("") == "?"
    assert avatars.colour("a@example.com") == avatars.colour("a@example.com")
    assert {avatars.colour(f"user{i}@example.com") for i in range(20)} == set(range(avatars.PALETTE))


def test_who_may_not_read_users_gets_initials_of_their_ids(ctx):
    from lowcode.permissions import role_access
    from .desk_helpers import as_user
    with as_user("Guest"):
        assert role_access("User", "read") is None
        html_ = str(avatars.avatar("dana.levi@example.com"))
    assert 'title="dana.levi@example.com"' in html_ and ">DL</span>" in html_


def test_avatars_in_the_list_the_sidebar_and_the_timeline(ctx, client, make_doctype, unique):
    dt = make_doctype([{"fieldname": "subject", "fieldtype": "Data", "in_list_view": 1}])
    user = make_user(unique, "avatar", ["System Manager"])
    lowcode.db.sql("UPDATE `tabUser` SET `first_name`='Dana', `last_name`='Levi', `full_name`='Dana Levi' "
                   "WHERE `name`=%s", (user,))
    pictured = make_user(unique, "pictured", ["System Manager"])
    lowcode.db.sql("UPDATE `tabUser` SET `user_image`='/files/me.png' WHERE `name`=%s", (pictured,))
    doc = lowcode.get_doc({"doctype": dt, "subject": "Avatars"}).insert()
    lowcode.db.sql(f"UPDATE `tab{dt}` SET `_assign`=%s WHERE `name`=%s", (f'["{user}", "{pictured}"]', doc.name))
    commit(ctx)
    login(ctx, client, "Administrator")
    page = html(client.get(f"/app/{route_for(dt)}"))
    assert re.search(r'<span class="avatar avatar-sm avatar-\d" title="Dana Levi" aria-hidden="true">DL', page)
    assert '<img class="avatar avatar-sm" src="/files/me.png" alt="" title="Pictured">' in page
    timeline = html(client.get(f"/app/{route_for(dt)}/{doc.name}"))
    assert 'aria-hidden="true">A</span> <strong>Administrator</strong>' in timeline


def test_the_favicon_is_linked_from_desk_and_web_pages_and_served_as_svg(ctx, client):
    login(ctx, client, "Administrator")
    for path in ("/app", "/kb"):
        page = html(client.get(path))
        icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
        assert icon, path
        served = client.get(icon.group(1))
        assert served.status_code == 200 and served["Content-Type"] == "image/svg+xml"
        assert b"<svg" in b"".join(served.streaming_content)
        assert re.search(r'<script src="/assets/\w+/theme\.js"></script>', page), path
    old = client.get("/favicon.ico")
    assert old.status_code == 200 and old["Content-Type"] == "image/svg+xml"


def test_an_empty_list_says_what_to_do_next(ctx, client, make_doctype, unique):
    dt = make_doctype([{"fieldname": "subject", "fieldtype": "Data", "in_list_view": 1}], name=f"Visit {unique}")
    reader = f"Reader {unique}"
    ensure_role(reader)
    lowcode.get_doc({"doctype": "Custom DocPerm", "parent": dt, "role": reader, "read": 1}).insert()
    user = make_user(unique, "reader", [reader])
    commit(ctx)
    login(ctx, client, "Administrator")
    page = html(client.get(f"/app/{route_for(dt)}"))
    empty = re.search(r'id="list-empty">(.*?)</div>', page, re.S).group(1)
    assert f"No Visit {unique} records yet." in empty and "Create the first one." in empty
    assert f'href="/app/{route_for(dt)}/new"' in empty
    filtered = html(client.get(f"/app/{route_for(dt)}", {"q": "nothing"}))
    empty = re.search(r'id="list-empty">(.*?)</div>', filtered, re.S).group(1)
    assert "No documents match" in empty and f'href="/app/{route_for(dt)}">Clear filters' in empty
    # Who may not create is not invited to.
    login(ctx, client, user)
    empty = re.search(r'id="list-empty">(.*?)</div>', html(client.get(f"/app/{route_for(dt)}")), re.S).group(1)
    assert "records yet." in empty and "/new" not in empty and "Create" not in empty


def test_phone_fields_call_and_text_and_the_list_folds_its_filters(ctx, client, unique):
    lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Tap", "company_name": f"Tap {unique}",
                            "mobile_no": "+98 912 555 0101"}).insert()
    commit(ctx)
    login(ctx, client, "Administrator")
    form = html(client.get(f"/app/lead/{lead.name}"))
    assert 'href="tel:+989125550101" data-tel>' in form
    assert 'href="sms:+989125550101" data-sms>' in form
    assert f'href="/app/send-sms/{lead.name}?doctype=Lead" data-send-sms>' in form
    assert 'id="form-actions"' in form  # the phone's bottom bar (desk.css)
    page = html(client.get("/app/lead"))
    assert 'id="filters-toggle"' in page and 'data-bs-target="#list-filters"' in page
    assert re.search(r'<form id="list-filters" class="[^"]*\bcollapse d-md-flex\b', page)
    assert 'class="table table-sm table-hover align-middle list-table"' in page and 'data-label="' in page
    # While a filter is set, the phone shows them unfolded.
    filtered = html(client.get("/app/lead", {"status": "New"}))
    assert re.search(r'<form id="list-filters" class="[^"]*\bcollapse d-md-flex show"', filtered)
    assert re.search(r'id="filters-toggle"[^>]*aria-expanded="true"', filtered)
    assert re.search(r'id="filters-toggle"[^>]*aria-expanded="false"', page)


def test_a_save_leaves_a_toast_for_the_next_page(ctx, client, make_doctype):
    dt = make_doctype([{"fieldname": "subject", "fieldtype": "Data"}])
    token = login(ctx, client, "Administrator")
    r = client.post(f"/app/{route_for(dt)}/new", {"subject": "Hello", "csrf_token": token})
    assert r.status_code == 302 and r.cookies["desk_toast"].value == "saved"
    assert int(r.cookies["desk_toast"]["max-age"]) <= 60
    page = html(client.get(r["Location"]))
    assert 'id="toasts"' in page and 'data-saved="Saved"' in page
    # A refused save leaves none.
    bad = client.post(r["Location"], {"subject": "x", "modified": "2000-01-01 00:00:00", "csrf_token": token})
    assert bad.status_code >= 400 and "desk_toast" not in bad.cookies


def test_a_user_may_choose_a_light_or_dark_desk_over_the_systems_setting(ctx, client, unique):
    user = make_user(unique, "theme", ["System Manager"])
    token = login(ctx, client, user)
    # Automatic (the default): no theme in the page, static/theme.js follows the system.
    page = html(client.get("/app/my-settings"))
    assert '<html lang="en" dir="ltr">' in page
    assert re.search(r'<option value="Automatic" selected>', page)
    form = {"language": "en", "calendar": "Gregorian", "csrf_token": token}
    r = client.post("/app/my-settings", dict(form, desk_theme="Dark"))
    assert r.status_code == 302
    assert '<html lang="en" dir="ltr" data-bs-theme="dark" data-theme-choice="dark">' in html(client.get("/app/lead"))
    assert re.search(r'<option value="Dark" selected>', html(client.get("/app/my-settings")))
    # Anything else is refused, naming the field, and nothing changes.
    bad = client.post("/app/my-settings", dict(form, desk_theme="Purple"))
    assert bad.status_code == 417 and "desk_theme" in bad.content.decode()
    commit(ctx)  # a fresh snapshot
    assert lowcode.db.get_value("User", user, "desk_theme") == "Dark"
    client.post("/app/my-settings", dict(form, desk_theme="Light"))
    assert 'data-bs-theme="light" data-theme-choice="light"' in html(client.get("/app"))
