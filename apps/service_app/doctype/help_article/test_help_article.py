"""The knowledge base: articles through Draft -> Review -> Published by role, search that
meets Persian and Arabic spellings, public pages and suggestions that show only
Published articles, view counts and one "was this helpful?" vote per visitor."""
import json
import re
from urllib.parse import quote

import pytest

import lowcode
from lowcode import query
from lowcode.exceptions import PermissionError
from lowcode.workflow import WorkflowTransitionError, apply_workflow
from lowcode.tests.desk_helpers import commit, login

from crm_app.tests.helpers import as_user
from service_app import knowledge_base as kb
from service_app.tests.helpers import make_agent, tag


def make_category(name=None, parent=None, **labels):
    return lowcode.get_doc(dict({"doctype": "Help Category", "category_name": name or f"Cat {tag()}",
                                 "parent_category": parent}, **labels)).insert(ignore_permissions=True).name


def make_article(title, content="", language="en", category=None, publish=True):
    doc = lowcode.get_doc({"doctype": "Help Article", "title": title, "content": content, "language": language,
                           "category": category or make_category()}).insert()
    if publish:
        apply_workflow(doc, "Submit for Review")
        apply_workflow(doc, "Publish")
    return lowcode.get_doc("Help Article", doc.name)


def slug(article):
    return article.route.removeprefix(kb.ROUTE_PREFIX)


def url(article):
    return kb.article_url(article.route)


def found(text, **kw):
    return [r["name"] for r in kb.search(text, **kw)]


# -- search ----------------------------------------------------------------------------------------

def test_persian_and_arabic_spellings_find_each_other_both_ways(ctx):
    marker = tag()
    arabic = make_article(f"راهنماي نصب كيبورد {marker}", "<p>براي تنظيم ١٢٣ مرحله</p>", language="fa")
    persian = make_article(f"می‌خواهم رمز را عوض کنم {marker}", "<p>در ۴۵۶ ثانیه</p>", language="fa")
    assert arabic.name in found(f"کیبورد {marker}")           # Persian query, Arabic letters stored
    assert arabic.name in found(f"برای {marker}")
    assert persian.name in found(f"ميخواهم {marker}")          # Arabic yeh, no ZWNJ: stored with both
    assert persian.name in found(f"مي\u200cخواهم {marker}")
    assert arabic.name in found(f"123 {marker}") and persian.name in found(f"٤٥٦ {marker}")  # digits
    assert persian.name not in found(f"کیبورد {marker}")
    assert arabic.search_title == f"راهنمای نصب کیبورد {marker}"


def test_title_hits_rank_before_body_hits_and_every_word_must_match(ctx):
    marker = tag()
    in_body = make_article(f"Modem guide {marker}", f"<p>how to reset the router {marker}</p>")
    in_title = make_article(f"Router reset {marker}", "<p>steps</p>")
    assert found(f"router {marker}") == [in_title.name, in_body.name]
    assert found(f"ROUTER Reset {marker}")[0] == in_title.name
    assert found(f"router printer {marker}") == []


def test_percent_and_underscore_in_a_query_match_only_themselves(ctx):
    marker = tag()
    percent = make_article(f"Refund 100% {marker}")
    underscore = make_article(f"Set max_size {marker}")
    plain = make_article(f"Refund 1000 maxXsize {marker}")
    assert found(f"100% {marker}") == [percent.name]
    assert found(f"max_size {marker}") == [underscore.name]
    assert set(found(marker)) == {percent.name, underscore.name, plain.name}
    assert found(f"% {marker}") == [percent.name] and found(f"_ {marker}") == [underscore.name]
    assert found(f"! {marker}") == []
    path = make_article(f"Clear C:\\temp\\x_1 and 'quotes' {marker}")
    assert found(f"c:\\temp\\x_1 {marker}") == [path.name]   # backslashes are plain characters too
    assert found(f"'quotes' {marker}") == [path.name] and found(f"\\% {marker}") == []


# -- workflow and roles ------------------------------------------------------------------------------

