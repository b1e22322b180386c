"""What happened around a case, on its form's timeline (the engine's
``additional_timeline_content`` hook; its own changes, state changes and assignments are
there already as versions and comments): calls, notes, tasks, events and
communications about it, and its time logs. Read with the user's permissions, so a
private note of someone else stays hidden."""
import lowcode
from lowcode.permissions import has_permission
from lowcode.utils import route_for

#: DocType -> (when field, fields making up the line)
ACTIVITIES = {
    "Call Log": ("started_at", ("direction", "phone", "outcome", "notes")),
    "Note": ("creation", ("title",)),
    "Task": ("due_date", ("subject", "status")),
    "Event": ("starts_on", ("subject",)),
    "Communication": ("communication_date", ("subject", "sender")),
}
LIMIT = 200


def _line(row, fields):
    return " · ".join(str(row[f]) for f in fields if row.get(f) not in (None, ""))


def case_timeline(doctype, name):
    items = []
    for dt, (when, fields) in ACTIVITIES.items():
        if not has_permission(dt, "read"):
            continue
        for row in lowcode.get_list(dt, fields=["name", "owner", "creation", when, *fields],
                                    filters={"reference_doctype": doctype, "reference_name": name},
                                    order_by="creation desc", limit_page_length=LIMIT):
            items.append({"when": row[when] or row["creation"], "who": row["owner"], "kind": dt,
                          "content": _line(row, fields) or row["name"], "url": f"/app/{route_for(dt)}/{row['name']}"})
    if has_permission("Case Time Log", "read"):
        for row in lowcode.get_list("Case Time Log", fields=["name", "agent", "from_time", "to_time", "hours",
                                                             "description"],
                                    filters={"case": name}, order_by="from_time desc", limit_page_length=LIMIT):
            hours = lowcode._("{0} h", row["hours"]) if row["to_time"] else lowcode._("timer running")
            items.append({"when": row["from_time"], "who": row["agent"], "kind": "Case Time Log",
                          "content": " · ".join(x for x in (hours, row["description"]) if x),
                          "url": f"/app/case-time-log/{row['name']}"})
    return items
