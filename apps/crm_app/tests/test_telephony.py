"""Telephony against a real AMI server on loopback: a small asyncio TCP server in this
file speaks Asterisk's Manager protocol (banner, Login/Ping/Originate responses, call
events) and the real panoramisk listener (``crm_app.telephony.ami.listen``) connects to
it. Screen pops are caught with ``lowcode.realtime.add_listener``; the webhook is
called over HTTP through the Django test client."""
import asyncio
import contextlib
import json
import random
import time

import pytest

import lowcode
from lowcode.channels.stored_secrets import MASK
from lowcode.realtime import add_listener, remove_listener

from crm_app.telephony import ami, numbers
from crm_app.tests.ami_server import SECRET, WAIT, AMIServer, incoming_call, outgoing_call
from crm_app.tests.helpers import as_user, make_user

TOKEN = "hook-" + "9" * 20


def mobile():
    return "0912" + str(random.randint(1000000, 9999999))


def e164(number):
    return "+98" + number[1:]


def configure(ctx, port=1, enabled=1, agents=(), **values):
    settings = lowcode.get_doc("Telephony Settings")
    settings.update(dict({"ami_enabled": enabled, "ami_host": "127.0.0.1", "ami_port": port,
                          "ami_username": "crm", "ami_secret": SECRET, "webhook_token": TOKEN,
                          "default_region": "IR", "recording_url_pattern": "https://pbx.example.com/rec/{filename}"},
                         **values))
    settings.set("agents", [{"user": user, "extension": ext} for user, ext in agents])
    settings.save()
    ctx.db.commit()
    return settings


@pytest.fixture
def pops():
    """Screen pops published in this process."""
    caught = []

    def listener(payload):
        if payload["event"] == "screen_pop":
            caught.append(payload)
    add_listener(listener)
    yield caught
    remove_listener(listener)


@pytest.fixture
def agent(ctx, unique):
    user = make_user(unique, "agent", roles=("Sales User",))
    ctx.db.commit()
    return user


def log_for(ctx, call_id):
    ctx.db.rollback()  # a fresh snapshot: the listener writes on its own connection
    names = ctx.db.sql("SELECT `name` FROM `tabCall Log` WHERE `call_id`=%s", (call_id,), pluck=True)
    return lowcode.get_doc("Call Log", names[0]) if names else None


def status(ctx):
    ctx.db.rollback()
    return ctx.db.sql("SELECT `ami_status`, `ami_last_error` FROM `tabTelephony Settings`")[0]


async def until(condition, what):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what} (AMI status now: {status_now()})")


def status_now():
    try:
        return lowcode.local.db.sql("SELECT `ami_status`, `ami_last_error` FROM `tabTelephony Settings`")
    except Exception as e:
        return repr(e)


@contextlib.asynccontextmanager
async def listening(ctx, bench):
    task = asyncio.create_task(ami.listen(ctx.site, bench))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await asyncio.wait_for(asyncio.shield(task), WAIT)
            except asyncio.TimeoutError:
                import faulthandler
                import sys
                task.print_stack(file=sys.stderr)
                faulthandler.dump_traceback(sys.stderr)
                raise


def run(coro):
    asyncio.run(asyncio.wait_for(coro, 60))


# -- numbers --------------------------------------------------------------------------------------

def test_caller_ids_are_normalised_to_e164():
    for raw in ("09121234567", "9121234567", "989121234567", "00989121234567", "+98 912 123 4567",
                "۰۹۱۲۱۲۳۴۵۶۷"):
        assert numbers.normalise(raw, "IR") == "+989121234567", raw
    assert numbers.normalise("050-234-5678", "IL") == "+972502345678"
    assert numbers.normalise("+972502345678", "IR") == "+972502345678"
    assert numbers.normalise("101", "IR") is None and numbers.normalise("anonymous", "IR") is None
    assert numbers.display("+989121234567", "IR") == "0912 123 4567"
    assert numbers.display("+972502345678", "IR").startswith("+972")


