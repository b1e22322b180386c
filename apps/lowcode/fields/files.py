"""Attachments: the value is a file URL (``/files/...``, ``/private/files/...`` or an
http(s) address) of a File record."""
from ..urls import is_safe_url, is_web_url
from .base import FieldType, register

_STORED_PREFIXES = ("/files/", "/private/files/")


@register
class Attach(FieldType):
    name = "Attach"
    column = "text"
    control_when_read_only = True
    control_template = "controls/attach.html"
    bulk_settable = False  # a file belongs to one record

    def validate(self, value, df):
        if value and not (value.startswith(_STORED_PREFIXES) and is_safe_url(value) or is_web_url(value)):
            raise self.error(df, f"{value!r} is not a file URL (/files/..., /private/files/... or http(s)://)")


@register
class AttachImage(Attach):
    name = "Attach Image"
