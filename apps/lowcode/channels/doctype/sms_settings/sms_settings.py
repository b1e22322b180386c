"""SMS Settings (Frappe's shape) with ready presets for common gateways.

A preset fills the gateway fields on save; the admin still types the API key and
the sender line. The API key is kept in ``tabAuth`` like other secrets and the
document only ever holds a mask, so neither the API nor the form returns it."""
import secrets

from lowcode.document import Document

from ...stored_secrets import MASK, get_secret, store_secret

# What each preset assumes about its gateway (from the gateways' public HTTP docs):
# - Kavenegar: GET/POST https://api.kavenegar.com/v1/<API key>/sms/send.json with
#   receptor, message, sender; answers {"return": {"status": 200}, "entries": [{"messageid": ..}]}.
# - Ghasedak: POST form to https://api.ghasedak.me/v2/sms/send/simple, the key in an
#   "apikey" header, fields receptor, message, linenumber; answers {"result": {"code": 200}, "items": [id]}.
# - SMS.ir (REST v1): POST JSON to https://api.sms.ir/v1/send/bulk, the key in an
#   "x-api-key" header, {"lineNumber", "messageText", "mobiles": [..]}; answers
#   {"status": 1, "data": {"messageIds": [id]}}; numbers as 98912... (no plus).
# - 019 (Israel): POST JSON to https://019sms.co.il/api with "Authorization: Bearer <token>",
#   {"sms": {"user": {"username"}, "source", "destinations": {"phone": [..]}, "message"}};
#   numbers in national form (05X...); the answer carries "shipment_id".
#   Dotted parameter names build the nested JSON object.
PRESETS = {
    "Kavenegar": {
        "sms_gateway_url": "https://api.kavenegar.com/v1/{api_key}/sms/send.json",
        "message_parameter": "message", "receiver_parameter": "receptor", "receiver_as_list": 0,
        "use_post": 1, "use_json": 0, "number_format": "E.164", "message_id_path": "entries.0.messageid",
        "parameters": [{"parameter": "sender", "value": "", "header": 0}],
    },
    "Ghasedak": {
        "sms_gateway_url": "https://api.ghasedak.me/v2/sms/send/simple",
        "message_parameter": "message", "receiver_parameter": "receptor", "receiver_as_list": 0,
        "use_post": 1, "use_json": 0, "number_format": "National", "message_id_path": "items.0",
        "parameters": [{"parameter": "apikey", "value": "{api_key}", "header": 1},
                       {"parameter": "linenumber", "value": "", "header": 0}],
    },
    "SMS.ir": {
        "sms_gateway_url": "https://api.sms.ir/v1/send/bulk",
        "message_parameter": "messageText", "receiver_parameter": "mobiles", "receiver_as_list": 1,
        "use_post": 1, "use_json": 1, "number_format": "International without plus",
        "message_id_path": "data.messageIds.0",
        "parameters": [{"parameter": "x-api-key", "value": "{api_key}", "header": 1},
                       {"parameter": "lineNumber", "value": "", "header": 0}],
    },
    "019 (Israel)": {
        "sms_gateway_url": "https://019sms.co.il/api",
        "message_parameter": "sms.message", "receiver_parameter": "sms.destinations.phone", "receiver_as_list": 1,
        "use_post": 1, "use_json": 1, "number_format": "National", "message_id_path": "shipment_id",
        "parameters": [{"parameter": "Authorization", "value": "Bearer {api_key}", "header": 1},
                       {"parameter": "sms.user.username", "value": "", "header": 0},
                       {"parameter": "sms.source", "value": "", "header": 0}],
    },
}


class SMSSettings(Document):
    def validate(self):
        preset = PRESETS.get(self.preset or "")
        if preset and (self._doc_before_save is None or self._doc_before_save.get("preset") != self.preset
                       or not self.sms_gateway_url):
            self.apply_preset(preset)
        if self.api_key and self.api_key != MASK:
            store_secret("SMS Settings", "SMS Settings", "api_key", self.api_key)
            self.api_key = MASK
        if not self.delivery_report_token:
            self.delivery_report_token = secrets.token_urlsafe(24)

    def apply_preset(self, preset):
        # Values the admin already typed for a preset's parameter (sender line, username) are kept.
        typed = {row.parameter: row.value for row in (self.get("parameters") or [])}
        for field, value in preset.items():
            if field != "parameters":
                self.set(field, value)
        self.set("parameters", [])
        for row in preset["parameters"]:
            self.append("parameters", dict(row, value=typed.get(row["parameter"]) or row["value"]))


def api_key():
    return get_secret("SMS Settings", "SMS Settings", "api_key")
