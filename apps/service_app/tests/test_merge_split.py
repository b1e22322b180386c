"""Merging duplicate cases (activities, comments, attachments and time logs move to
the survivor; the duplicate is closed and says where it went) and splitting one case
into two; both only for users who may write every case involved."""
import pytest

import lowcode
from lowcode.exceptions import PermissionError
from lowcode.workflow import apply_workflow

from crm_app.tests.helpers import as_user
from lowcode.tests.desk_helpers import commit, login
from service_app.merging import merge_case, split_case
from service_app.tests.helpers import make_agent, make_case, make_contact, make_customer, make_team


def activities(case):
    return {dt: lowcode.db.sql(f"SELECT COUNT(*) FROM `tab{dt}` WHERE `reference_doctype`='Case' "
                               f"AND `reference_name`=%s", (case,))[0][0] for dt in ("Note", "Task", "Comment")}


def test_merge_moves_everything_to_the_survivor_and_closes_the_duplicate(ctx, unique):
    agent = make_agent(unique)
    customer = make_customer().name
    survivor, duplicate = make_case(customer=customer), make_case(customer=customer)
    lowcode.get_doc({"doctype": "Note", "title": "Spoke to them", "reference_doctype": "Case",
                     "reference_name": duplicate.name, "customer": customer}).insert()
    lowcode.get_doc({"doctype": "Task", "subject": "Call back", "reference_doctype": "Case",
                     "reference_name": duplicate.name, "customer": customer}).insert()
    lowcode.get_doc({"doctype": "Comment", "comment_type": "Comment", "reference_doctype": "Case",
                     "reference_name": duplicate.name, "content": "Same router as the other case"}).insert()
    lowcode.get_doc({"doctype": "File", "file_name": "photo.png", "file_url": "https://example.com/photo.png",
                     "attached_to_doctype": "Case", "attached_to_name": duplicate.name}).insert()
    lowcode.get_doc({"doctype": "Case Time Log", "case": duplicate.name, "agent": agent,
                     "from_time": "2031-01-01 09:00:00", "to_time": "2031-01-01 10:00:00"}).insert()
    apply_workflow(lowcode.get_doc("Case", duplicate.name), "Start")  # its own history stays with it
    history = lowcode.get_all("Comment", filters={"reference_doctype": "Case", "reference_name": duplicate.name,
                                                  "comment_type": ["not in", ["Comment", "Attachment"]]}, pluck="name")
    assert history  # the workflow's line
    assert merge_case(duplicate.name, survivor.name) == {"name": survivor.name}
    moved = activities(survivor.name)
    assert (moved["Note"], moved["Task"]) == (1, 1)
    assert lowcode.get_all("Comment", filters={"reference_doctype": "Case", "reference_name": survivor.name,
                                               "comment_type": "Comment"}, pluck="content") == [
        "Same router as the other case"]
    assert set(history) <= set(lowcode.get_all("Comment", filters={"reference_doctype": "Case",
                                                                   "reference_name": duplicate.name}, pluck="name"))
    assert lowcode.db.sql("SELECT `attached_to_name` FROM `tabFile` WHERE `file_name`='photo.png' "
                          "AND `file_url`='https://example.com/photo.png'", pluck=True)[-1] == survivor.name
    assert lowcode.db.get_value("Case", survivor.name, "total_hours") == 1.0
    assert lowcode.db.get_value("Case", duplicate.name, "total_hours") == 0
    left = lowcode.get_doc("Case", duplicate.name)
    assert (left.status, left.merged_into) == ("Closed", survivor.name)
    assert activities(duplicate.name)["Note"] == 0
    with pytest.raises(lowcode.ValidationError) as err:
        merge_case(duplicate.name, survivor.name)  # already merged
    assert err.value.field == "case"
    with pytest.raises(lowcode.ValidationError) as err:
        merge_case(survivor.name, survivor.name)
    assert err.value.field == "into"
    elsewhere = make_case(customer=make_customer().name)
    with pytest.raises(lowcode.ValidationError) as err:  # another customer's case
        merge_case(elsewhere.name, survivor.name)
    assert err.value.field == "into"
    assert lowcode.get_doc("Case", elsewhere.name).merged_into is None


