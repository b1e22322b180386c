"""Campaigns on both engines, against real servers on loopback: segments resolved with
the scheduling user's permissions, consent honoured, throttled batches that never send
twice, the bytes that reach a real SMTP server (aiosmtpd: List-Unsubscribe headers,
unsubscribe and tracked links), SMS through the loopback gateway with its delivery
report, the signed unsubscribe / open / click links over HTTP, A/B winners and the
campaign's figures beside its ROI, all hand-checked."""
import datetime
import email
import email.policy
import json
import re
import urllib.parse

import pytest
from django.core import signing

import lowcode
from crm_app import campaigns
from crm_app.tests.helpers import (as_user, make_customer, make_lead, make_opportunity, make_segment, make_territory,
                                   make_user, tag, unique_mobile)
from lowcode.channels.email import flush
from lowcode.exceptions import ValidationError
from lowcode.tests.test_email_out import make_account, start_smtp
from lowcode.tests.test_sms import gateway, run_jobs  # noqa: F401 - the loopback gateway fixture

NOW = datetime.datetime(2030, 5, 1, 10, 0, 0)


@pytest.fixture
def smtp():
    inbox, controller = start_smtp()
    yield inbox, controller
    controller.stop()


def minutes(n):
    return NOW + datetime.timedelta(minutes=n)


def make_campaign():
    return lowcode.get_doc({"doctype": "Campaign", "campaign_name": f"Spring {tag()}"}).insert().name


def make_message(campaign, segment, **values):
    data = {"doctype": "Campaign Message", "campaign": campaign, "segment": segment, "channel": "Email",
            "subject": "Hello {{ doc.first_name }}", "throttle_per_minute": 0, "ab_test_percent": 0,
            "message": '<p>Dear {{ doc.first_name }}, see <a href="https://shop.example.com/p?a=1&b=2">offers</a></p>'}
    data.update(values)
    doc = lowcode.get_doc(data).insert()
    campaigns.schedule_message(doc.name)
    return doc.name


def members(message):
    return lowcode.get_list("Campaign Member", fields=["*"], filters={"campaign_message": message},
                            order_by="creation asc", limit_page_length=0)


def by_status(message):
    out = {}
    for m in members(message):
        out.setdefault(m["status"], []).append(m)
    return out


def leads_in(territory, n, **values):
    return [make_lead(f"Lead{i}", territory=territory, consent_email=1, **values) for i in range(n)]


def path_of(url):
    return urllib.parse.urlparse(url).path


def test_segment_members_depend_on_who_sends(ctx, unique):
    manager = make_user(unique, "manager", roles=("Sales Manager",))
    marketer = make_user(unique, "marketer", roles=("Marketing User",))
    territory = make_territory(f"North {unique}", manager=manager)
    own = make_lead("Own", territory=territory, lead_owner=marketer, consent_email=1)
    other = make_lead("Other", territory=territory, consent_email=1)
    make_lead("Elsewhere", territory=make_territory(f"South {unique}"), consent_email=1)
    segment = make_segment(filters=[["Lead", "territory", "=", territory]])
    assert segment.total_subscribers == 2  # previewed for Administrator when saved
    names = lambda user: sorted(r["name"] for r in campaigns.matching_records(segment, user=user))  # noqa: E731
    assert names(manager) == sorted([own.name, other.name])   # the territory they manage
    assert names(marketer) == [own.name]                      # only their own leads
    with as_user(marketer):
        assert campaigns.preview_count(segment.name) == 1
    # Sending resolves the members as the user who scheduled, once.
    campaign = make_campaign()
    with as_user(marketer):
        message = make_message(campaign, segment.name, channel="SMS", subject=None, message="hi")
    campaigns.start(message)
    assert [m["member_name"] for m in members(message)] == [own.name]
    campaigns.start(message)  # already started: nothing added
    assert len(members(message)) == 1