def test_a_number_stored_as_0912_matches_the_caller_98912(ctx):
    number = mobile()
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Nima", "mobile_no": number}).insert()
    customer = lowcode.get_doc({"doctype": "Customer", "customer_name": f"Caller {number}",
                                "mobile_no": "+98 " + number[1:]}).insert()
    lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Lia", "phone": number}).insert()
    found = numbers.find_records(numbers.normalise("98" + number[1:], "IR"))
    assert {(m["doctype"], m["name"]) for m in found} == {("Contact", contact.name), ("Customer", customer.name),
                                                          ("Lead", lead.name)}
    assert found[0]["doctype"] == "Contact" and found[0]["url"] == f"/app/contact/{contact.name}"
    # Records from before the normalised columns get them from the patch.
    ctx.db.sql("UPDATE `tabContact` SET `mobile_e164`=NULL WHERE `name`=%s", (contact.name,))
    ctx.db.sql("UPDATE `tabLead` SET `phone_e164`=NULL WHERE `name`=%s", (lead.name,))
    assert {m["doctype"] for m in numbers.find_records(e164(number))} == {"Customer"}
    from crm_app.patches import fill_phone_numbers
    fill_phone_numbers()
    assert {m["doctype"] for m in numbers.find_records(e164(number))} == {"Contact", "Customer", "Lead"}
    ctx.db.rollback()


# -- settings -------------------------------------------------------------------------------------

def test_secrets_are_kept_apart_and_never_returned(ctx, client):
    configure(ctx)
    settings = lowcode.get_doc("Telephony Settings")
    assert settings.ami_secret == MASK and settings.webhook_token == MASK
    from crm_app.doctype.telephony_settings.telephony_settings import secret
    assert secret("ami_secret") == SECRET and secret("webhook_token") == TOKEN
    client.post("/api/method/login", {"usr": "Administrator", "pwd": "admin"})
    body = client.get("/api/resource/Telephony Settings/Telephony Settings").content.decode()
    assert SECRET not in body and TOKEN not in body and MASK in body
    # The listener's status is its own: an admin's save (or an API client) cannot change it.
    ctx.db.sql("UPDATE `tabTelephony Settings` SET `ami_status`='Connected'")
    settings = lowcode.get_doc("Telephony Settings")
    settings.ami_status = "Hacked"
    settings.save()
    ctx.db.commit()
    assert status(ctx)[0] == "Connected"
    settings.default_region = "XX"
    with pytest.raises(lowcode.exceptions.ValidationError) as e:
        settings.save()
    assert e.value.field == "default_region"
    ctx.db.rollback()


def test_the_settings_form_masks_secrets_and_call_needs_ami(ctx, client):
    from lowcode.tests.desk_helpers import login
    configure(ctx, enabled=0)
    lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Tara", "mobile_no": mobile()}).insert()
    login(ctx, client, "Administrator")
    form = client.get("/app/telephony-settings", follow=True)
    page = form.content.decode()
    assert form.status_code == 200 and SECRET not in page and TOKEN not in page and "AMI Last Error" in page
    assert "/app/call/" not in client.get(f"/app/lead/{lead.name}").content.decode()  # AMI off: no Call button
    configure(ctx, enabled=1)
    assert f"/app/call/{lead.name}?doctype=Lead" in client.get(f"/app/lead/{lead.name}").content.decode()


# -- the AMI listener -------------------------------------------------------------------------------

def test_an_ami_call_pops_up_and_is_logged_from_ringing_to_hang_up(ctx, bench, agent, pops):
    server = AMIServer()
    number = mobile()
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Roya", "mobile_no": number}).insert()
    configure(ctx, port=server.port, agents=[(agent, "101")])
    call_id = f"{random.randint(10 ** 9, 10 ** 10)}.{random.randint(1, 999)}"
    events = incoming_call(call_id, "98" + number[1:])  # the trunk sends 98912... without a plus

    async def scenario():
        async with listening(ctx, bench):
            await until(lambda: server.logins == 1, "the AMI login")
            await until(lambda: status(ctx)[0] == "Connected", "the Connected status")
            server.events(*events["new"], *events["ring"])
            await until(lambda: pops, "the screen pop")
            log = log_for(ctx, call_id)
            assert (log.status, log.direction, log.get("from"), log.to) == ("Ringing", "Incoming", e164(number),
                                                                           "02188001234")
            assert (log.reference_doctype, log.reference_name, log.call_received_by) == ("Contact", contact.name, agent)
            server.events(*events["answer"])
            await until(lambda: log_for(ctx, call_id).status == "In Progress", "the answer")
            await asyncio.sleep(1.1)  # some talk time
            server.events(*events["record"], *events["hangup"])
            await until(lambda: log_for(ctx, call_id).status == "Completed", "the hang-up")
    try:
        run(scenario())
    finally:
        server.close()
    [pop] = pops  # DialBegin and Newstate of the same phone: one pop
    assert pop["room"] == f"user:{agent}" and pop["site"] == ctx.site
    message = pop["message"]
    assert (message["call_id"], message["number"], message["status"], message["agent"]) == \
        (call_id, e164(number), "Ringing", agent)
    assert message["display_number"].replace(" ", "") == number
    assert message["matches"] == [{"doctype": "Contact", "name": contact.name, "title": "Roya",
                                   "url": f"/app/contact/{contact.name}"}]
    log = log_for(ctx, call_id)
    assert message["call_log_url"] == f"/app/call-log/{log.name}"
    assert log.duration >= 1 and log.outcome == "Connected" and log.ended_at and log.answered_at
    assert log.recording_url == f"https://pbx.example.com/rec/in-{call_id}.wav"
    assert server.actions[0]["Action"] == "Login" and server.actions[0]["Secret"] == SECRET


