"""/app/workflow-builder: the list of workflows, and /app/workflow-builder/<name>
(or /new): one workflow's states and transitions in two grids, with a drawing of
the graph and a live check of each transition's condition.

Saving goes through the core Workflow DocType (its controller checks states,
transitions, conditions and fields, and gives the DocType its state field), so the
builder and the plain form agree. The graph is an inline SVG drawn here: states in
rows by their distance from the first state, arrows labelled with the actions."""
import ast
from collections import deque
from urllib.parse import quote

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.translation import gettext as _
from markupsafe import Markup, escape
from simpleeval import EvalWithCompoundTypes

from ... import query
from ...context import local
from ...exceptions import LowcodeError
from ...expressions import _FUNCTIONS
from ...meta import get_meta
from ...permissions import has_permission, role_access
from ..render import render
from .common import desk_view, open_doc

STATE_FIELDS = ("state", "doc_status", "allow_edit", "update_field", "update_value")
TRANSITION_FIELDS = ("state", "action", "next_state", "allowed", "allow_self_approval", "condition")
CHECK_FIELDS = ("allow_self_approval",)
# Names a condition may use (workflow.get_transitions gives doc, user and roles).
CONDITION_NAMES = {"doc", "user", "roles", "true", "false", "null", "None", "True", "False"} | set(_FUNCTIONS)


def _names(doctype, **kwargs):
    """Names of a DocType's records for the pickers, if the user may read them."""
    if role_access(doctype, "read") is None:
        return []
    return query.get_list(doctype, pluck="name", limit_page_length=0, order_by="name asc", **kwargs)


@desk_view
def workflow_list(request):
    rows = query.get_list("Workflow", fields=["name", "document_type", "is_active", "modified"],
                          order_by="modified desc", limit_page_length=0)
    return render("workflow_builder.html", workflows=rows, can_create=has_permission("Workflow", "create"))


@desk_view
def builder(request, name):
    doc = open_doc("Workflow", name)
    if request.method == "GET":
        return _render_builder(doc)
    try:
        if not doc.is_new():
            doc.modified = request.POST.get("modified") or doc.modified
        apply_post(doc, request.POST)
        doc.save()
    except LowcodeError as e:
        local.db.rollback()
        local.db.begin()
        return _render_builder(doc, error=e.message, error_field=e.field, status=e.http_status)
    return HttpResponseRedirect("/app/workflow-builder/" + quote(doc.name))


def _render_builder(doc, error=None, error_field=None, status=200):
    doctypes = [d for d in _names("DocType", filters={"istable": 0, "issingle": 0})]
    fields = []
    if doc.document_type:
        try:
            fields = [df.fieldname for df in get_meta(doc.document_type).data_fields]
        except LowcodeError:
            fields = []
    states = list(dict.fromkeys(_names("Workflow State") + [s.state for s in doc.states if s.state]))
    can_save = has_permission("Workflow", "create" if doc.is_new() else "write", doc=None if doc.is_new() else doc)
    return render("workflow_builder.html", status=status, doc=doc, error=error, error_field=error_field,
                  doctypes=doctypes, fields=fields, states=states, roles=_names("Role"),
                  actions=_names("Workflow Action Master"), can_save=can_save,
                  graph=workflow_svg(doc.states, doc.transitions))


def read_rows(post, table, fieldnames):
    """Rows a grid posted as ``<table>-<i>-<field>``, in order; deleted and empty rows
    left out."""
    indexes = sorted({int(k.split("-")[1]) for k in post
                      if k.startswith(table + "-") and k.split("-")[1].isdecimal()})
    rows = []
    for i in indexes:
        prefix = f"{table}-{i}-"
        if post.get(prefix + "__delete"):
            continue
        row = {}
        for f in fieldnames:
            if f in CHECK_FIELDS:
                row[f] = 1 if post.get(prefix + f) in ("1", "on") else 0
            else:
                row[f] = (post.get(prefix + f) or "").strip() or None
        if any(row.get(f) for f in fieldnames if f not in CHECK_FIELDS):
            rows.append(row)
    return rows