def test_split_copies_the_customer_contact_and_product(ctx, unique):
    customer = make_customer().name
    contact = make_contact(customer).name
    source = make_case(customer=customer, contact=contact, channel="E-mail", language="fa")
    new = lowcode.get_doc("Case", split_case(source.name, "Second problem: the invoice")["name"])
    assert (new.subject, new.split_from, new.customer, new.contact, new.channel, new.language) == (
        "Second problem: the invoice", source.name, customer, contact, "E-mail", "fa")
    assert new.status == "Open"
    with pytest.raises(lowcode.ValidationError) as err:
        split_case(source.name, "  ")
    assert err.value.field == "subject"


def test_an_agent_may_not_merge_or_split_another_teams_case(ctx, unique):
    alice, bob = make_agent(unique, "alice"), make_agent(unique, "bob")
    mine = make_case(service_team=make_team([alice]))
    theirs = make_case(service_team=make_team([bob]))
    lowcode.get_doc({"doctype": "Note", "title": "Theirs", "reference_doctype": "Case",
                     "reference_name": theirs.name}).insert()
    with as_user(alice):
        with pytest.raises(PermissionError):
            merge_case(theirs.name, mine.name)  # pulling their case into hers
        with pytest.raises(PermissionError):
            merge_case(mine.name, theirs.name)  # pushing hers into theirs
        with pytest.raises(PermissionError):
            split_case(theirs.name, "Mine now")
    assert lowcode.get_doc("Case", theirs.name).merged_into is None
    assert activities(theirs.name)["Note"] == 1


def test_over_http_merge_of_another_teams_case_is_403_and_writes_nothing(ctx, client, unique):
    alice, bob = make_agent(unique, "alice"), make_agent(unique, "bob")
    mine = make_case(service_team=make_team([alice])).name
    theirs = make_case(service_team=make_team([bob])).name
    lowcode.get_doc({"doctype": "Note", "title": "Theirs", "reference_doctype": "Case",
                     "reference_name": theirs}).insert()
    token = login(ctx, client, alice)
    r = client.post("/api/method/service_app.merging.merge_case", {"case": theirs, "into": mine},
                    HTTP_X_FRAPPE_CSRF_TOKEN=token)
    assert r.status_code == 403
    r = client.post(f"/app/case-merge/{mine}", {"into": theirs, "csrf_token": token})
    assert r.status_code == 403
    assert client.get(f"/app/case-split/{theirs}").status_code == 403
    r = client.post(f"/app/case-split/{theirs}", {"subject": "Mine now", "csrf_token": token})
    assert r.status_code == 403
    commit(ctx)
    assert lowcode.db.get_value("Case", theirs, "merged_into") is None
    assert lowcode.db.get_value("Case", theirs, "status") == "Open"
    assert activities(theirs)["Note"] == 1
    assert lowcode.db.sql("SELECT COUNT(*) FROM `tabCase` WHERE `split_from`=%s", (theirs,))[0][0] == 0
    # her own two cases: the page merges and goes to the survivor
    other = make_case(service_team=lowcode.db.get_value("Case", mine, "service_team")).name
    commit(ctx)
    r = client.post(f"/app/case-merge/{other}", {"into": mine, "csrf_token": token})
    assert r.status_code == 302 and r["Location"] == f"/app/case/{mine}"
    r = client.post(f"/app/case-merge/{mine}", {"into": "CASE-NOPE", "csrf_token": token})
    assert r.status_code == 404 and b"CASE-NOPE" in r.content
    commit(ctx)
    assert lowcode.db.get_value("Case", other, "merged_into") == mine