def test_bad_segment_and_message_input(ctx):
    with pytest.raises(ValidationError) as e:
        make_segment(filters=[["Lead", "no_such_field", "=", 1]])
    assert "no_such_field" in str(e.value)
    segment = make_segment()
    campaign = make_campaign()
    with pytest.raises(ValidationError) as e:
        make_message(campaign, segment.name, message="{% if %}")
    assert e.value.field == "message"
    # What only the buttons and the job write is never taken from the client.
    doc = lowcode.get_doc({"doctype": "Campaign Message", "campaign": campaign, "segment": segment.name,
                           "channel": "SMS", "message": "hi", "status": "Sending", "scheduled_by": "Administrator",
                           "sent": 99}).insert()
    assert (doc.status, doc.scheduled_by, doc.sent) == ("Draft", None, None)
    campaigns.schedule_message(doc.name)
    with pytest.raises(ValidationError) as e:
        campaigns.schedule_message(doc.name)
    assert e.value.field == "status"
    doc = lowcode.get_doc("Campaign Message", doc.name)
    doc.message = "changed"
    with pytest.raises(ValidationError) as e:
        doc.save()
    assert e.value.field == "message"


def test_email_batches_consent_and_the_bytes_that_arrive(ctx, unique, smtp):
    inbox, controller = smtp
    account = make_account(ctx, unique, controller.port)
    territory = make_territory(f"Mail {unique}")
    sendable = leads_in(territory, 4)
    refused = make_lead("Refused", territory=territory, consent_email=0)
    gone = make_lead("Gone", territory=territory, consent_email=1)
    lowcode.get_doc({"doctype": "Email Unsubscribe", "email": gone.email_id, "global_unsubscribe": 1}).insert()
    # A Contact who unsubscribed wins over a Lead's consent for the same address.
    shared = make_lead("Shared", territory=territory, consent_email=1)
    lowcode.get_doc({"doctype": "Contact", "first_name": "Shared", "email_id": shared.email_id,
                     "consent_email": 1, "unsubscribed": 1}).insert()
    segment = make_segment(filters=[["Lead", "territory", "=", territory]])
    message = make_message(make_campaign(), segment.name, email_account=account.name, throttle_per_minute=3)

    campaigns.run(NOW)
    states = by_status(message)
    assert len(states["Sent"]) == 3 and len(states["Queued"]) == 1
    assert sorted(m["member_name"] for m in states["Skipped"]) == sorted([refused.name, gone.name, shared.name])
    assert {m["error"] for m in states["Skipped"]} == {"opted out"}
    campaigns.run(NOW)                      # same minute: the throttle holds, nothing twice
    campaigns.run(minutes(0.5))
    assert len(by_status(message)["Sent"]) == 3
    campaigns.run(minutes(1.1))
    assert len(by_status(message)["Sent"]) == 4 and "Queued" not in by_status(message)
    campaigns.run(minutes(3))
    assert lowcode.db.get_value("Campaign Message", message, "status") == "Sent"
    queues = [m["email_queue"] for m in by_status(message)["Sent"]]
    assert len(set(queues)) == 4 and all(queues)
    assert lowcode.db.sql("SELECT COUNT(*) FROM `tabEmail Queue` WHERE `name` IN (%s, %s, %s, %s)", queues)[0][0] == 4

    ctx.db.commit()
    flush()
    ctx.db.commit()
    assert len(inbox.messages) == 4
    assert sorted(rcpt for _, rcpts, _ in inbox.messages for rcpt in rcpts) == sorted(l.email_id for l in sendable)
    raw = inbox.messages[0][2]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    member = next(m for m in members(message) if m["email"] == inbox.messages[0][1][0])
    lead = lowcode.get_doc("Lead", member["member_name"])
    assert msg["Subject"] == f"Hello {lead.first_name}"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = re.fullmatch(r"<(https://[^>]+)>", msg["List-Unsubscribe"])
    assert header and f"https://{ctx.site}/campaign/unsubscribe/" in header.group(1)
    html = msg.get_body(("html",)).get_content()
    assert f"Dear {lead.first_name}" in html
    assert f'href="{header.group(1)}"' in html.replace("&amp;", "&")        # the same link in the body
    assert "https://shop.example.com" not in html                         # links go through the click page
    assert f"https://{ctx.site}/campaign/click/" in html and f"https://{ctx.site}/campaign/open/" in html

    campaigns.run(minutes(4))                 # the server took them: delivered
    doc = lowcode.get_doc("Campaign Message", message)
    assert (doc.total_members, doc.sent, doc.delivered, doc.opened) == (7, 4, 4, 0)


