"""Workflows: states a document moves through by actions, each allowed to a role,
optionally guarded by a safe condition (see expressions.py; never ``eval``).

The active workflow of a DocType is enforced for every document through the core
app's ``doc_events["*"]`` (lowcode/hooks.py): new documents start in the first
state; the state field changes through ``apply_workflow``, or on save to a state a transition
the user may take leads to (as Frappe applies workflows on save); a document can be
edited only by the roles the current state's rows name in ``allow_edit`` (a state may
have one row per role, as in Frappe)."""
from .context import local
from .document import get_doc, load_doc
from .exceptions import PermissionError, ValidationError
from .expressions import evaluate
from .permissions import get_roles
from .signals import metadata_changed, receiver


class WorkflowTransitionError(ValidationError):
    pass


def get_workflow(doctype):
    """The active Workflow document of a DocType, or None (cached per metadata version)."""
    cache = _site_cache()
    if doctype not in cache:
        name = None
        if local.db.table_exists("Workflow"):
            rows = local.db.sql("SELECT `name` FROM `tabWorkflow` WHERE `document_type`=%s AND `is_active`=1 "
                                "LIMIT 1", (doctype,), pluck=True)
            name = rows[0] if rows else None
        cache[doctype] = load_doc("Workflow", name) if name else None
    return cache[doctype]


_caches = {}  # site -> {doctype: active Workflow or None}, until the metadata changes


def _site_cache():
    return _caches.setdefault(local.site, {})


def clear_cache(site=None):
    _caches.pop(site or local.site, None)


@receiver(metadata_changed)
def _metadata_changed(sender, site, **kwargs):
    clear_cache(site)


def _state_row(workflow, state):
    return next((s for s in workflow.states if s.state == state), None)


def get_transitions(doc, workflow=None):
    """Transitions the current user may take from the document's state, now."""
    workflow = workflow or get_workflow(doc.doctype)
    if workflow is None or doc.is_new():
        return []
    state = doc.get(workflow.workflow_state_field)
    roles = get_roles()
    out = []
    for t in workflow.transitions:
        if t.state != state:
            continue
        if t.allowed not in roles and local.user != "Administrator":
            continue
        if not int(t.allow_self_approval or 0) and doc.owner == local.user and local.user != "Administrator":
            continue
        if t.condition and not evaluate("eval:" + t.condition, doc, extra={"user": local.user,
                                                                           "roles": sorted(roles)}):
            continue
        if all((t.action, t.next_state) != (o.action, o.next_state) for o in out):
            out.append(t)  # one transition per action, however many roles' rows allow it
    return out


def apply_workflow(doc, action):
    """Take ``action`` on the document: move it to the next state, apply the state's
    field update and docstatus, save, and record the action in the timeline."""
    workflow = get_workflow(doc.doctype)
    if workflow is None:
        raise WorkflowTransitionError(f"{doc.doctype} has no active workflow")
    transition = next((t for t in get_transitions(doc, workflow) if t.action == action), None)
    if transition is None:
        state = doc.get(workflow.workflow_state_field)
        blocked = [t for t in workflow.transitions if t.state == state and t.action == action and t.condition]
        if blocked and (set(t.allowed for t in blocked) & get_roles() or local.user == "Administrator"):
            raise WorkflowTransitionError(f"Action {action!r} is not possible yet: it needs {blocked[0].condition}",
                                          field=workflow.workflow_state_field)
        raise WorkflowTransitionError(f"Action {action!r} is not allowed from state {state!r} for you",
                                      field=workflow.workflow_state_field)
    next_row = _state_row(workflow, transition.next_state)
    field = workflow.workflow_state_field
    previous = doc.get(field)
    doc.set(field, transition.next_state)
    if next_row.update_field:
        doc.set(next_row.update_field, next_row.update_value)
    doc.flags.workflow_action = action
    try:
        target = int(next_row.doc_status or 0)
        if target == 1 and int(doc.docstatus or 0) == 0:
            doc.submit()
        elif target == 2 and int(doc.docstatus or 0) == 1:
            doc.cancel()
        else:
            doc.save()
    finally:
        doc.flags.workflow_action = None
    add_comment(doc.doctype, doc.name, "Workflow", f"{action}: {previous} → {transition.next_state}")
    return doc


def add_comment(doctype, name, comment_type, content):
    return get_doc({"doctype": "Comment", "comment_type": comment_type, "reference_doctype": doctype,
                    "reference_name": name, "content": content, "comment_by": local.user}).insert(
        ignore_permissions=True)


# -- enforcement, wired through lowcode/hooks.py doc_events["*"] ----------------------------------

def before_validate(doc, method=None):
    # ignore_workflow: a Data Import told to skip workflows (history kept in its own states).
    if doc.meta.istable or doc.doctype in _EXEMPT or doc.flags.ignore_workflow:
        return
    workflow = get_workflow(doc.doctype)
    if workflow is None:
        return
    field = workflow.workflow_state_field
    first = workflow.states[0] if workflow.states else None
    if doc.is_new():
        if not doc.get(field) and first is not None:
            doc.set(field, first.state)
            if first.update_field:
                doc.set(first.update_field, first.update_value)
        elif doc.get(field) and first is not None and doc.get(field) != first.state and not doc.flags.ignore_permissions:
            raise WorkflowTransitionError(f"A new {doc.doctype} starts in state {first.state!r}", field=field)
        return
    before = doc._doc_before_save
    if before is None:
        return
    old_state = before.get(field)
    transition = None
    if doc.get(field) != old_state and not doc.flags.workflow_action and not doc.flags.ignore_permissions:
        # As Frappe applies workflows on save: a new state is accepted when a transition
        # the user may take leads to it from the stored state (set_value, PUT, a form).
        transition = next((t for t in get_transitions(before, workflow) if t.next_state == doc.get(field)), None)
        next_row = _state_row(workflow, doc.get(field)) if transition is not None else None
        if transition is None or int(next_row.doc_status or 0) != int(doc.docstatus or 0):
            raise WorkflowTransitionError(f"{field}: no action you may take leads from {old_state!r} to "
                                          f"{doc.get(field)!r}", field=field)
        if next_row.update_field:
            doc.set(next_row.update_field, next_row.update_value)
        add_comment(doc.doctype, doc.name, "Workflow", f"{transition.action}: {old_state} → {doc.get(field)}")
    editors = {s.allow_edit for s in workflow.states if s.state == old_state}
    if editors and transition is None and not doc.flags.workflow_action and not doc.flags.ignore_permissions \
            and local.user != "Administrator" and not editors & get_roles():
        raise PermissionError(f"In state {old_state!r} only {', '.join(sorted(editors))} may edit this {doc.doctype}",
                              doctype=doc.doctype)


_EXEMPT = frozenset(["Comment", "Version", "Workflow", "DocType", "Custom Field", "Property Setter", "File",
                     "Failed Job", "Scheduled Job Type", "DocShare", "User Permission"])

