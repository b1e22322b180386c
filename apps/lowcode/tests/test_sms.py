"""SMS out and delivery reports against a real HTTP server on loopback that speaks
Kavenegar's protocol (POST form to /v1/<API key>/sms/send.json, JSON answer with
entries[].messageid): what arrives, parts, opt-out, retry on 500, callbacks."""
import datetime
import json
import random
import urllib.parse
from http.server import BaseHTTPRequestHandler

import pytest

import lowcode
from lowcode import jobs
from lowcode.tests.loopback_http import LoopbackHTTP
from lowcode.channels import sms
from lowcode.channels.stored_secrets import MASK, get_secret

API_KEY = "kn-secret-" + "7" * 12


class Gateway(LoopbackHTTP):
    """A loopback Kavenegar: records each request, answers 500 ``fail`` times first."""

    def __init__(self):
        self.refuse = None
        self.requests, self.fail, self.next_id = [], 0, random.randint(10 ** 8, 10 ** 9)  # ids unique per site
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                gateway.requests.append({"path": self.path, "headers": dict(self.headers),
                                         "form": dict(urllib.parse.parse_qsl(body))})
                if gateway.fail > 0:
                    gateway.fail -= 1
                    self._answer(500, {"return": {"status": 500, "message": "server error"}})
                    return
                if gateway.refuse:
                    self._answer(gateway.refuse, {"return": {"status": gateway.refuse, "message": "invalid receptor"}})
                    return
                gateway.next_id += 1
                self._answer(200, {"return": {"status": 200, "message": "تایید شد"},
                                   "entries": [{"messageid": gateway.next_id, "status": 1}]})

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        super().__init__(Handler)


@pytest.fixture
def gateway(ctx):
    """The gateway, and SMS Settings set up for it through the Kavenegar preset."""
    server = Gateway()
    settings = lowcode.get_doc("SMS Settings")
    settings.preset = "Kavenegar"
    settings.sms_gateway_url = ""
    settings.set("parameters", [{"parameter": "sender", "value": "10004346"}])
    settings.api_key = API_KEY
    settings.save()
    settings = lowcode.get_doc("SMS Settings")
    settings.sms_gateway_url = f"http://127.0.0.1:{server.port}/v1/{{api_key}}/sms/send.json"
    settings.save()
    ctx.db.commit()
    yield server
    server.close()


def mobile():
    return "0912" + str(random.randint(1000000, 9999999))


def e164(number):
    return "+98" + number[1:]


def run_jobs(ctx):
    """Commit, which sends the queued jobs: in-process without Redis; with Redis, this
    site's SMS jobs are taken off the shared queue and run here, as a worker would."""
    ctx.db.commit()
    if not jobs.redis_url():
        return
    from rq import Queue
    from lowcode.caches import redis_client
    queue = Queue("short", connection=redis_client(jobs.redis_url()))
    for job in queue.get_jobs():
        payload = job.args[0] if job.args else {}
        if payload.get("site") == ctx.site and payload.get("method") == "lowcode.channels.sms.deliver":
            job.delete()
            sms.deliver(**payload["kwargs"])
            ctx.db.commit()


def log_of(name):
    return lowcode.get_doc("SMS Log", name)


def test_parts_are_counted_as_phones_count_them():
    assert sms.count_parts("a" * 160) == ("GSM-7", 1)
    assert sms.count_parts("a" * 161) == ("GSM-7", 2)
    assert sms.count_parts("€" * 80) == ("GSM-7", 1)       # extension characters take two septets
    assert sms.count_parts("€" * 81) == ("GSM-7", 2)
    assert sms.count_parts("س" * 70) == ("UCS-2", 1)
    assert sms.count_parts("س" * 71) == ("UCS-2", 2)
    assert sms.count_parts("ש" * 134) == ("UCS-2", 2)
    assert sms.count_parts("ש" * 135) == ("UCS-2", 3)
    assert sms.count_parts("😀" * 35) == ("UCS-2", 1)      # two UTF-16 units each


def test_numbers_are_normalised_to_e164(ctx):
    assert sms.normalise_number("0912 123 4567") == "+989121234567"
    assert sms.normalise_number("+972 50-234-5678") == "+972502345678"
    assert sms.normalise_number("050-234-5678", region="IL") == "+972502345678"
    assert sms.normalise_number("12") is None