def _sent_member(ctx, unique, smtp, **lead_values):
    inbox, controller = smtp
    account = make_account(ctx, unique, controller.port)
    territory = make_territory(f"Links {unique}")
    lead = make_lead("Link", territory=territory, consent_email=1, **lead_values)
    message = make_message(make_campaign(), make_segment(filters=[["Lead", "territory", "=", territory]]).name,
                           email_account=account.name)
    campaigns.run(NOW)
    ctx.db.commit()
    flush()
    ctx.db.commit()
    msg = email.message_from_bytes(inbox.messages[-1][2], policy=email.policy.default)
    html = msg.get_body(("html",)).get_content().replace("&amp;", "&")
    [member] = members(message)
    return lead, member, msg, html


def _member(name):
    return lowcode.get_doc("Campaign Member", name)


def test_unsubscribe_get_never_writes_post_does(ctx, unique, smtp, client):
    lead, member, msg, html = _sent_member(ctx, unique, smtp)
    url = path_of(msg["List-Unsubscribe"].strip("<>"))
    page = client.get(url)
    assert page.status_code == 200 and b'method="post"' in page.content and lead.email_id.encode() in page.content
    ctx.db.rollback()
    assert _member(member["name"]).unsubscribed_on is None
    assert not ctx.db.sql("SELECT 1 FROM `tabEmail Unsubscribe` WHERE `email`=%s", (lead.email_id,))
    # Altered and forged tokens: 404, nothing written.
    token = url.rsplit("/", 1)[1]
    altered = url[:-1] + ("A" if url[-1] != "A" else "B")
    forged = "/campaign/unsubscribe/" + signing.dumps({"m": member["name"], "k": "unsubscribe"}, key="guess",
                                                      salt=campaigns.SALT, compress=False)
    other_kind = "/campaign/unsubscribe/" + campaigns.sign({"m": member["name"], "k": "open"})
    ctx.db.commit()
    for bad in (altered, forged, other_kind, "/campaign/unsubscribe/", "/campaign/nothing/" + token):
        assert client.post(bad, "List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded").status_code == 404, bad
    ctx.db.rollback()
    assert _member(member["name"]).unsubscribed_on is None
    # RFC 8058 one-click: a POST without cookies or form token.
    done = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200
    ctx.db.rollback()
    assert _member(member["name"]).unsubscribed_on is not None
    rows = ctx.db.sql("SELECT `global_unsubscribe`, `reference_doctype` FROM `tabEmail Unsubscribe` "
                      "WHERE `email`=%s", (lead.email_id,))
    assert [tuple(r) for r in rows] == [(1, "Campaign")]
    assert lowcode.get_doc("Lead", lead.name).consent_email == 0
    assert client.post(url).status_code == 200  # twice: still one record
    ctx.db.rollback()
    assert ctx.db.sql("SELECT COUNT(*) FROM `tabEmail Unsubscribe` WHERE `email`=%s", (lead.email_id,))[0][0] == 1
    # The next campaign skips the address.
    assert lead.email_id.lower() in campaigns.refused_emails([lead.email_id])