def apply_post(doc, post):
    if doc.is_new():
        doc.workflow_name = (post.get("workflow_name") or "").strip() or None
    doc.document_type = post.get("document_type") or None
    doc.workflow_state_field = (post.get("workflow_state_field") or "").strip() or "workflow_state"
    doc.is_active = 1 if post.get("is_active") in ("1", "on") else 0
    doc.set("states", read_rows(post, "states", STATE_FIELDS))
    doc.set("transitions", read_rows(post, "transitions", TRANSITION_FIELDS))


# -- live helpers -------------------------------------------------------------------------------

@desk_view
def check_condition(request):
    """GET ?condition=...&doctype=...: is the condition valid, and does it name only
    known things? The same parse as the Workflow controller does on save."""
    ok, level, message = condition_problems(request.GET.get("condition"), request.GET.get("doctype"))
    return JsonResponse({"ok": ok, "level": level, "message": message}, json_dumps_params={"ensure_ascii": False})


def condition_problems(condition, doctype=None):
    """(ok, "ok" | "warning" | "error", message) for a transition's condition."""
    text = (condition or "").strip()
    if not text:
        return True, "ok", _("No condition: the action is always offered.")
    try:
        EvalWithCompoundTypes().parse(text)  # exactly what the Workflow controller checks
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        return False, "error", _("Not a valid expression: %(error)s") % {"error": e.msg}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    unknown = sorted(names - CONDITION_NAMES)
    if unknown:
        return True, "warning", _("Unknown name: %(names)s. Use doc.<field>, user or roles.") % {
            "names": ", ".join(unknown)}
    if doctype:
        try:
            meta = get_meta(doctype)
        except LowcodeError:
            meta = None
        if meta is not None:
            used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                    and isinstance(n.value, ast.Name) and n.value.id == "doc"}
            missing = sorted(f for f in used if not meta.has_field(f) and f not in meta.columns)
            if missing:
                return True, "warning", _("%(doctype)s has no field %(fields)s") % {
                    "doctype": doctype, "fields": ", ".join(missing)}
    return True, "ok", _("The condition is valid.")


@desk_view
def graph_preview(request):
    """POST the builder's form: the graph of what is in it now, unsaved."""
    states = read_rows(request.POST, "states", STATE_FIELDS)
    transitions = read_rows(request.POST, "transitions", TRANSITION_FIELDS)
    return HttpResponse(workflow_svg(states, transitions))


# -- the graph ----------------------------------------------------------------------------------

NODE_H = 36
GAP_X = 40
GAP_Y = 80
PAD = 20
LOOP_ROOM = 90
CHAR_W = 7.2
MAX_CHARS = 30
FILL = {0: ("#f8f9fa", "#6c757d"), 1: ("#cfe2ff", "#0d6efd"), 2: ("#f8d7da", "#dc3545")}


def _get(row, key):
    return row.get(key) if hasattr(row, "get") else None


def _short(text):
    text = str(text)
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS - 1] + "…"


def state_depths(names, edges):
    """Breadth-first distance of each state from the first one; states the first
    cannot reach go in one row below the others."""
    adjacent = {n: [] for n in names}
    for a, b in edges:
        adjacent[a].append(b)
    depth = {names[0]: 0}
    queue = deque([names[0]])
    while queue:
        current = queue.popleft()
        for nxt in adjacent[current]:
            if nxt not in depth:
                depth[nxt] = depth[current] + 1
                queue.append(nxt)
    last = max(depth.values()) + 1
    for n in names:
        depth.setdefault(n, last)
    return depth


