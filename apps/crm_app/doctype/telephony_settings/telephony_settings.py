"""Telephony Settings: the PBX connection (AMI), the webhook token of cloud PBXs and
which user answers on which extension. The AMI secret and the webhook token are kept
in the channel-secret store (``tabAuth``); the document only ever holds a mask. The
status fields belong to the AMI listener: a save keeps what it last wrote."""
import phonenumbers

from lowcode.channels.stored_secrets import MASK, get_secret, store_secret
from lowcode.document import Document
from lowcode.exceptions import ValidationError

SECRETS = ("ami_secret", "webhook_token")
STATUS_FIELDS = ("ami_status", "ami_status_at", "ami_last_error")


class TelephonySettings(Document):
    def validate(self):
        for field in SECRETS:
            value = self.get(field)
            if value and value != MASK:
                store_secret(self.doctype, self.doctype, field, value)
                self.set(field, MASK)
        before = self._doc_before_save
        for field in STATUS_FIELDS:
            self.set(field, before.get(field) if before is not None else None)
        self.default_region = (self.default_region or "IR").strip().upper()
        if self.default_region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(f"default_region: {self.default_region!r} is not a country code such as IR or IL",
                                  field="default_region")
        if self.ami_port is not None and not 0 < int(self.ami_port or 0) < 65536:
            raise ValidationError("ami_port: must be between 1 and 65535", field="ami_port")
        if int(self.ami_enabled or 0) and not (self.ami_host and self.ami_username):
            raise ValidationError("ami_host: host and username are needed to enable AMI", field="ami_host")
        if self.originate_channel and "{extension}" not in self.originate_channel:
            raise ValidationError("originate_channel: must contain {extension}", field="originate_channel")
        seen = {}
        for row in self.get("agents") or []:
            extension = str(row.extension or "").strip()
            if extension in seen and seen[extension] != row.user:
                raise ValidationError(f"agents: extension {extension} is given to two users", field="agents")
            seen[extension] = row.user
            row.extension = extension


def secret(fieldname):
    """The stored AMI secret or webhook token (never through the document)."""
    return get_secret("Telephony Settings", "Telephony Settings", fieldname)