def test_open_pixel_and_click_redirect(ctx, unique, smtp, client):
    lead, member, msg, html = _sent_member(ctx, unique, smtp)
    opened = path_of(re.search(r'src="([^"]*/campaign/open/[^"]+)"', html).group(1))
    clicked = path_of(re.search(r'href="([^"]*/campaign/click/[^"]+)"', html).group(1))
    first = client.get(opened)
    assert first.status_code == 200 and first["Content-Type"] == "image/gif"
    ctx.db.rollback()
    stamp = _member(member["name"]).opened_on
    assert stamp is not None and _member(member["name"]).open_count == 1
    client.get(opened)
    ctx.db.rollback()
    assert _member(member["name"]).open_count == 2 and str(_member(member["name"]).opened_on) == str(stamp)
    # The click goes where the token says, whatever the request adds.
    jump = client.get(clicked + "?u=https://evil.example.net/")
    assert jump.status_code == 302 and jump["Location"] == "https://shop.example.com/p?a=1&b=2"
    ctx.db.rollback()
    assert _member(member["name"]).clicked_on is not None and _member(member["name"]).click_count == 1
    # An unsigned or re-signed target is refused and counts nothing.
    raw = "/campaign/click/" + signing.dumps({"m": member["name"], "k": "click", "u": "https://evil.example.net/"},
                                             key="not-the-site-key", salt=campaigns.SALT, compress=False)
    token = clicked.rsplit("/", 1)[1]
    payload = token.split(":")[0]
    tampered = "/campaign/click/" + signing.b64_encode(json.dumps(
        {"m": member["name"], "k": "click", "u": "https://evil.example.net/"}, separators=(",", ":")).encode()
    ).decode() + token[len(payload):]
    for bad in (raw, tampered, "/campaign/click/https://evil.example.net/", opened.replace("/open/", "/click/")):
        answer = client.get(bad)
        assert answer.status_code == 404 and "evil" not in answer.get("Location", ""), bad
    ctx.db.rollback()
    assert _member(member["name"]).click_count == 1


def test_sms_campaign_through_the_loopback_gateway(ctx, gateway, client):  # noqa: F811
    territory = make_territory(f"SMS {tag()}")
    yes = [make_lead(f"Sms{i}", territory=territory, mobile_no=unique_mobile(), consent_sms=1) for i in range(2)]
    no = make_lead("NoSms", territory=territory, mobile_no=unique_mobile(), consent_sms=0)
    make_lead("NoNumber", territory=territory, consent_sms=1)
    message = make_message(make_campaign(), make_segment(filters=[["Lead", "territory", "=", territory]]).name,
                           channel="SMS", subject=None, message="سلام {{ doc.first_name }}")
    campaigns.run(NOW)
    states = by_status(message)
    assert len(states["Sent"]) == 2 and all(m["sms_log"] for m in states["Sent"])
    assert sorted(m["error"] for m in states["Skipped"]) == ["no valid mobile number", "opted out"]
    assert no.name in [m["member_name"] for m in states["Skipped"]]
    run_jobs(ctx)
    texts = sorted(r["form"]["message"] for r in gateway.requests)
    assert texts == sorted(f"سلام {lead.first_name}" for lead in yes)
    campaigns.run(minutes(1))
    assert len(gateway.requests) == 2  # nothing sent twice
    member = states["Sent"][0]
    message_id = lowcode.db.get_value("SMS Log", member["sms_log"], "gateway_message_id")
    token = lowcode.get_doc("SMS Settings").delivery_report_token
    ctx.db.commit()
    report = client.post(f"/api/method/lowcode.channels.sms.delivery_report?token={token}",
                         {"messageid": message_id, "status": "10"})
    assert report.status_code == 200
    ctx.db.rollback()
    campaigns.run(minutes(2))
    assert _member(member["name"]).delivered_on is not None
    assert _member(states["Sent"][1]["name"]).delivered_on is None
    assert lowcode.db.get_value("Campaign Message", message, "delivered") == 1


