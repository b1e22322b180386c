"""publish_realtime: events reach listeners after commit, never after a rollback."""
import lowcode
from lowcode.context import local
from lowcode.realtime import add_listener, publish_realtime, remove_listener, room_for


def test_rooms_follow_frappe_names():
    assert room_for(user="a@x") == "user:a@x"
    assert room_for(doctype="Lead", docname="L-1") == "doc:Lead/L-1"
    assert room_for(doctype="Lead") == "doctype:Lead"
    assert room_for() == "all"


def test_events_are_sent_after_commit_only(ctx):
    seen = []
    fn = add_listener(seen.append)
    try:
        publish_realtime("ping", {"n": 1}, user="Administrator")
        assert seen == []
        local.db.rollback()
        assert seen == []
        publish_realtime("ping", {"n": 2}, doctype="Lead")
        local.db.commit()
        assert [(p["event"], p["message"], p["room"]) for p in seen] == [("ping", {"n": 2}, "doctype:Lead")]
        publish_realtime("now", None, after_commit=False)
        assert seen[-1]["event"] == "now" and seen[-1]["site"] == local.site
    finally:
        remove_listener(fn)
