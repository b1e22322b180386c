"""A bad record in an app's fixtures/ file stops the install with an error naming the
file and the record (its DocType and name, or its index), and none of the file's
records is written."""
import json

import pytest

from lowcode import installer
from lowcode.exceptions import DocTypeDefinitionError

from .test_api import write


@pytest.mark.parametrize("bad, names, field", [
    ({"doctype": "No Such DocType {u}", "name": "X {u}"}, ["No Such DocType {u}", "'X {u}'", "record 2"], None),
    ({"doctype": "ToDo", "name": "todo-{u}", "status": "Open", "allocated_to": "Administrator",
      "description": "d", "date": "not a date"}, ["ToDo 'todo-{u}'", "record 2", "date"], "date"),
    ({"doctype": "Role", "desk_access": 1}, ["record 2 (Role)", "role name"], "role_name"),
    ({"doctype": "ToDo", "status": "Open", "allocated_to": "Administrator"}, ["record 2 (ToDo)", "description"],
     "description"),
    ("just text", ["record 2", "doctype"], None),
])
def test_bad_fixture_record_names_file_and_record_and_writes_nothing(ctx, temp_app, unique, bad, names, field):
    app = temp_app()
    good = {"doctype": "Role", "role_name": f"Fixture Role {unique}"}
    bad = json.loads(json.dumps(bad).replace("{u}", unique))
    path = app.write("fixtures/roles.json", json.dumps([good, bad]))
    write(ctx)
    with pytest.raises(DocTypeDefinitionError) as e:
        installer.install_app(app.name)
    message = e.value.message
    assert message.startswith(path + ": "), message
    for word in names:
        assert word.replace("{u}", unique).lower() in message.lower(), (word, message)
    if field:
        assert e.value.field == field
    assert not ctx.db.exists("Role", good["role_name"])  # the good record before it is gone too
    ctx.db.rollback()


def test_good_fixture_file_is_imported(ctx, temp_app, unique):
    app = temp_app()
    app.write("fixtures/roles.json", json.dumps([{"doctype": "Role", "role_name": f"Fixture Ok {unique}"}]))
    write(ctx)
    installer.install_app(app.name)
    assert ctx.db.exists("Role", f"Fixture Ok {unique}")
    ctx.db.rollback()
