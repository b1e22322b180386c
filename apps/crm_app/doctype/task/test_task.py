"""Tasks: defaults (assigned to the creator, Open, Medium), the overdue flag, completion
(completed_on set once, cleared on reopening), and the scheduled jobs mark_overdue_tasks
and send_task_reminders (once per due date); status and priority from their lists, the
assignee a user, and a private task seen over REST by its owner and assignee only.
Activities' customer: crm_app/tests/test_activities.py."""
import pytest

import lowcode
from lowcode.exceptions import LinkValidationError, ValidationError
from lowcode.testing.http import error, ok

from crm_app.activities import mark_overdue_tasks, send_task_reminders
from crm_app.tests.helpers import as_user, days_from_today, make_user, refresh, today, token


def _task(**values):
    return lowcode.get_doc(dict({"doctype": "Task", "subject": "do it"}, **values)).insert()


def test_task_defaults(ctx, unique):
    user = make_user(unique, "tasker")
    with as_user(user):
        task = _task()
    assert task.assigned_to == user and task.status == "Open" and task.priority == "Medium"
    assert task.is_overdue == 0 and task.completed_on is None


def test_task_overdue_flag(ctx):
    assert _task(due_date=days_from_today(-1)).is_overdue == 1
    assert _task(due_date=today()).is_overdue == 0
    assert _task(due_date=days_from_today(3)).is_overdue == 0
    assert _task().is_overdue == 0
    assert _task(due_date=days_from_today(-1), status="Working").is_overdue == 1
    assert _task(due_date=days_from_today(-1), status="Cancelled").is_overdue == 0


def test_task_completion(ctx):
    task = _task(due_date=days_from_today(-2))
    assert task.is_overdue == 1
    task.status = "Completed"
    task.save()
    assert task.completed_on and str(task.completed_on)[:10] == today()
    assert task.is_overdue == 0
    completed_on = str(task.completed_on)
    task.description = "<p>done well</p>"
    task.save()
    assert str(task.completed_on) == completed_on  # kept, not reset on every save
    task.status = "Open"
    task.save()
    assert task.completed_on is None and task.is_overdue == 1


def test_mark_overdue_tasks(ctx):
    late = _task(due_date=today())
    done = _task(due_date=today())
    future = _task(due_date=days_from_today(5))
    # time passes: the due dates are now in the past / the flags stale
    lowcode.db.sql("UPDATE `tabTask` SET `due_date`=%s WHERE `name` IN (%s, %s)",
                   (days_from_today(-1), late.name, done.name))
    lowcode.db.sql("UPDATE `tabTask` SET `status`='Completed', `is_overdue`=1 WHERE `name`=%s", (done.name,))
    lowcode.db.sql("UPDATE `tabTask` SET `is_overdue`=1 WHERE `name`=%s", (future.name,))
    mark_overdue_tasks()
    flags = {n: lowcode.db.get_value("Task", n, "is_overdue") for n in (late.name, done.name, future.name)}
    assert flags == {late.name: 1, done.name: 0, future.name: 0}


def test_overdue_tasks_can_be_listed(ctx, unique):
    _task(subject=f"late {unique}", due_date=days_from_today(-3))
    _task(subject=f"fine {unique}", due_date=days_from_today(3))
    rows = lowcode.get_list("Task", filters=[["subject", "like", f"%{unique}"], ["is_overdue", "=", 1]],
                            pluck="subject")
    assert rows == [f"late {unique}"]


def _notifications(task):
    return lowcode.get_all("Notification Log", fields=["for_user", "subject", "type", "document_type"],
                           filters={"document_type": "Task", "document_name": task})


def test_send_task_reminders(ctx, unique):
    """Assignees of tasks due today or overdue are reminded once. A 'Notification Log'
    is written when that DocType exists (it is being added to the engine); the task's
    reminder_sent flag is set in any case."""
    user = make_user(unique, "remind")
    due = _task(subject=f"due {unique}", assigned_to=user, due_date=today())
    late = _task(subject=f"late {unique}", assigned_to=user, due_date=days_from_today(-4))
    later = _task(subject=f"later {unique}", assigned_to=user, due_date=days_from_today(2))
    closed = _task(subject=f"closed {unique}", assigned_to=user, due_date=today(), status="Completed")
    sent = send_task_reminders()
    assert sent >= 2
    sent_flags = {t.name: lowcode.db.get_value("Task", t.name, "reminder_sent") for t in (due, late, later, closed)}
    assert sent_flags == {due.name: 1, late.name: 1, later.name: 0, closed.name: 0}
    has_log = lowcode.db.table_exists("Notification Log")
    if has_log:
        for task in (due, late):
            logs = _notifications(task.name)
            assert len(logs) == 1
            assert logs[0]["for_user"] == user and logs[0]["type"] == "Alert"
            assert task.subject in logs[0]["subject"]
        assert _notifications(later.name) == [] and _notifications(closed.name) == []
    send_task_reminders()  # a second run reminds nobody again
    if has_log:
        assert len(_notifications(due.name)) == 1
    with as_user(user):
        if has_log:
            mine = lowcode.get_list("Notification Log", filters={"document_name": due.name}, pluck="name")
            assert len(mine) == 1  # the user sees their own notification


def test_reminder_is_sent_again_after_the_due_date_moves(ctx, unique):
    """A task rescheduled after its reminder went out gets a new reminder when it is
    due again."""
    user = make_user(unique, "resched")
    task = _task(assigned_to=user, due_date=today())
    send_task_reminders()
    assert lowcode.db.get_value("Task", task.name, "reminder_sent") == 1
    task.reload()
    task.due_date = days_from_today(7)
    task.save()
    assert lowcode.db.get_value("Task", task.name, "reminder_sent") == 0, \
        "reminder_sent stays set when the due date moves, so the new date is never reminded"


@pytest.mark.parametrize("field, value", [("status", "Someday"), ("priority", "Whenever")])
def test_status_and_priority_are_from_their_lists(ctx, field, value):
    with pytest.raises(ValidationError) as e:
        _task(**{field: value})
    assert e.value.field == field


def test_the_assignee_must_be_a_user(ctx):
    with pytest.raises(LinkValidationError) as e:
        _task(assigned_to="nobody-at-all@example.com")
    assert e.value.field == "assigned_to"


def test_a_private_task_over_rest_is_its_owners_and_assignees(ctx, client, unique):
    owner, assignee, peer = (make_user(unique, n) for n in ("towner", "tassignee", "tpeer"))
    with as_user(owner):
        task = _task(subject=f"private {unique}", assigned_to=assignee, is_private=1)
    auth = {user: token(user) for user in (owner, assignee, peer)}
    refresh(ctx)
    for user in (owner, assignee):
        assert ok(client.get(f"/api/resource/Task/{task.name}", **auth[user]))["data"]["subject"] == f"private {unique}"
    error(client.get(f"/api/resource/Task/{task.name}", **auth[peer]), 403)
    listed = ok(client.get("/api/resource/Task", {"filters": f'{{"subject": "private {unique}"}}'}, **auth[peer]))
    assert listed["data"] == []
