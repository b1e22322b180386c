"""The metadata-changed signal (lowcode/signals.py), on both engines: a change made in
this process reaches every subscribed cache at once and again after the commit; a change
made by another process reaches them at its next request or job, through the metadata
version in the database; the caches (hooks, workflows) are dropped by their own modules."""
import contextlib

import lowcode
from lowcode import apps, caches, meta, workflow
from lowcode.signals import metadata_changed


@contextlib.contextmanager
def listening():
    heard = []

    def listener(sender, site, **kwargs):
        heard.append(site)

    metadata_changed.connect(listener)
    try:
        yield heard
    finally:
        metadata_changed.disconnect(listener)


def test_a_change_here_is_announced_at_once_and_after_the_commit(ctx, make_doctype):
    make_doctype([{"fieldname": "subject", "fieldtype": "Data"}])  # opens the site's connection
    with listening() as heard:
        meta.clear_cache()
        assert heard == [ctx.site]
        ctx.db.commit()
        assert heard == [ctx.site, ctx.site]  # what was read meanwhile may have been uncommitted


def test_another_process_change_is_announced_at_the_next_request(ctx, make_doctype):
    make_doctype([{"fieldname": "subject", "fieldtype": "Data"}])
    meta.check_version()
    with listening() as heard:
        meta.check_version()
        assert heard == []  # nothing moved: every cache is kept
        caches.bump_meta_version()  # what another process's metadata change commits
        meta.check_version()
        assert heard == [ctx.site]
        meta.check_version()
        assert heard == [ctx.site]


def test_the_hooks_are_merged_again_after_a_metadata_change(ctx, make_doctype):
    make_doctype([{"fieldname": "subject", "fieldtype": "Data"}])
    before = apps.get_hooks()
    assert apps.get_hooks() is before  # cached
    metadata_changed.send("test", site=ctx.site)
    after = apps.get_hooks()
    assert after is not before and after == before


def test_a_workflow_applies_and_goes_through_the_signal_alone(ctx, make_doctype, unique):
    """Saving or deleting a Workflow changes the metadata; workflow.py, subscribed,
    forgets the active workflow it remembered for the DocType."""
    states = [f"Open {unique}", f"Done {unique}"]
    for state in states:
        lowcode.get_doc({"doctype": "Workflow State", "workflow_state_name": state}).insert()
    dt = make_doctype([{"fieldname": "subject", "fieldtype": "Data"},
                       {"fieldname": "status", "fieldtype": "Select", "options": "\n".join(states)}])
    assert workflow.get_workflow(dt) is None  # remembered: no workflow
    wf = lowcode.get_doc({"doctype": "Workflow", "workflow_name": f"Flow {unique}", "document_type": dt,
                          "is_active": 1, "workflow_state_field": "status",
                          "states": [{"state": s, "allow_edit": "System Manager"} for s in states],
                          "transitions": [{"state": states[0], "action": "Finish", "next_state": states[1],
                                           "allowed": "System Manager", "allow_self_approval": 1}]}).insert()
    assert workflow.get_workflow(dt).name == wf.name
    doc = lowcode.get_doc({"doctype": dt, "subject": "s"}).insert()
    assert doc.status == states[0]
    workflow.apply_workflow(doc, "Finish")
    assert lowcode.db.get_value(dt, doc.name, "status") == states[1]
    lowcode.delete_doc("Workflow", wf.name)
    assert workflow.get_workflow(dt) is None


def test_an_app_installed_here_gives_its_controller_at_once(ctx, make_doctype, temp_app, unique):
    """document.py remembers each DocType's class per site and forgets it on the signal:
    installing an app that overrides the class is seen by the next document built."""
    from lowcode.document import Document, get_controller
    from lowcode.installer import install_app
    dt = make_doctype([{"fieldname": "subject", "fieldtype": "Data"}])
    assert get_controller(dt) is Document  # remembered
    name = f"tmpapp_{unique}_ctl"
    app = temp_app(hooks=f"override_doctype_class = {{{dt!r}: '{name}.controller.Mine'}}\n", name=name)
    app.write("controller.py", "from lowcode.document import Document\n\n\nclass Mine(Document):\n    pass\n")
    install_app(name)
    assert type(lowcode.new_doc(dt)).__name__ == "Mine"