def test_ab_subjects_and_the_winner_by_open_rate(ctx, unique):
    account = make_account(ctx, unique, 9)  # never flushed: the queue is what is checked
    territory = make_territory(f"AB {unique}")
    leads_in(territory, 10)
    message = make_message(make_campaign(), make_segment(filters=[["Lead", "territory", "=", territory]]).name,
                           email_account=account.name, subject="A line", subject_b="B line", ab_test_percent=40,
                           ab_wait_hours=1)
    campaigns.run(NOW)
    states = by_status(message)
    test_group = states["Sent"]
    assert sorted(m["variant"] for m in test_group) == ["A", "A", "B", "B"] and len(states["Held"]) == 6
    subjects = {m["variant"]: lowcode.db.get_value("Email Queue", m["email_queue"], "subject") for m in test_group}
    assert subjects == {"A": "A line", "B": "B line"}
    # One of two B's opened, no A: B has 50 %, A 0 %.
    campaigns.record_open(next(m["name"] for m in test_group if m["variant"] == "B"))
    campaigns.run(minutes(30))
    doc = lowcode.get_doc("Campaign Message", message)
    assert (doc.status, doc.winner, doc.open_rate_a, doc.open_rate_b) == ("Testing", None, 0.0, 50.0)
    campaigns.run(minutes(61))           # the wait is over: B wins, the rest is queued with it
    campaigns.run(minutes(62))
    doc = lowcode.get_doc("Campaign Message", message)
    assert (doc.status, doc.winner) == ("Sent", "B")
    rest = [m for m in by_status(message)["Sent"] if m["name"] not in {t["name"] for t in test_group}]
    assert len(rest) == 6 and {m["variant"] for m in rest} == {"B"}
    assert {lowcode.db.get_value("Email Queue", m["email_queue"], "subject") for m in rest} == {"B line"}


def test_ab_tie_goes_to_a(ctx, unique):
    account = make_account(ctx, unique, 9)
    territory = make_territory(f"Tie {unique}")
    leads_in(territory, 4)
    message = make_message(make_campaign(), make_segment(filters=[["Lead", "territory", "=", territory]]).name,
                           email_account=account.name, subject="A", subject_b="B", ab_test_percent=50,
                           ab_wait_hours=0)
    campaigns.run(NOW)
    campaigns.run(minutes(1))
    assert lowcode.db.get_value("Campaign Message", message, "winner") == "A"


def test_reply_marks_the_member(ctx, unique):
    account = make_account(ctx, unique, 9)
    territory = make_territory(f"Reply {unique}")
    leads_in(territory, 2)
    message = make_message(make_campaign(), make_segment(filters=[["Lead", "territory", "=", territory]]).name,
                           email_account=account.name)
    campaigns.run(NOW)
    first, second = by_status(message)["Sent"]
    # Received mail answering the first message (by Message-ID, as e-mail in records it).
    # Through the doc_events hook, as e-mail in will insert it (in_reply_to is kept on the
    # document whether or not the Communication DocType has the field yet).
    lowcode.get_doc({"doctype": "Communication", "communication_medium": "Email", "sent_or_received": "Received",
                     "subject": "Re: Hello", "sender": first["email"], "in_reply_to": first["message_id"]}).insert()
    # By the name of the sent Communication, as Frappe's in_reply_to holds it.
    comm = lowcode.db.get_value("Email Queue", second["email_queue"], "communication")
    answer = lowcode.get_doc({"doctype": "Communication", "sent_or_received": "Received", "subject": "Re"})
    answer.in_reply_to = comm
    campaigns.record_reply(answer)
    sent_copy = lowcode.get_doc({"doctype": "Communication", "sent_or_received": "Sent", "subject": "x"})
    sent_copy.in_reply_to = first["message_id"]
    campaigns.record_reply(sent_copy)  # our own sent mail is no reply
    assert _member(first["name"]).replied_on is not None and _member(second["name"]).replied_on is not None
    campaigns.run(minutes(1))
    assert lowcode.db.get_value("Campaign Message", message, "replied") == 2