def test_a_call_nobody_answers_is_missed(ctx, bench, agent, pops):
    server = AMIServer()
    configure(ctx, port=server.port, agents=[(agent, "102")])
    call_id = f"{random.randint(10 ** 9, 10 ** 10)}.7"
    events = incoming_call(call_id, mobile(), extension="102")
    events["hangup"][-1]["Cause"] = "17"

    async def scenario():
        async with listening(ctx, bench):
            await until(lambda: server.logins == 1, "the AMI login")
            server.events(*events["new"], *events["ring"], *events["hangup"])
            await until(lambda: (log_for(ctx, call_id) or {}).get("status") == "Missed", "the missed call")
    try:
        run(scenario())
    finally:
        server.close()
    log = log_for(ctx, call_id)
    assert (log.duration, log.outcome, log.recording_url) == (0, "Busy", None)
    [pop] = pops
    assert pop["message"]["matches"] == []  # an unknown number: a new lead, prefilled
    assert pop["message"]["new_lead_url"] == "/app/lead/new?mobile_no=" + log.get("from").replace("+", "%2B")


def test_an_agents_own_call_out_is_logged_as_outgoing_without_a_pop(ctx, bench, agent, pops):
    server = AMIServer()
    number = mobile()
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Kian", "mobile_no": number}).insert()
    configure(ctx, port=server.port, agents=[(agent, "109")])
    call_id = f"{random.randint(10 ** 9, 10 ** 10)}.9"
    events = outgoing_call(call_id, "109", number)

    async def scenario():
        async with listening(ctx, bench):
            await until(lambda: server.logins == 1, "the AMI login")
            server.events(*events["new"], *events["ring"], *events["hangup"])
            await until(lambda: (log_for(ctx, call_id) or {}).get("status") == "No Answer", "the unanswered call")
    try:
        run(scenario())
    finally:
        server.close()
    log = log_for(ctx, call_id)
    assert (log.direction, log.get("from"), log.to, log.phone) == ("Outgoing", "109", e164(number), e164(number))
    assert (log.reference_doctype, log.reference_name, log.call_received_by) == ("Contact", contact.name, agent)
    assert log.owner == agent and pops == []


def test_a_lost_connection_is_shown_and_reconnected(ctx, bench, agent):
    server = AMIServer()
    configure(ctx, port=server.port, agents=[(agent, "103")])

    async def scenario():
        async with listening(ctx, bench):
            await until(lambda: server.logins == 1, "the first login")
            await until(lambda: status(ctx)[0] == "Connected", "Connected")
            server.drop()
            await until(lambda: status(ctx) == ("Disconnected", "connection lost"), "the Disconnected status")
            await until(lambda: server.logins == 2, "the reconnection")
            await until(lambda: status(ctx)[0] == "Connected", "Connected again")
    try:
        run(scenario())
    finally:
        server.close()


def test_switching_ami_off_closes_the_connection(ctx, bench, agent, monkeypatch):
    monkeypatch.setattr(ami, "CONFIG_POLL", 0.2)  # look at the settings often, not every 30 s
    server = AMIServer()
    configure(ctx, port=server.port, agents=[(agent, "111")])

    async def scenario():
        async with listening(ctx, bench):
            await until(lambda: server.logins == 1 and server.writers, "the login")
            configure(ctx, port=server.port, enabled=0)
            await until(lambda: not server.writers, "the connection closed")
            await until(lambda: status(ctx)[0] == "Disabled", "the Disabled status")
            configure(ctx, port=server.port, agents=[(agent, "111")])
            await until(lambda: server.logins == 2 and server.writers, "the new login")
    try:
        run(scenario())
    finally:
        server.close()