def test_agents_draft_and_send_for_review_managers_publish(ctx, unique):
    agent = make_agent(unique, "writer")
    manager = make_agent(unique, "editor", roles=("Support Manager",))
    category = make_category()
    with as_user(agent):
        with pytest.raises(WorkflowTransitionError):  # a new article starts as a draft, whatever it says
            lowcode.get_doc({"doctype": "Help Article", "title": f"Sneaky {tag()}", "category": category,
                             "status": "Published"}).insert()
        doc = lowcode.get_doc({"doctype": "Help Article", "title": f"Draft {tag()}", "category": category,
                               "content": "<p>ok</p><script>alert(1)</script>"}).insert()
        assert (doc.status, doc.author, doc.published_on) == ("Draft", agent, None)
        assert "<script" not in doc.content  # sanitised on save
        apply_workflow(doc, "Submit for Review")
        with pytest.raises(WorkflowTransitionError):
            apply_workflow(lowcode.get_doc("Help Article", doc.name), "Publish")
        with pytest.raises(PermissionError):  # in review only managers edit
            doc = lowcode.get_doc("Help Article", doc.name)
            doc.title = "changed by the writer"
            doc.save()
    with as_user(manager):
        doc = apply_workflow(lowcode.get_doc("Help Article", doc.name), "Publish")
        assert doc.status == "Published" and doc.published_on
        apply_workflow(doc, "Unpublish")
        assert lowcode.get_doc("Help Article", doc.name).status == "Draft"
    with as_user(agent):  # agents read every article on the desk, drafts included
        lowcode.get_doc("Help Article", doc.name).check_permission("read")
        assert query.get_list("Help Article", filters={"name": doc.name}, pluck="name") == [doc.name]


def test_counts_and_search_columns_are_the_controllers_not_the_clients(ctx):
    doc = make_article(f"Counts {tag()}")
    doc.views, doc.helpful, doc.search_text = 1000, 50, "anything"
    doc.save()
    stored = lowcode.get_doc("Help Article", doc.name)
    assert (stored.views, stored.helpful) == (0, 0)
    assert stored.search_text.startswith("counts ")


def test_routes_are_unique_slugs_that_keep_persian_letters(ctx):
    title = f"تنظیم مودم {tag()}"
    first, second = make_article(title, language="fa"), make_article(title, language="fa")
    assert first.route.startswith("kb/article/تنظیم-مودم-")
    assert second.route == first.route + "-2"


# -- public pages, suggestions ----------------------------------------------------------------------

def test_only_published_articles_reach_guests(ctx, client):
    marker = tag()
    published = make_article(f"Published {marker}", f"<p>body {marker}</p>")
    draft = make_article(f"Draft {marker}", f"<p>body {marker}</p>", publish=False)
    in_review = make_article(f"Review {marker}", publish=False)
    apply_workflow(in_review, "Submit for Review")
    commit(ctx)
    assert client.get(url(published)).status_code == 200
    for hidden in (draft, lowcode.get_doc("Help Article", in_review.name)):
        r = client.get(url(hidden))
        assert r.status_code == 404 and marker not in r.content.decode()
        assert client.post(url(hidden) + "/vote", {"helpful": "1"}).status_code == 404
        assert client.post(url(hidden) + "/view").status_code == 404
    page = client.get("/kb/search", {"q": marker, "language": "all"}).content.decode()
    assert f"Published {marker}" in page and f"Draft {marker}" not in page and f"Review {marker}" not in page
    r = client.get("/api/method/service_app.knowledge_base.suggest", {"text": marker})
    assert [s["title"] for s in r.json()["message"]] == [f"Published {marker}"]
    category = client.get(f"/kb/category/{quote(published.category)}?language=all").content.decode()
    assert f"Published {marker}" in category and "Draft" not in category
    # the DocType itself is the desk's: guests get nothing through the REST API
    assert client.get("/api/resource/Help Article", {"fields": '["title"]'}).status_code == 403
    assert client.get(f"/api/resource/Help Article/{draft.name}").status_code in (401, 403, 404)


def test_pages_escape_titles_and_suggest_returns_them_as_data(ctx, client):
    marker = tag()
    article = make_article(f'<img src=x onerror="alert(1)"> {marker}', "<p>fine</p>")
    commit(ctx)
    r = client.get("/api/method/service_app.knowledge_base.suggest", {"text": f"img {marker}", "lang": "en"})
    assert r["Content-Type"].startswith("application/json")
    hit = r.json()["message"][0]
    assert hit["title"] == article.title and hit["url"] == url(article) and hit["route"] == article.route
    for page in (client.get(url(article)), client.get("/kb/search", {"q": marker, "language": "en"})):
        html = page.content.decode()
        assert "<img src=x" not in html and "&lt;img src=x onerror=" in html
    # the script builds the list with textContent only
    script = open(kb.__file__.replace("knowledge_base.py", "public/kb_suggest.js")).read()
    assert "innerHTML" not in script and "textContent" in script


