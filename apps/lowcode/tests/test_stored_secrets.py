"""Channel secrets are encrypted at rest under the site's key and read back whole."""
import json
import os

import pytest
from cryptography.fernet import Fernet

from lowcode.channels import stored_secrets
from lowcode.channels.stored_secrets import get_secret, store_secret
from lowcode.context import local
from lowcode.exceptions import ValidationError


def _stored(name):
    return local.db.sql("SELECT `password` FROM `tabAuth` WHERE `doctype`='Test Secret' AND `name`=%s", (name,))[0][0]


def test_secret_is_encrypted_at_rest_and_read_back(ctx, unique):
    store_secret("Test Secret", unique, "api_key", "کلید-سری-123")
    assert "123" not in _stored(unique) and _stored(unique).startswith("gAAAAA")
    assert get_secret("Test Secret", unique, "api_key") == "کلید-سری-123"
    store_secret("Test Secret", unique, "api_key", "")
    assert get_secret("Test Secret", unique, "api_key") is None


def test_new_sites_get_a_key(ctx):
    conf = json.load(open(os.path.join(local.site_path, "site_config.json")))
    Fernet(conf["encryption_key"].encode())  # a valid key, written at new-site


def test_secret_saved_before_encryption_stays_readable(ctx, unique):
    local.db.sql("INSERT INTO `tabAuth` (`doctype`, `name`, `fieldname`, `password`) VALUES ('Test Secret', %s, "
                 "'api_key', 'plain-old')", (unique,))
    assert get_secret("Test Secret", unique, "api_key") == "plain-old"


def test_a_changed_key_is_a_clear_error_not_garbage(ctx, unique):
    store_secret("Test Secret", unique, "api_key", "s3cret")
    good = local.conf["encryption_key"]
    local.conf["encryption_key"] = Fernet.generate_key().decode()
    try:
        with pytest.raises(ValidationError, match="encryption_key"):
            get_secret("Test Secret", unique, "api_key")
    finally:
        local.conf["encryption_key"] = good


def test_a_site_without_a_key_gets_one_written_once(ctx, unique):
    path = os.path.join(local.site_path, "site_config.json")
    before = open(path).read()
    conf = json.loads(before)
    try:
        del conf["encryption_key"]
        with open(path, "w") as f:
            json.dump(conf, f)
        local.conf.pop("encryption_key")
        key = stored_secrets.encryption_key()
        assert json.load(open(path))["encryption_key"] == key
        local.conf.pop("encryption_key")
        assert stored_secrets.encryption_key() == key  # read back, not made again
    finally:
        with open(path, "w") as f:
            f.write(before)
        local.conf["encryption_key"] = json.loads(before)["encryption_key"]