def test_a_refused_login_is_shown_to_admins(ctx, bench, agent):
    server = AMIServer(secret="another")
    configure(ctx, port=server.port)

    async def scenario():
        async with listening(ctx, bench):
            await until(lambda: "login refused" in (status(ctx)[1] or ""), "the refused login")
    try:
        run(scenario())
    finally:
        server.close()
    assert status(ctx)[0] == "Disconnected" and SECRET not in status(ctx)[1]


def test_the_listener_idles_while_ami_is_off(ctx, bench):
    server = AMIServer()
    configure(ctx, port=server.port, enabled=0)

    async def scenario():
        async with listening(ctx, bench) as task:
            await asyncio.sleep(0.5)
            assert not task.done()
    try:
        run(scenario())
    finally:
        server.close()
    assert server.actions == []


def test_the_realtime_service_is_registered(ctx):
    from lowcode.apps import get_attr
    assert "crm_app.telephony.ami.listen" in lowcode.get_hooks("realtime_services", [])
    assert asyncio.iscoroutinefunction(get_attr("crm_app.telephony.ami.listen"))


# -- the webhook ------------------------------------------------------------------------------------

def hook(client, token=TOKEN, **body):
    return client.post(f"/api/method/crm_app.telephony.api.webhook?token={token}", json.dumps(body),
                       content_type="application/json")


def test_webhook_calls_take_the_same_path_and_replays_change_nothing(ctx, client, agent, pops):
    configure(ctx, agents=[(agent, "104")])
    number, call_id = mobile(), f"cloud-{random.randint(10 ** 6, 10 ** 7)}"
    assert hook(client, token="wrong", event="ringing", call_id=call_id, **{"from": number}).status_code == 403
    assert hook(client, event="ringing", call_id=call_id, extension="104", to="021", **{"from": number}).status_code == 200
    assert hook(client, event="ringing", call_id=call_id, extension="104", **{"from": number}).status_code == 200
    log = log_for(ctx, call_id)
    assert log.status == "Ringing" and log.call_received_by == agent and len(pops) == 1
    [pop] = pops
    assert pop["message"]["matches"] == []  # an unknown number: a new lead, prefilled
    assert pop["message"]["new_lead_url"] == "/app/lead/new?mobile_no=" + e164(number).replace("+", "%2B")
    assert hook(client, event="answered", call_id=call_id, agent=agent).status_code == 200
    ended = dict(event="ended", call_id=call_id, duration=42, recording_url="https://rec.example.com/a.mp3")
    assert hook(client, **ended).status_code == 200
    first = log_for(ctx, call_id)
    assert (first.status, first.duration, first.recording_url) == ("Completed", 42, "https://rec.example.com/a.mp3")
    assert hook(client, **dict(ended, duration=99)).status_code == 200
    assert hook(client, event="answered", call_id=call_id).status_code == 200
    again = log_for(ctx, call_id)
    assert (again.status, again.duration, again.modified) == ("Completed", 42, first.modified)
    assert ctx.db.sql("SELECT COUNT(*) FROM `tabCall Log` WHERE `call_id`=%s", (call_id,))[0][0] == 1
    bad = hook(client, event="exploded", call_id=call_id)
    assert bad.status_code == 417 and "event" in bad.content.decode()
    unsafe = hook(client, event="ended", call_id="x" + call_id, recording_url="javascript:alert(1)")
    assert unsafe.status_code == 417 and "recording_url" in unsafe.content.decode()
    assert log_for(ctx, "x" + call_id) is None


def test_webhook_outgoing_calls_are_logged_without_a_pop(ctx, client, agent, pops):
    configure(ctx, agents=[(agent, "110")])
    number, call_id = mobile(), f"cloud-out-{random.randint(10 ** 6, 10 ** 7)}"
    for body in ({"event": "ringing"}, {"event": "answered"}, {"event": "ended", "duration": "17"}):
        answer = hook(client, call_id=call_id, direction="outgoing", to=number, **{"from": "110"}, **body)
        assert answer.status_code == 200
    log = log_for(ctx, call_id)
    assert (log.direction, log.get("from"), log.to, log.status, log.duration) == \
        ("Outgoing", "110", e164(number), "Completed", 17)
    assert log.call_received_by == agent and pops == []
    bad = hook(client, call_id=call_id + "x", event="ringing", direction="sideways")
    assert bad.status_code == 417 and "direction" in bad.content.decode()