def test_campaign_figures_beside_its_roi(ctx, unique):
    account = make_account(ctx, unique, 9)
    territory = make_territory(f"ROI {unique}")
    campaign = make_campaign()
    leads = leads_in(territory, 3, campaign=campaign)
    customer = make_customer()
    opportunity = make_opportunity(customer.name, amount=5000, campaign=campaign)
    message = make_message(campaign, make_segment(filters=[["Lead", "territory", "=", territory]]).name,
                           email_account=account.name)
    campaigns.run(NOW)
    sent = by_status(message)["Sent"]
    campaigns.record_open(sent[0]["name"])
    campaigns.record_click(sent[1]["name"])        # a click counts as an open too
    campaigns.unsubscribe(sent[2]["name"])
    campaigns.run(minutes(1))
    results = campaigns.campaign_results(campaign)
    assert results["reach"] == {"sent": 3, "delivered": 0, "opened": 2, "clicked": 1, "unsubscribed": 1,
                                "replied": 0, "bounced": 0}
    assert results["roi"]["leads"] == 3 and results["roi"]["opportunities"] == 1 and results["roi"]["won"] == 0
    doc = lowcode.get_doc("Campaign", campaign)
    assert (doc.messages_sent, doc.messages_opened, doc.messages_clicked, doc.messages_unsubscribed) == (3, 2, 1, 1)
    assert lowcode.get_doc("Lead", leads[0].name).campaign == campaign and opportunity.campaign == campaign
    # A permanent bounce recorded by the engine's bounce handler marks the member and refuses
    # the address for the next send; a temporary one does neither.
    from lowcode.channels import bounces
    bounces.record(sent[1]["email"], "4.2.2", "mailbox full")
    assert _member(sent[1]["name"]).bounced_on is None
    bounces.record(sent[0]["email"], "5.1.1", "no such user")
    assert _member(sent[0]["name"]).bounced_on is not None
    assert campaigns.refused_emails([sent[0]["email"], sent[1]["email"]]) == {sent[0]["email"].lower()}
    assert campaigns.campaign_results(campaign)["reach"]["bounced"] == 1


def test_sendmail_extra_headers_are_checked(ctx, unique):
    from lowcode.channels.email import sendmail
    account = make_account(ctx, unique, 9)
    for headers in ({"List-Unsubscribe": "<https://x>\r\nBcc: a@example.com"}, {"Subject": "other"},
                    {"Bad Name": "x"}):
        with pytest.raises(ValidationError) as e:
            sendmail("a@example.com", subject="s", message="m", email_account=account.name, headers=headers)
        assert e.value.field == "headers"
    queue = sendmail("a@example.com", subject="s", message="m", email_account=account.name,
                     headers={"List-Id": "<news.example.com>"})
    assert "\nList-Id: <news.example.com>" in queue.message.replace("\r\n", "\n")


def test_a_member_the_sender_may_no_longer_read_is_not_sent(ctx, unique):
    account = make_account(ctx, unique, 9)
    marketer = make_user(unique, "lost", roles=("Marketing User",))
    territory = make_territory(f"Lost {unique}")
    kept, lost = [make_lead(n, territory=territory, lead_owner=marketer, consent_email=1) for n in ("Kept", "Lost")]
    with as_user(marketer):
        message = make_message(make_campaign(), make_segment(filters=[["Lead", "territory", "=", territory]]).name,
                               email_account=account.name)
    campaigns.start(message)
    lowcode.db.sql("UPDATE `tabLead` SET `lead_owner`=NULL WHERE `name`=%s", (lost.name,))
    campaigns.run(NOW)
    states = {m["member_name"]: m for m in members(message)}
    assert states[kept.name]["status"] == "Sent" and states[kept.name]["email_queue"]
    assert states[lost.name]["status"] == "Failed" and not states[lost.name]["email_queue"]
    assert not lowcode.db.sql("SELECT 1 FROM `tabCommunication` WHERE `reference_name`=%s", (lost.name,))
    assert lowcode.db.get_value("Campaign Message", message, "status") == "Sent"


def test_members_are_listed_to_whoever_scheduled_them(ctx, unique):
    mine, theirs = (make_user(unique, n, roles=("Marketing User",)) for n in ("mine", "theirs"))
    territory = make_territory(f"Rows {unique}")
    make_lead("Row", territory=territory, lead_owner=mine, consent_email=1)
    with as_user(mine):
        message = make_message(make_campaign(), make_segment(filters=[["Lead", "territory", "=", territory]]).name,
                               channel="SMS", subject=None, message="hi")
    campaigns.start(message)
    [member] = members(message)
    with as_user(mine):
        assert [r["name"] for r in members(message)] == [member["name"]]
        assert lowcode.has_permission("Campaign Member", "read", doc=_member(member["name"]))
    with as_user(theirs):
        assert members(message) == []
        assert not lowcode.has_permission("Campaign Member", "read", doc=_member(member["name"]))