def test_a_persian_message_arrives_with_the_gateway_parameters(ctx, gateway):
    number = mobile()
    message = "سلام، سفارش شما ارسال شد. " * 3
    names = sms.send_sms([number], message, reference=("User", "Administrator"))
    assert log_of(names[0]).status == "Queued" and gateway.requests == []  # nothing before the commit
    run_jobs(ctx)
    assert len(gateway.requests) == 1
    sent = gateway.requests[0]
    assert sent["path"] == f"/v1/{API_KEY}/sms/send.json"
    assert sent["form"] == {"receptor": e164(number), "message": message, "sender": "10004346"}
    entry = log_of(names[0])
    assert entry.status == "Sent" and entry.gateway_message_id == str(gateway.next_id)
    assert entry.parts == 2 and entry.encoding == "UCS-2"
    assert (entry.reference_doctype, entry.reference_name) == ("User", "Administrator")


def test_the_api_key_is_kept_apart_and_never_returned(ctx, gateway, client):
    assert lowcode.get_doc("SMS Settings").api_key == MASK
    stored = ctx.db.sql("SELECT `password` FROM `tabAuth` WHERE `doctype`='SMS Settings' AND `fieldname`='api_key'")
    assert len(stored) == 1 and API_KEY not in stored[0][0]  # encrypted at rest
    assert get_secret("SMS Settings", "SMS Settings", "api_key") == API_KEY
    client.post("/api/method/login", {"usr": "Administrator", "pwd": "admin"})
    body = client.get("/api/resource/SMS Settings/SMS Settings").content.decode()
    assert API_KEY not in body and MASK in body


def test_invalid_numbers_are_refused_naming_the_field(ctx, gateway):
    with pytest.raises(lowcode.exceptions.ValidationError) as e:
        sms.send_sms(["0912", mobile()], "hi")
    assert e.value.field == "receivers"
    assert ctx.db.sql("SELECT COUNT(*) FROM `tabSMS Log` WHERE `message`='hi'")[0][0] == 0


def test_opt_out_is_always_honoured(ctx, gateway):
    refused_lead, willing_lead, unsubscribed_contact, stranger = mobile(), mobile(), mobile(), mobile()
    lowcode.get_doc({"doctype": "Lead", "first_name": "No SMS", "mobile_no": refused_lead, "consent_sms": 0}).insert()
    lowcode.get_doc({"doctype": "Lead", "first_name": "Yes SMS", "mobile_no": willing_lead, "consent_sms": 1}).insert()
    lowcode.get_doc({"doctype": "Contact", "first_name": "Gone", "mobile_no": unsubscribed_contact,
                     "consent_sms": 1, "unsubscribed": 1}).insert()
    names = sms.send_sms([refused_lead, willing_lead, unsubscribed_contact, stranger], "Hello")
    run_jobs(ctx)
    status = {log_of(n).receiver: log_of(n).status for n in names}
    assert status == {e164(refused_lead): "Skipped", e164(willing_lead): "Sent",
                      e164(unsubscribed_contact): "Skipped", e164(stranger): "Sent"}
    assert sorted(r["form"]["receptor"] for r in gateway.requests) == sorted([e164(willing_lead), e164(stranger)])
    assert "opt-out" in log_of(names[0]).error


def test_a_gateway_500_is_retried_after_the_back_off(ctx, gateway):
    gateway.fail = 1
    [name] = sms.send_sms([mobile()], "retry me")
    run_jobs(ctx)
    entry = log_of(name)
    assert entry.status == "Queued" and entry.attempts == 1 and "500" in entry.error and entry.next_attempt
    sms.retry_due(now=datetime.datetime.now())          # the back-off has not ended: nothing sent
    run_jobs(ctx)
    assert len(gateway.requests) == 1
    sms.retry_due(now=datetime.datetime.now() + datetime.timedelta(minutes=2))
    run_jobs(ctx)
    entry = log_of(name)
    assert len(gateway.requests) == 2 and entry.status == "Sent" and entry.attempts == 2 and not entry.error


def test_a_gateway_4xx_is_final(ctx, gateway):
    gateway.refuse = 422
    [name] = sms.send_sms([mobile()], "refused")
    run_jobs(ctx)
    entry = log_of(name)
    assert entry.status == "Failed" and entry.attempts == 1 and "422" in entry.error and not entry.next_attempt
    sms.retry_due(now=datetime.datetime.now() + datetime.timedelta(days=1))
    run_jobs(ctx)
    assert len(gateway.requests) == 1


