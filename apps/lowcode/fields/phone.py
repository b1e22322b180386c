"""Phone: a telephone number stored in E.164 (+989121234567) however it was typed
('0912 345 6789' in the site's region, '+98-912...', Persian digits), shown as a
click-to-call ``tel:`` link and typed into a ``tel`` input.

(Frappe's Data fields with ``options: Phone`` keep the number as typed; they stay as
they are, see text.py.)"""
import markupsafe
import phonenumbers

from ..urls import tel_url
from .base import FieldType, register, ascii_digits
from .text import default_phone_region, validate_phone


@register
class Phone(FieldType):
    name = "Phone"
    ltr = True
    control_template = "controls/phone.html"
    json_schema = {"type": "string", "description": "a phone number as typed, stored in E.164 (+989121234567)"}

    def length(self, df):
        return 16  # E.164: a plus and at most 15 digits

    def coerce(self, value, df):
        value = super().coerce(value, df)
        text = ascii_digits(value or "").strip()
        if not text:
            return None
        validate_phone(text, df, self)  # refused naming the field
        number = phonenumbers.parse(text, None if text.startswith("+") else default_phone_region())
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def coerce_filter(self, value, df):
        if isinstance(value, str) and "%" in value:
            return ascii_digits(value)  # a LIKE pattern: "%912%"
        return self.coerce(value, df)

    def display(self, value, df, prefs):
        text = self.format(value, df, prefs)
        link = tel_url(value)
        if not link:
            return markupsafe.escape(text)
        return markupsafe.Markup('<a href="%s" dir="ltr" data-tel>%s</a>') % (link, text)
