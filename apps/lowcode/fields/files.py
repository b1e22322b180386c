"""Attachments: the value is a file URL (``/files/...``, ``/private/files/...`` or an
http(s) address) of a File record."""
from .base import FieldType, register

_ALLOWED_PREFIXES = ("/files/", "/private/files/", "http://", "https://")


@register
class Attach(FieldType):
    name = "Attach"
    column = "text"

    def validate(self, value, df):
        if value and not value.startswith(_ALLOWED_PREFIXES):
            raise self.error(df, f"{value!r} is not a file URL (/files/..., /private/files/... or http(s)://)")


@register
class AttachImage(Attach):
    name = "Attach Image"