def workflow_svg(states, transitions):
    """Inline SVG of a workflow (rows or Documents of states and transitions); every
    label is escaped."""
    names = list(dict.fromkeys(_get(s, "state") for s in states if _get(s, "state")))
    if not names:
        return Markup("")
    # Posted rows are drawn before they are validated: an unknown status draws as a draft.
    status = {_get(s, "state"): {"1": 1, "2": 2}.get(str(_get(s, "doc_status") or 0).strip(), 0)
              for s in states if _get(s, "state")}
    grouped = {}
    for t in transitions:
        a, b = _get(t, "state"), _get(t, "next_state")
        if a in status and b in status and _get(t, "action"):
            grouped.setdefault((a, b), []).append(t)
    depth = state_depths(names, list(grouped))
    rows = {}
    for n in names:
        rows.setdefault(depth[n], []).append(n)
    node_w = max(110, min(max(len(_short(n)) for n in names) * CHAR_W + 28, MAX_CHARS * CHAR_W + 28))
    widest = max(len(r) for r in rows.values())
    back_edges = sum(1 for a, b in grouped if a == b or depth[b] <= depth[a])
    width = PAD * 2 + widest * node_w + (widest - 1) * GAP_X + LOOP_ROOM + 16 * back_edges
    height = PAD * 2 + len(rows) * NODE_H + (len(rows) - 1) * GAP_Y + 20
    inner = width - LOOP_ROOM - 16 * back_edges
    pos = {}
    for r, (d, members) in enumerate(sorted(rows.items())):
        row_w = len(members) * node_w + (len(members) - 1) * GAP_X
        x0 = (inner - row_w) / 2 + node_w / 2
        for i, n in enumerate(members):
            pos[n] = (x0 + i * (node_w + GAP_X), PAD + 20 + r * (NODE_H + GAP_Y) + NODE_H / 2)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-graph" role="img" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
           f'style="max-width:100%;height:auto" direction="ltr" font-family="system-ui, sans-serif" font-size="13">',
           f'<title>{escape(_("Workflow graph"))}</title>',
           '<defs><marker id="wf-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#495057"/></marker></defs>']
    half_w, half_h = node_w / 2, NODE_H / 2
    bend = 0
    for (a, b), ts in grouped.items():
        label = _short(" / ".join(dict.fromkeys(str(_get(t, "action")) for t in ts)))
        tip = "; ".join(f"{_get(t, 'action')}: {a} → {b} ({_get(t, 'allowed') or ''})"
                        + (f" if {_get(t, 'condition')}" if _get(t, "condition") else "") for t in ts)
        (xa, ya), (xb, yb) = pos[a], pos[b]
        if a == b:
            sx = xa + half_w
            path = (f"M{sx:.1f},{ya - 8:.1f} C{sx + 50:.1f},{ya - 34:.1f} "
                    f"{sx + 50:.1f},{ya + 34:.1f} {sx:.1f},{ya + 8:.1f}")
            lx, ly, anchor = sx + 44, ya - 22, "start"
        elif depth[b] > depth[a]:
            path = f"M{xa:.1f},{ya + half_h:.1f} L{xb:.1f},{yb - half_h:.1f}"
            lx, ly, anchor = (xa + xb) / 2, (ya + yb) / 2, "middle"
        else:
            # Back (or sideways) edges bend out to the right, each a little further.
            bend += 1
            sx, ex = xa + half_w, xb + half_w
            cx = max(xa, xb) + half_w + 40 + 16 * bend
            cy = (ya + yb) / 2 if ya != yb else ya - NODE_H - 10
            path = f"M{sx:.1f},{ya:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{yb:.1f}"
            lx, ly, anchor = 0.25 * sx + 0.5 * cx + 0.25 * ex, 0.25 * ya + 0.5 * cy + 0.25 * yb, "middle"
        out.append(f'<g class="wf-edge"><title>{escape(tip)}</title>'
                   f'<path d="{path}" fill="none" stroke="#495057" stroke-width="1.5" marker-end="url(#wf-arrow)"/>'
                   f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" dominant-baseline="middle" '
                   f'font-size="12" fill="#212529" stroke="#fff" stroke-width="4" paint-order="stroke">'
                   f'{escape(label)}</text></g>')
    for n in names:
        x, y = pos[n]
        fill, stroke = FILL.get(status[n], FILL[0])
        out.append(f'<g class="wf-state"><title>{escape(n)}</title>'
                   f'<rect x="{x - half_w:.1f}" y="{y - half_h:.1f}" width="{node_w:.1f}" height="{NODE_H}" rx="8" '
                   f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
                   f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" dominant-baseline="central" fill="#212529">'
                   f'{escape(_short(n))}</text></g>')
    out.append("</svg>")
    return Markup("".join(out))
