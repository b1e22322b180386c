"""Names everywhere: the desk shows users by their full name, not their e-mail (list cells,
kanban cards, report cells, the timeline's sentences, the sales dashboard), contacts by their name, not their
hash (the Contact list, an event's participants), all through desk/link_titles.py
(user_names: one query for a page's users)."""
import json
import re

import lowcode
from lowcode.desk.link_titles import user_names
from lowcode.tests.desk_helpers import login

from crm_app.tests.helpers import as_user, make_customer, refresh, tag, write


def _sara(unique, first="Sara", last="Ahmadi"):
    email = f"sales1-{unique}-{tag()[:4]}@demo.local"
    lowcode.get_doc({"doctype": "User", "email": email, "first_name": first, "last_name": last,
                     "roles": [{"role": "Sales User"}]}).insert(ignore_permissions=True)
    return email


def _cells(html, email):
    """The name shown as text (never the e-mail as a cell's or link's text)."""
    assert ">Sara Ahmadi<" in html
    assert not re.search(rf">\s*{re.escape(email)}\s*<", html), "the e-mail is shown as text"


def test_lists_boards_reports_and_the_timeline_show_the_users_name(ctx, client, unique):
    sara = _sara(unique)
    company = f"Names {unique}"
    with as_user(sara):
        lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Reza", "company_name": company,
                                "lead_owner": sara}).insert()
    login(ctx, client, "Administrator")
    only = {"company_name": company}
    _cells(client.get("/app/lead", only).content.decode(), sara)
    _cells(client.get("/app/lead/view/kanban", only).content.decode(), sara)
    report = client.get("/app/lead/view/report", {"filters": json.dumps([["company_name", "=", company]]),
                                                  "columns": "lead_name,lead_owner,owner"})
    _cells(report.content.decode(), sara)
    grouped = client.get("/app/lead/view/report", {"filters": json.dumps([["company_name", "=", company]]),
                                                   "group_by": "lead_owner", "chart": "bar"}).content.decode()
    _cells(grouped, sara)
    chart = grouped[grouped.index('data-chart="'):grouped.index("></div>", grouped.index('data-chart="'))]
    assert "Sara Ahmadi" in chart and sara not in chart  # the chart's labels too
    dashboard = client.get("/app/sales-dashboard").content.decode()
    assert "<td>Sara Ahmadi</td>" in dashboard and f"<td>{sara}</td>" not in dashboard
    form = client.get(f"/app/lead/{lead.name}").content.decode()
    timeline = form[form.index('id="timeline"'):]
    assert "<strong>Sara Ahmadi</strong>" in timeline and f"<strong>{sara}</strong>" not in timeline
    # a changed owner reads with names too
    write(ctx)
    dana = _sara(unique, "Dana", "Levi")
    lead.reload()
    lead.lead_owner = dana
    lead.save()
    refresh(ctx)
    form = client.get(f"/app/lead/{lead.name}").content.decode()
    timeline = form[form.index('id="timeline"'):]
    assert "Sara Ahmadi" in timeline and "Dana Levi" in timeline and dana not in timeline and sara not in timeline
    form = client.get(f"/app/lead/{lead.name}").content.decode()
    # the Link to User keeps the id in its input, the name beside it
    assert f'value="{dana}"' in form and "data-link-title>Dana Levi<" in form


def test_contacts_and_participants_show_names_not_hashes(ctx, client, unique):
    sara = _sara(unique)
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Maryam", "last_name": f"Karimi {unique}"}).insert()
    event = lowcode.get_doc({"doctype": "Event", "subject": f"Demo {unique}", "starts_on": "2026-03-01 10:00:00",
                             "customer": make_customer().name,
                             "participants": [{"contact": contact.name}, {"user": sara}]}).insert()
    login(ctx, client, "Administrator")
    listed = client.get("/app/contact", {"last_name": f"Karimi {unique}"}).content.decode()
    assert f">Maryam Karimi {unique}</a>" in listed and f">{contact.name}</a>" not in listed
    form = client.get(f"/app/event/{event.name}").content.decode()
    assert f"data-link-title>Maryam Karimi {unique}<" in form and "data-link-title>Sara Ahmadi<" in form


def test_user_names_is_one_query_per_page(ctx, unique):
    users = [_sara(unique) for _ in range(3)]
    ctx.cache.pop("_user_names", None)
    queries = []
    real = ctx.db.sql

    def counting(sql, *args, **kwargs):
        queries.append(sql)
        return real(sql, *args, **kwargs)
    ctx.db.sql = counting
    try:
        assert user_names(users + ["nobody@example.com"]) == dict(
            {u: "Sara Ahmadi" for u in users}, **{"nobody@example.com": "nobody@example.com"})
        assert user_names(users[:1]) == {users[0]: "Sara Ahmadi"}  # from the page's cache
    finally:
        del ctx.db.sql
    assert len([q for q in queries if "tabUser" in q]) == 1, queries


def test_the_navigation_names_the_signed_in_user(ctx, client, unique):
    sara = _sara(unique)
    refresh(ctx)
    login(ctx, client, sara)
    page = client.get("/app/lead").content.decode()
    button = page[page.index('id="nav-user"') - 200:page.index("</button>", page.index('id="nav-user"'))]
    assert 'aria-label="Sara Ahmadi"' in button and ">Sara Ahmadi</span>" in button and ">SA</span>" in button
    assert sara not in button
