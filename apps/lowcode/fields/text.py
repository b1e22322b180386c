"""Free-text types: Data (and its Email, Phone, URL, Name flavours), the longer texts,
Code, Text Editor (sanitised HTML), Read Only and Autocomplete."""
import functools
import re

import nh3
import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator

from ..urls import is_web_url

from .base import FieldType, register, ascii_digits

_email = EmailValidator()
_NAME_RE = re.compile(r"^[^<>\"'%;]*$")


def default_phone_region():
    from ..context import local
    return (local.conf.get("default_phone_region") if local else None) or "IR"


#: what a phone number typed into a search box is made of: digits, a leading plus,
#: spaces, dashes, dots and parentheses (at least 7 characters, so "2024" is not one)
_PHONE_TERM_RE = re.compile(r"^\+?[\d\s().\-]{7,}$")


def phone_search_e164(text):
    """E.164 of a search term that is a valid phone number however typed
    ('09123456789', '+98 912 345 6789', '0912-345-6789', Persian digits) in the site's
    default region, else None: what the normalised ``*_e164`` columns are matched with."""
    text = ascii_digits(str(text or "").strip())
    if not _PHONE_TERM_RE.match(text):
        return None
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_phone_region())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@register
class Data(FieldType):
    name = "Data"
    groupable = True
    #: what ``options`` may say the text is (validate() checks each)
    kinds = ("", "Email", "Phone", "URL", "Name")
    read_only_template = "controls/read_only/data.html"  # a phone number is a link

    def coerce(self, value, df):
        value = super().coerce(value, df)
        if value is None:
            return None
        value = value.strip()
        if df.get("options") == "Phone":
            value = ascii_digits(value)
        return value

    def kind(self, df):
        return df.get("options") or None

    def validate_definition(self, df, doctype, known_doctypes):
        if (df.get("options") or "") not in self.kinds:
            raise ValueError(f"Data options must be Email, Phone, URL or Name, got {df.get('options')!r}")
        super().validate_definition(df, doctype, known_doctypes)

    def validate(self, value, df):
        super().validate(value, df)
        if not value:
            return
        kind = df.get("options")
        if kind == "Email":
            for part in value.split(","):
                try:
                    _email(part.strip())
                except DjangoValidationError:
                    raise self.error(df, f"{part.strip()!r} is not a valid e-mail address")
        elif kind == "Phone":
            validate_phone(value, df, self)
        elif kind == "URL" and not is_web_url(value):
            raise self.error(df, f"{value!r} is not a valid http(s) URL")
        elif kind == "Name" and not _NAME_RE.match(value):
            raise self.error(df, f"{value!r} contains characters not allowed in a name")

    @property
    def json_schema(self):
        return {"type": "string", "maxLength": 140}

    def display(self, value, df, prefs):
        if df.get("options") == "Phone":  # a phone number keeps its order in RTL text
            from ..desk.formatting import ltr_html
            return ltr_html(self.format(value, df, prefs))
        return super().display(value, df, prefs)


@functools.lru_cache(maxsize=256)
def parse_phone(value, region):
    """phonenumbers.parse (raising its NumberParseException), remembered for the last
    numbers: a save checks a number and its controller then normalises the same one (the
    parse is a Data Import's costliest step per lead). The answer is shared: read it only."""
    return phonenumbers.parse(value, region)


def validate_phone(value, df, ftype):
    """Iranian, Israeli and international numbers: '+98 912 345 6789', '09123456789'
    (read in the site's region), '+972-50-123-4567'."""
    try:
        number = parse_phone(value, None if value.startswith("+") else default_phone_region())
    except phonenumbers.NumberParseException:
        raise ftype.error(df, f"{value!r} is not a phone number")
    if not (phonenumbers.is_valid_number(number) or _possible_mobile_or_landline(number)):
        raise ftype.error(df, f"{value!r} is not a valid phone number")


def _possible_mobile_or_landline(number):
    # The library's list of allocated ranges lags behind operators (new Israeli mobile
    # ranges); a number of the right shape for a mobile or landline in its country is
    # accepted, while a wrong length or an unknown country code is not.
    region = phonenumbers.region_code_for_number(number)
    if region is None:
        return False
    length = len(str(number.national_number))
    for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
        example = phonenumbers.example_number_for_type(region, kind)
        # The full length of the country's numbers of that kind: a truncated number fails.
        if example is not None and len(str(example.national_number)) == length and \
                phonenumbers.is_possible_number_for_type(number, kind):
            return True
    return False


class LongTextType(FieldType):
    """Text in a long column: a textarea, never indexed nor unique."""
    long_text = True
    indexable = False
    may_be_unique = False
    control_template = "controls/textarea.html"
    read_only_template = "controls/read_only/long_text.html"


class BoundedText(LongTextType):
    """Text stored in a 64 KB column (MariaDB's TEXT); longer values belong in Long Text."""
    column = "text"
    max_bytes = 65535

    def validate(self, value, df):
        if isinstance(value, str) and len(value.encode("utf-8")) > self.max_bytes:
            raise self.error(df, "text longer than 64 KB (use a Long Text field for more)")


@register
class SmallText(BoundedText):
    name = "Small Text"


@register
class Text(BoundedText):
    name = "Text"


@register
class LongText(LongTextType):
    name = "Long Text"
    column = "longtext"


@register
class Code(LongTextType):
    name = "Code"
    column = "longtext"


@register
class TextEditor(FieldType):
    """Rich text: stored only after sanitising, so no script or handler survives."""
    name = "Text Editor"
    column = "longtext"
    long_text = True
    indexable = False
    may_be_unique = False
    control_when_read_only = True
    rich_text = True
    control_template = "controls/text_editor.html"
    read_only_template = "controls/read_only/long_text.html"

    def coerce(self, value, df):
        value = super().coerce(value, df)
        return nh3.clean(value) if value else value


@register
class ReadOnly(FieldType):
    name = "Read Only"
    read_only = True


@register
class Autocomplete(FieldType):
    """Free text with suggestions taken from ``options``."""
    name = "Autocomplete"
    control_template = "controls/autocomplete.html"