def test_desk_forms_and_the_schedule_button(ctx, unique, client):
    from lowcode.tests.desk_helpers import login
    marketer = make_user(unique, "desk", roles=("Marketing User",))
    segment = make_segment(filters=[["Lead", "territory", "=", "nowhere"]])
    with as_user(marketer):
        message = lowcode.get_doc({"doctype": "Campaign Message", "campaign": make_campaign(), "segment": segment.name,
                                   "channel": "SMS", "message": "hi"}).insert().name
    csrf = login(ctx, client, marketer)
    for url in ("/app/segment/new", f"/app/segment/{segment.name}", "/app/campaign-message/new",
                f"/app/campaign-message/{message}", "/app/campaign-member", "/app/campaign/new"):
        page = client.get(url)
        assert page.status_code == 200, (url, page.content[:300])
    form = client.get(f"/app/campaign-message/{message}").content.decode()
    assert "Schedule" in form and "Cancel sending" not in form
    answer = client.post("/api/method/crm_app.campaigns.schedule_message", {"message": message},
                         HTTP_X_FRAPPE_CSRF_TOKEN=csrf)
    assert answer.status_code == 200, answer.content[:300]
    ctx.db.rollback()
    doc = lowcode.get_doc("Campaign Message", message)
    assert (doc.status, doc.scheduled_by) == ("Scheduled", marketer)
    # A Sales User may read segments but not send.
    rep = make_user(unique, "rep")
    ctx.db.commit()
    with as_user(rep), pytest.raises(lowcode.PermissionError):
        campaigns.schedule_message(message)


def test_a_broken_message_does_not_stop_the_others(ctx, unique):
    territory = make_territory(f"Iso {unique}")
    make_lead("Iso", territory=territory, mobile_no=unique_mobile(), consent_sms=1)
    broken_segment = make_segment(filters=[["Lead", "territory", "=", territory]])
    broken = make_message(make_campaign(), broken_segment.name, channel="SMS", subject=None, message="hi")
    good = make_message(make_campaign(), make_segment(filters=[["Lead", "territory", "=", territory]]).name,
                        channel="SMS", subject=None, message="hi")
    # A field the segment filtered on has gone since it was saved.
    lowcode.db.sql("UPDATE `tabSegment` SET `filters_json`=%s WHERE `name`=%s",
                   ('[["Lead", "gone_field", "=", 1]]', broken_segment.name))
    campaigns.run(NOW)
    assert lowcode.db.get_value("Campaign Message", broken, "status") == "Scheduled" and members(broken) == []
    assert [m["status"] for m in members(good)] == ["Sent"]


def test_cancel_stops_the_rest(ctx, unique):
    territory = make_territory(f"Stop {unique}")
    for i in range(3):
        make_lead(f"Stop{i}", territory=territory, mobile_no=unique_mobile(), consent_sms=1)
    message = make_message(make_campaign(), make_segment(filters=[["Lead", "territory", "=", territory]]).name,
                           channel="SMS", subject=None, message="hi", throttle_per_minute=1)
    campaigns.run(NOW)
    assert [m["status"] for m in members(message)].count("Sent") == 1
    assert campaigns.cancel_message(message) == {"status": "Cancelled"}
    campaigns.run(minutes(5))
    assert [m["status"] for m in members(message)].count("Sent") == 1
    with pytest.raises(ValidationError):
        campaigns.cancel_message(message)


def test_the_job_runs_as_the_scheduler_calls_it_outside_a_transaction(ctx):
    """The scheduler's job starts with no transaction open (as after a commit)."""
    message = make_message(make_campaign(), make_segment(filters=[["Lead", "name", "=", "nobody"]]).name,
                           channel="SMS", subject=None, message="hi")
    ctx.db.commit()
    campaigns.run(NOW)
    ctx.db.commit()
    assert lowcode.db.get_value("Campaign Message", message, "status") == "Sent"
    assert lowcode.db.get_value("Campaign Message", message, "total_members") == 0