def test_suggest_refuses_bad_parameters_by_name(ctx, client):
    commit(ctx)
    r = client.get("/api/method/service_app.knowledge_base.suggest", {"text": "x", "lang": "xx"})
    assert (r.status_code, r.json()["field"]) == (400, "lang")
    r = client.get("/api/method/service_app.knowledge_base.suggest", {"text": "x" * 201})
    assert (r.status_code, r.json()["field"]) == (400, "text")
    assert client.get("/kb/search", {"q": "y" * 201}).json()["field"] == "q"
    assert client.get("/kb/search", {"q": "router", "language": "de"}).json()["field"] == "language"
    assert client.get("/api/method/service_app.knowledge_base.suggest", {"text": "a"}).json()["message"] == []


def test_language_filter_defaults_to_the_visitors_language(ctx, client):
    marker = tag()
    persian = make_article(f"مودم {marker}", language="fa")
    english = make_article(f"Modem {marker}", language="en")
    commit(ctx)
    page = client.get("/kb/search", {"q": marker}, HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    assert persian.title in page and english.title not in page and 'dir="rtl"' in page
    page = client.get("/kb/search", {"q": marker, "language": "all"}, HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    assert persian.title in page and english.title in page
    page = client.get("/kb/search", {"q": marker}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert english.title in page and persian.title not in page


def test_a_view_counts_by_post_once_per_visitor_and_never_by_get(ctx, client):
    article = make_article(f"Viewed {tag()}")
    commit(ctx)
    html = client.get(url(article)).content.decode()
    assert f'data-kb-view="{url(article)}/view"' in html and "service_app/kb.js" in html
    assert lowcode.db.get_value("Help Article", article.name, "views") == 0
    client.cookies["kb_visitor"] = "v" * 20
    assert client.post(url(article) + "/view").status_code == 204
    assert client.post(url(article) + "/view").status_code == 204
    assert client.get(url(article) + "/view").status_code == 405
    ctx.db.commit()
    assert lowcode.db.get_value("Help Article", article.name, "views") == 1


def test_one_vote_per_visitor_by_cookie_or_session(ctx, client, unique):
    from django.test import Client
    article = make_article(f"Voted {tag()}")
    user = make_agent(unique, "reader")
    commit(ctx)
    address = f"10.1.{int(unique[:2], 16)}.{int(unique[2:4], 16)}"
    r = client.post(url(article) + "/vote", {"helpful": "1"}, REMOTE_ADDR=address)
    assert r.status_code == 303 and r["Location"] == url(article) + "#feedback"
    assert "kb_visitor" in r.cookies
    again = client.post(url(article) + "/vote", {"helpful": "0"}, REMOTE_ADDR=address)
    assert again.status_code == 409 and "already rated" in again.content.decode()
    assert "Thank you for your feedback" in client.get(url(article)).content.decode()
    other = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    assert other.post(url(article) + "/vote", {"helpful": "0"}, REMOTE_ADDR=address).status_code == 303
    assert other.post(url(article) + "/vote", {"helpful": "maybe"}, REMOTE_ADDR=address).json()["field"] == "helpful"
    member = Client(HTTP_HOST=client.defaults["HTTP_HOST"])
    csrf = login(ctx, member, user)
    assert member.post(url(article) + "/vote", {"helpful": "1", "csrf_token": csrf},
                       REMOTE_ADDR=address).status_code == 303
    assert member.post(url(article) + "/vote", {"helpful": "1", "csrf_token": csrf},
                       REMOTE_ADDR=address).status_code == 409
    ctx.db.commit()
    assert ctx.db.sql("SELECT `helpful`, `not_helpful` FROM `tabHelp Article` WHERE `name`=%s",
                      (article.name,))[0] == (2, 1)
    votes = ctx.db.sql("SELECT `name`, `visitor` FROM `tabHelp Article Vote` WHERE `article`=%s", (article.name,))
    assert len(votes) == 3
    # keyed digests: hashing a user's name does not tell who voted
    import hashlib
    plain = hashlib.sha256(f"{article.name}\nuser:{user}".encode()).hexdigest()[:32]
    assert plain not in {v[0] for v in votes} and not any(user in (v[1] or "") for v in votes)


def test_votes_from_one_address_are_rate_limited(ctx, client, unique):
    from django.test import Client
    article = make_article(f"Popular {tag()}")
    commit(ctx)
    address = f"10.2.{int(unique[:2], 16)}.{int(unique[2:4], 16)}"
    statuses = [Client(HTTP_HOST=client.defaults["HTTP_HOST"]).post(
        url(article) + "/vote", {"helpful": "1"}, REMOTE_ADDR=address).status_code
        for _ in range(kb.VOTES_PER_ADDRESS + 1)]
    assert statuses == [303] * kb.VOTES_PER_ADDRESS + [429]
    ctx.db.commit()
    assert lowcode.db.get_value("Help Article", article.name, "helpful") == kb.VOTES_PER_ADDRESS


def test_index_lists_categories_with_published_articles(ctx, client):
    parent = make_category(f"Billing {tag()}")
    child = make_category(f"Invoices {tag()}", parent=parent, label_fa=f"فاکتورها {tag()}")
    empty = make_category(f"Empty {tag()}")
    make_article(f"Invoice copy {tag()}", category=child)
    make_article(f"Draft only {tag()}", category=empty, publish=False)
    commit(ctx)
    html = client.get("/kb?language=en").content.decode()
    assert child in html and empty not in html
    page = client.get(f"/kb/category/{quote(parent)}?language=all").content.decode()
    assert child in page
    # categories are shared by every language, named in the page's language when they can be
    label_fa = lowcode.db.get_value("Help Category", child, "label_fa")
    fa = client.get("/kb?lang=fa&language=all").content.decode()
    assert label_fa in fa and f">{child}<" not in fa
    assert label_fa in client.get(f"/kb/category/{quote(parent)}?lang=fa&language=all").content.decode()
    assert client.get("/kb/category/nothing-here").status_code == 404
    with pytest.raises(lowcode.ValidationError) as err:
        make_category("Billing/Invoices")
    assert err.value.field == "category_name"
    assert client.get("/kb/elsewhere").status_code == 404


# -- the desk: suggestions on the case subject ----------------------------------------------------------

def test_case_form_loads_the_suggestion_scripts_from_the_apps_public_folder(ctx, client, unique):
    agent = make_agent(unique, "caser")
    login(ctx, client, agent)
    html = client.get("/app/case/new").content.decode()
    scripts = re.findall(r'<script src="(/assets/\w+/service_app/[\w.]+\.js)"', html)
    assert [s.rsplit("/", 1)[1] for s in scripts] == ["kb_suggest.js", "case_form.js"]
    r = client.get(scripts[0])
    assert r.status_code == 200 and "data-kb-suggest" in b"".join(r.streaming_content).decode()
    digest = scripts[0].split("/")[2]
    for outside in ("service_app/../hooks.py", "service_app/../../conftest.py", "os/__init__.py",
                    "lowcode/hooks.py"):
        assert client.get(f"/assets/{digest}/{outside}").status_code == 404, outside


def test_public_pages_show_dates_in_the_visitors_calendar(ctx, client):
    import datetime
    import jdatetime
    article = make_article(f"تاریخ {tag()}", language="fa")
    commit(ctx)
    html = client.get(url(article) + "?lang=fa").content.decode()
    day = jdatetime.date.fromgregorian(date=datetime.date.fromisoformat(str(article.modified)[:10]))
    # The date is isolated (<bdi dir="ltr">) so its digits keep their order in right-to-left text.
    shown = re.search(r'<p class="small text-body-secondary">.*?</p>', html, re.S).group(0)
    assert '<bdi dir="ltr">' in shown
    assert day.strftime("%Y/%m/%d") in shown.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")), shown


def test_demo_articles_in_three_languages_once(ctx):
    from service_app import knowledge_base_demo
    knowledge_base_demo.generate()
    assert knowledge_base_demo.generate() == 0  # a second run adds nothing
    rows = ctx.db.sql("SELECT `language`, `status`, `title` FROM `tabHelp Article`", as_dict=True)
    titles = {a[0] for a in knowledge_base_demo.ARTICLES}
    demo = [r for r in rows if r["title"] in titles]
    assert {r["language"] for r in demo if r["status"] == "Published"} == {"fa", "he", "en"}
    assert {r["status"] for r in demo} == {"Draft", "Review", "Published"}
    assert found("مودم خانگي", language="fa")  # Arabic yeh finds the Persian demo article


def test_agents_see_drafts_on_the_desk(ctx, client, unique):
    agent = make_agent(unique, "deskreader")
    draft = make_article(f"Desk draft {tag()}", publish=False)
    login(ctx, client, agent)
    assert draft.title in client.get("/app/help-article").content.decode()
    assert draft.title in client.get(f"/app/help-article/{draft.name}").content.decode()
    assert client.get("/app/help-article/new").status_code == 200
