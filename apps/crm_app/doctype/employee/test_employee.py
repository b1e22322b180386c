"""Employees: linked to the user they log in as, one employee per user (refused naming the
field and the other employee, also over REST, nothing written), a reporting line without
loops (themselves, directly or through others), HR keeps them, salespeople only read."""
import pytest

import lowcode
from lowcode.exceptions import PermissionError, ValidationError
from lowcode.testing.http import error, put_json, post_json

from crm_app.tests.helpers import as_user, make_user, refresh, token


def _employee(name="Shirin Ahmadi", **values):
    return lowcode.get_doc(dict({"doctype": "Employee", "employee_name": name}, **values)).insert()


def test_defaults_and_naming(ctx, unique):
    employee = _employee(user_id=make_user(unique, "emp"))
    assert employee.name.startswith("HR-EMP-") and employee.status == "Active"


def test_one_employee_per_user(ctx, unique):
    user = make_user(unique, "once")
    first = _employee(user_id=user)
    before = lowcode.get_count("Employee")
    with pytest.raises(ValidationError) as e:
        _employee("Someone Else", user_id=user)
    assert e.value.field == "user_id" and user in e.value.message and first.name in e.value.message
    assert lowcode.get_count("Employee") == before
    second = _employee("Someone Else")
    second.user_id = user
    with pytest.raises(ValidationError) as e:
        second.save()
    assert e.value.field == "user_id"
    first.status = "Left"
    first.save()  # saving the employee itself is no clash with itself
    assert lowcode.db.get_value("Employee", second.name, "user_id") is None


def test_one_employee_per_user_over_rest(ctx, client, unique):
    user = make_user(unique, "restonce")
    _employee(user_id=user)
    hr = token(make_user(unique, "hr", roles=("HR User",)))
    refresh(ctx)
    error(post_json(client, "/api/resource/Employee", {"employee_name": "Copy", "user_id": user}, **hr), 417,
          field="user_id")


def test_reports_to_makes_no_loop(ctx):
    ceo = _employee("Ceo")
    head = _employee("Head", reports_to=ceo.name)
    rep = _employee("Rep", reports_to=head.name)
    for employee, manager in ((ceo, rep.name), (ceo, head.name), (head, rep.name), (rep, rep.name)):
        employee.reports_to = manager
        with pytest.raises(ValidationError) as e:
            employee.save()
        assert e.value.field == "reports_to"
        employee.reload()
    assert lowcode.db.get_value("Employee", ceo.name, "reports_to") is None
    rep.reports_to = ceo.name  # moving up the chain is fine
    rep.save()
    assert lowcode.db.get_value("Employee", rep.name, "reports_to") == ceo.name


def test_hr_keeps_employees_a_salesperson_reads(ctx, client, unique):
    hr = make_user(unique, "hruser", roles=("HR User",))
    rep = make_user(unique, "emprep")
    with as_user(hr):
        employee = _employee(user_id=rep).name
    with as_user(rep):
        with pytest.raises(PermissionError):
            _employee("Fake")
    auth = token(rep)
    refresh(ctx)
    assert client.get(f"/api/resource/Employee/{employee}", **auth).status_code == 200
    error(put_json(client, f"/api/resource/Employee/{employee}", {"designation": "CEO"}, **auth), 403)
    refresh(ctx)
    assert lowcode.db.get_value("Employee", employee, "designation") is None