def test_an_unreachable_gateway_fails_after_the_last_attempt(ctx, gateway):
    settings = lowcode.get_doc("SMS Settings")
    settings.sms_gateway_url = "http://127.0.0.1:9/v1/{api_key}/sms/send.json"   # nothing listens on port 9
    settings.save()
    ctx.db.commit()
    [name] = sms.send_sms([mobile()], "nobody home")
    ctx.db.sql("UPDATE `tabSMS Log` SET `attempts`=%s WHERE `name`=%s", (sms.MAX_ATTEMPTS - 1, name))
    run_jobs(ctx)
    entry = log_of(name)
    assert entry.status == "Failed" and "unreachable" in entry.error and API_KEY not in entry.error


def test_delivery_report_updates_the_status_and_needs_the_token(ctx, gateway, client):
    [name] = sms.send_sms([mobile()], "report me")
    run_jobs(ctx)
    message_id = log_of(name).gateway_message_id
    token = lowcode.get_doc("SMS Settings").delivery_report_token
    assert token
    url = "/api/method/lowcode.channels.sms.delivery_report?token="
    bad = client.post(url + "wrong", {"messageid": message_id, "status": "10"})
    assert bad.status_code == 403
    ctx.db.rollback()
    assert log_of(name).status == "Sent"
    good = client.post(url + token, {"messageid": message_id, "status": "10"})
    assert good.status_code == 200 and good.json()["message"] == {"updated": 1}
    ctx.db.rollback()
    assert log_of(name).status == "Delivered"
    unknown = client.post(url + token, {"messageid": message_id, "status": "whatever"})
    assert unknown.json()["message"] == {"updated": 0}
    missing = client.post(url + token, {"status": "10"})
    assert missing.status_code == 417 and "messageid" in missing.content.decode()


def test_presets_fill_the_gateway_fields(ctx):
    settings = lowcode.get_doc("SMS Settings")
    settings.preset = "SMS.ir"
    settings.sms_gateway_url = ""
    settings.set("parameters", [{"parameter": "lineNumber", "value": "30007732"}])
    settings.save()
    assert settings.sms_gateway_url == "https://api.sms.ir/v1/send/bulk"
    assert (settings.use_post, settings.use_json, settings.receiver_parameter) == (1, 1, "mobiles")
    params = {row.parameter: (row.value, row.header) for row in settings.parameters}
    assert params == {"x-api-key": ("{api_key}", 1), "lineNumber": ("30007732", 0)}
    assert sms._nested({"sms.destinations.phone": ["0502345678"], "sms.message": "שלום"}) == \
        {"sms": {"destinations": {"phone": ["0502345678"]}, "message": "שלום"}}
    assert sms._format_number("+972502345678", "National") == "0502345678"
    ctx.db.rollback()


def test_send_sms_from_a_lead_form(ctx, gateway, client):
    from lowcode.tests.desk_helpers import login
    number = mobile()
    lead = lowcode.get_doc({"doctype": "Lead", "first_name": "Dana", "mobile_no": number, "consent_sms": 1}).insert()
    silent = lowcode.get_doc({"doctype": "Lead", "first_name": "Quiet", "mobile_no": mobile(), "consent_sms": 0}).insert()
    csrf = login(ctx, client, "Administrator")
    form = client.get(f"/app/lead/{lead.name}").content.decode()
    assert f"/app/send-sms/{lead.name}?doctype=Lead" in form
    page = f"/app/send-sms/{lead.name}?doctype=Lead"
    empty = client.post(page, {"message": "  ", "csrf_token": csrf})
    assert empty.status_code == 417 and 'data-field="message"' in empty.content.decode()
    sent = client.post(page, {"message": "שלום דנה", "csrf_token": csrf})
    assert sent.status_code == 200 and 'id="sms-result"' in sent.content.decode()
    run_jobs(ctx)
    assert [r["form"]["receptor"] for r in gateway.requests] == [e164(number)]
    assert gateway.requests[0]["form"]["message"] == "שלום דנה"
    quiet = client.post(f"/app/send-sms/{silent.name}?doctype=Lead", {"message": "hi", "csrf_token": csrf})
    assert quiet.status_code == 200 and "alert-warning" in quiet.content.decode()
    run_jobs(ctx)
    assert len(gateway.requests) == 1
