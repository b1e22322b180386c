"""Telephony Settings (a single DocType): the region is a country code (kept upper
case), the AMI port a port, AMI needs its host and username to be enabled, the dial
string holds {extension}, an extension belongs to one user; each refused naming its
field. Only a System Manager reads the settings. Secrets, the listener's status and the
calls themselves are tested in crm_app/tests/test_telephony.py. Nothing is committed
here: the settings are shared by the whole test session."""
import pytest

import lowcode
from lowcode.exceptions import ValidationError
from lowcode.testing.http import error

from crm_app.tests.helpers import make_user, refresh, token


def _save(**values):
    settings = lowcode.get_doc("Telephony Settings")
    agents = values.pop("agents", None)
    settings.update(dict({"ami_enabled": 0, "ami_host": "127.0.0.1", "ami_username": "crm", "ami_port": 5038,
                          "originate_channel": "PJSIP/{extension}", "default_region": "IR"}, **values))
    if agents is not None:
        settings.set("agents", agents)
    settings.save()
    return settings


def test_the_region_is_kept_upper_case(ctx):
    assert _save(default_region=" il ").default_region == "IL"
    assert lowcode.db.get_single_value("Telephony Settings", "default_region") == "IL"


@pytest.mark.parametrize("values, field", [
    ({"default_region": "XX"}, "default_region"),
    ({"ami_port": 70000}, "ami_port"),
    ({"ami_port": 0}, "ami_port"),
    ({"ami_enabled": 1, "ami_host": None}, "ami_host"),
    ({"ami_enabled": 1, "ami_username": None}, "ami_host"),
    ({"originate_channel": "PJSIP/100"}, "originate_channel"),
])
def test_bad_settings_are_refused_naming_the_field(ctx, values, field):
    with pytest.raises(ValidationError) as e:
        _save(**values)
    assert e.value.field == field


def test_an_extension_belongs_to_one_user(ctx, unique):
    a, b = make_user(unique, "exta"), make_user(unique, "extb")
    with pytest.raises(ValidationError) as e:
        _save(agents=[{"user": a, "extension": "201"}, {"user": b, "extension": " 201 "}])
    assert e.value.field == "agents"
    saved = _save(agents=[{"user": a, "extension": " 201 "}, {"user": b, "extension": "202"}])
    assert [(r.user, r.extension) for r in saved.agents] == [(a, "201"), (b, "202")]


def test_only_a_system_manager_reads_them(ctx, client, unique):
    rep = token(make_user(unique, "telrep", roles=("Sales Manager",)))
    refresh(ctx)
    error(client.get("/api/resource/Telephony Settings/Telephony Settings", **rep), 403)