def test_a_low_role_gets_no_matches_they_cannot_read(ctx, client, agent, pops, unique):
    boss = make_user(unique, "boss", roles=("Sales Manager", "System Manager"))
    configure(ctx, agents=[(agent, "105"), (boss, "106")])
    number = mobile()
    lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Hidden", "mobile_no": number}).insert()  # Administrator's
    with as_user(agent):
        assert not lowcode.has_permission("Lead", "read", doc=lead)
    ctx.db.commit()
    call_id = f"cloud-{random.randint(10 ** 6, 10 ** 7)}"
    assert hook(client, event="ringing", call_id=call_id, extension="105", **{"from": number}).status_code == 200
    assert hook(client, event="ringing", call_id=call_id, extension="106", **{"from": number}).status_code == 200
    by_agent = {p["message"]["agent"]: p["message"]["matches"] for p in pops}
    assert by_agent[agent] == []
    assert [m["name"] for m in by_agent[boss]] == [lead.name]
    log = log_for(ctx, call_id)
    assert (log.reference_doctype, log.reference_name) == ("Lead", lead.name)  # linked whoever may read it


def test_erasing_a_contact_erases_their_number_from_pbx_calls(ctx, client, agent):
    from crm_app.privacy import ERASED, erase_contact_data
    configure(ctx, agents=[(agent, "112")])
    number, call_id = mobile(), f"cloud-{random.randint(10 ** 6, 10 ** 7)}"
    contact = lowcode.get_doc({"doctype": "Contact", "first_name": "Gone", "mobile_no": number}).insert()
    ctx.db.commit()
    assert hook(client, event="ringing", call_id=call_id, extension="112", **{"from": number}).status_code == 200
    log_for(ctx, call_id)
    erase_contact_data(contact.name)
    ctx.db.commit()
    log = log_for(ctx, call_id)
    assert (log.get("from"), log.phone) == (ERASED, ERASED)
    assert numbers.find_records(e164(number)) == []


# -- click-to-call ----------------------------------------------------------------------------------

def test_phone_fields_are_tel_links_and_call_rings_the_agents_phone(ctx, client, unique):
    from lowcode.tests.desk_helpers import login
    server = AMIServer()
    caller = make_user(unique, "caller", roles=("Sales User",))
    stranger = make_user(unique, "stranger", roles=("Sales User",))
    number = mobile()
    with as_user(caller):
        lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Omid", "mobile_no": number}).insert()
        lowcode.get_doc({"doctype": "Contact", "first_name": "Omid", "mobile_no": number}).insert()
    configure(ctx, port=server.port, agents=[(caller, "107")])
    try:
        csrf = login(ctx, client, caller)
        form = client.get(f"/app/lead/{lead.name}").content.decode()
        assert f'href="tel:{number}"' in form and f"/app/call/{lead.name}?doctype=Lead" in form
        listing = client.get("/app/contact?mobile_no=" + number).content.decode()  # mobile_no is a list column
        assert f'href="tel:{number}"' in listing
        page = f"/app/call/{lead.name}?doctype=Lead"
        placed = client.post(page, {"number": number, "csrf_token": csrf})
        assert placed.status_code == 200 and 'id="call-result"' in placed.content.decode()
        [originate] = [a for a in server.actions if a["Action"] == "Originate"]
        assert (originate["Channel"], originate["Exten"], originate["Context"]) == ("PJSIP/107", number, "from-internal")
        other = client.post(page, {"number": "02188776655", "csrf_token": csrf})
        assert other.status_code == 417 and 'id="call-error"' in other.content.decode()
        csrf = login(ctx, client, stranger)
        assert client.post(page, {"number": number, "csrf_token": csrf}).status_code == 403
        server.close()
        csrf = login(ctx, client, caller)
        down = client.post(page, {"number": number, "csrf_token": csrf})
        assert down.status_code == 417 and "cannot be reached" in down.content.decode()
    finally:
        server.close()
