"""/app/<doctype-route>/view/kanban: a DocType's documents as cards in columns, one
column per value of a Select field, a Link field or the workflow state.

Cards are read through the permission-checked query layer with the list view's
filters. Moving a card (``/view/kanban/move``) changes the document exactly as the
form would: a plain field is set and the document saved (validation, permissions
and permission levels, hooks, versions, the stale-write check with the card's
``modified``); the workflow state changes only by a transition the user may take."""
import json
import re
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlencode

from django.http import JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

from ... import document as documents
from ... import query
from ...context import local
from ...exceptions import BadRequest, InvalidFieldError, LowcodeError, PermissionError, ValidationError
from ...fields import links_to, registry, types_where
from ...fields.choice import select_options
from ...meta import get_meta
from ...permissions import get_permlevels, has_permission, permitted_fieldnames
from ...workflow import WorkflowTransitionError, apply_workflow, get_transitions, get_workflow
from ..badges import link_targets
from ..link_titles import link_titles, prefetch_user_names
from ..render import prefs, render
from .common import desk_view, doctype_for_route
from .form import field_states
from .listview import OTHER_VIEWS, read_filters

CARDS_PER_COLUMN = 50
#: a Link board also shows the target's unused documents as empty columns when there
#: are at most this many of them (more would bury the columns that hold cards)
LINK_COLUMNS_MAX = 20
VIEW_PARAMS = ("field",)


def in_user_language(view):
    """Messages made in the view (errors, labels) come out in the user's language,
    like the templates that show them."""
    import functools

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        with translation.override(prefs().lang):
            return view(request, *args, **kwargs)
    return wrapper


def view_filters(request, meta, params=VIEW_PARAMS):
    """The list view's query-string filters, minus this view's own parameters: a
    DocType may well have a field named like one of them (``date``, ``field``), and a
    view parameter is never a filter on it."""
    args = request.GET.copy()
    for key in params:
        args.pop(key, None)
    return read_filters(SimpleNamespace(GET=args), meta)


def filter_bar(request, meta, params=VIEW_PARAMS):
    """The standard filters to offer (not those named like a view parameter, which
    are no filters) and whether any filter is on, to show them opened on a phone."""
    readable = set(permitted_fieldnames(meta.name))
    standard = [df for df in meta.data_fields if df.in_standard_filter and df.fieldname in readable
                and df.fieldname not in params]
    return {"standard_filters": standard,
            "filtered": bool(request.GET.get("filters")) or any(request.GET.get(df.fieldname) for df in standard)}


def board_fields(meta, workflow):
    """Fields a board can group by, among those the user may read."""
    readable = set(permitted_fieldnames(meta.name))
    state_field = workflow.workflow_state_field if workflow else None
    return [df for df in meta.data_fields if df.fieldname in readable and (
        df.fieldname == state_field or ((registry[df.fieldtype].option_list or links_to(df)) and not df.hidden))]


def default_field(fields, workflow):
    """The workflow state, else the first Select offered as a standard filter, else the
    first Select, else the first Link."""
    for test in (lambda df: workflow is not None and df.fieldname == workflow.workflow_state_field,
                 lambda df: registry[df.fieldtype].option_list and df.in_standard_filter,
                 lambda df: registry[df.fieldtype].option_list,
                 lambda df: True):
        found = next((df for df in fields if test(df)), None)
        if found is not None:
            return found
    return None


def column_values(df, workflow, counts):
    """The values that get a column, in order: the workflow's states, the Select's
    options, or for a Link the values in use (plus every target document when there
    are few). Values in use but no longer listed (an option removed since) keep a
    column, so no card disappears; documents without a value come first."""
    if workflow is not None and df.fieldname == workflow.workflow_state_field:
        values = list(dict.fromkeys(s.state for s in workflow.states))  # one row per role and state
    elif registry[df.fieldtype].option_list:
        values = [o for o in select_options(df) if o]
    else:
        values = sorted(v for v in counts if v)
        try:
            targets = query.get_list(df.options, pluck="name", order_by="name asc",
                                     limit_page_length=LINK_COLUMNS_MAX + 1)
        except LowcodeError:
            targets = []  # the user cannot list the target: the values in use are enough
        if len(targets) <= LINK_COLUMNS_MAX:
            values += [t for t in targets if t not in counts]
    values += [v for v in counts if v and v not in values]
    return ([""] if counts.get("") else []) + values


def column_filter(fieldname, value):
    return [fieldname, "is", "not set"] if value == "" else [fieldname, "=", value]


def card_fieldnames(meta, fieldname):
    """Two or three list-view fields besides the title and the column's own field."""
    readable = set(permitted_fieldnames(meta.name))
    title = meta.get_title_field()
    return [f for f in meta.get_list_view_fields() if f in readable and f not in (title, fieldname)][:3]


def total_fields(meta, fieldname):
    """(amount, probability): the field summed under each column, the first readable
    Currency field shown in the list, and a readable ``probability`` Percent field that
    weights it (an Opportunity's expected revenue); either may be None."""
    readable = set(permitted_fieldnames(meta.name))
    amount = next((df for df in meta.data_fields if df.fieldtype in types_where("amount") and df.in_list_view
                   and df.fieldname in readable and df.fieldname != fieldname), None)
    probability = meta.get_field("probability")
    if amount is None or probability is None or probability.fieldtype != "Percent" \
            or "probability" not in readable:
        probability = None
    return amount, probability


def column_totals(doctype, fieldname, filters, amount, probability):
    """{value: {count, amount, weighted}} from one grouped, permission-checked query;
    with a probability the rows are grouped by it too (few distinct values) and the
    weighted sum is made here, exactly, from the per-probability sums."""
    fields = [fieldname, "count(*) as count"]
    group_by = fieldname
    if amount is not None:
        fields.append(f"sum({amount.fieldname}) as amount")
    if probability is not None:
        fields.append(probability.fieldname)
        group_by += "," + probability.fieldname
    totals = {}
    for row in query.get_list(doctype, fields=fields, filters=filters, group_by=group_by, limit_page_length=0):
        total = totals.setdefault(row[fieldname] or "", {"count": 0, "amount": Decimal(0), "weighted": Decimal(0)})
        total["count"] += int(row["count"])
        if amount is not None:
            summed = Decimal(str(row["amount"] or 0))
            total["amount"] += summed
            if probability is not None:
                total["weighted"] += summed * Decimal(str(row[probability.fieldname] or 0)) / 100
    return totals


def condition_fields(meta, workflow):
    """The fields the workflow's transition conditions read (``doc.x``), fetched with the
    cards so conditions are checked on each card's row; None when a condition reads
    something a row cannot hold (a child table, a field the user may not read), in
    which case those cards' documents are loaded."""
    names = set()
    for t in workflow.transitions if workflow is not None else ():
        names.update(re.findall(r"\bdoc\.(\w+)", t.condition or ""))
    readable = set(permitted_fieldnames(meta.name)) | {"name", "owner"}
    if any(n not in readable for n in names):  # readable holds data fields only, no child tables
        return None
    return sorted(names)


def card_moves(doctype, meta, workflow, df, rows, values):
    """For each card (by name) the column values its Move to list offers: for a
    workflow state, the card's own state and those the user may move it to now (the
    transitions allowed for the user's roles from the card's state, with their
    conditions); otherwise every column."""
    if workflow is None or df.fieldname != workflow.workflow_state_field:
        return {row["name"]: values for row in rows}
    from_rows = condition_fields(meta, workflow) is not None
    moves = {}
    for row in rows:
        state = row.get(df.fieldname) or ""
        doc = _CardDoc(doctype, row) if from_rows else documents.get_doc(doctype, row["name"])
        targets = {t.next_state for t in get_transitions(doc, workflow)}
        moves[row["name"]] = [v for v in values if v == state or v in targets]
    return moves


class _CardDoc(dict):
    """A card's row standing in for its document in get_transitions, which reads the
    state, the owner, is_new and the fields the conditions name (all in the row)."""
    def __init__(self, doctype, row):
        super().__init__(row)
        self.doctype, self.owner = doctype, row.get("owner")

    def is_new(self):
        return False


def load_board(doctype, route, meta, df, workflow, filters):
    """([{value, count, amount, weighted, rows, moves, list_url}] per column, with at most
    CARDS_PER_COLUMN rows each; the amount field; the titles of the cards' links): one
    grouped totals query, then one query per column that has cards."""
    fieldname = df.fieldname
    amount, probability = total_fields(meta, fieldname)
    totals = column_totals(doctype, fieldname, filters, amount, probability)
    counts = {value: total["count"] for value, total in totals.items()}
    title = meta.get_title_field()
    shown = card_fieldnames(meta, fieldname)
    readable = set(permitted_fieldnames(meta.name))
    dynamic = [df.options for df in map(meta.get_field, shown)
               if registry[df.fieldtype].options_field and df.options in readable]  # the doctype each one names
    fields = list(dict.fromkeys(["name", "owner", "modified", title, fieldname] + shown + dynamic
                                + (condition_fields(meta, workflow) or [])))
    values = column_values(df, workflow, counts)
    columns = []
    for value in values:
        where = filters + [column_filter(fieldname, value)]
        rows = query.get_list(doctype, fields=fields, filters=where, limit_page_length=CARDS_PER_COLUMN) \
            if counts.get(value) else []
        total = totals.get(value, {})
        columns.append({"value": value, "count": counts.get(value, 0), "rows": rows,
                        "amount": total.get("amount", 0) if amount is not None else None,
                        "weighted": total.get("weighted", 0) if probability is not None else None,
                        "moves": card_moves(doctype, meta, workflow, df, rows, values),
                        "list_url": f"/app/{route}?" + urlencode({"filters": json.dumps(where, ensure_ascii=False)})})
    cards = [row for col in columns for row in col["rows"]]
    prefetch_user_names(list(map(meta.get_field, shown)), cards)
    return columns, amount, link_titles(link_targets(meta, cards))


def can_move_cards(doctype, df, workflow):
    """Whether to offer dragging at all; the move itself is checked again in full."""
    if not has_permission(doctype, "write"):
        return False
    if workflow is not None and df.fieldname == workflow.workflow_state_field:
        return True
    return int(df.permlevel or 0) in get_permlevels(doctype, "write") and not df.read_only


@desk_view
@in_user_language
def kanban_view(request, route):
    doctype = doctype_for_route(route)
    meta = get_meta(doctype)
    workflow = get_workflow(doctype)
    context = {"meta": meta, "doctype": doctype, "route": route, "args": request.GET, "columns": [],
               "fields": [], "field": None, "error": None, "card_fields": [], "title_field": meta.get_title_field(),
               "can_create": has_permission(doctype, "create"), "can_move": False, "standard_filters": [],
               "filtered": False, "amount_field": None, "link_titles": {}}
    status = 200
    if not has_permission(doctype, "read"):
        context["error"] = _("You are not permitted to read %(doctype)s") % {"doctype": _(doctype)}
        return render("kanban.html", status=403, **context)
    fields = board_fields(meta, workflow)
    df = next((f for f in fields if f.fieldname == request.GET.get("field")), None) or default_field(fields, workflow)
    context.update(fields=fields, field=df, **filter_bar(request, meta))
    if df is None:
        context["error"] = _("%(doctype)s has no Select or Link field to group by") % {"doctype": _(doctype)}
        return render("kanban.html", **context)
    try:
        filters = view_filters(request, meta)
        context["columns"], context["amount_field"], context["link_titles"] = load_board(
            doctype, route, meta, df, workflow, filters)
    except LowcodeError as e:
        context["error"] = e.message
        status = e.http_status
    context.update(card_fields=[meta.get_field(f) for f in card_fieldnames(meta, df.fieldname)],
                   can_move=can_move_cards(doctype, df, workflow),
                   is_workflow=workflow is not None and df.fieldname == workflow.workflow_state_field)
    return render("kanban.html", status=status, **context)


@in_user_language
def move_card(request, route):
    """POST name, field, value, modified: move one card to another column. Answers
    {name, value, modified}, or an error as JSON {exc_type, message} with its HTTP
    status (the middleware turns raised errors into that and rolls back)."""
    if local.user == "Guest":
        raise PermissionError(_("Log in to move cards"))  # Guest: 403, as Frappe answers
    if request.method != "POST":
        raise BadRequest(_("Moving a card needs a POST request"))
    doctype = doctype_for_route(route)
    meta = get_meta(doctype)
    workflow = get_workflow(doctype)
    name, fieldname = request.POST.get("name"), request.POST.get("field")
    value = request.POST.get("value") or None
    if not name:
        raise BadRequest(_("Which document to move is missing (name)"), field="name")
    doc = documents.get_doc(doctype, name)
    doc.check_permission("read")
    doc.check_permission("write")
    df = next((f for f in board_fields(meta, workflow) if f.fieldname == fieldname), None)
    if df is None:
        raise InvalidFieldError(_("%(doctype)s cannot be grouped by %(field)s")
                                % {"doctype": doctype, "field": fieldname}, field=fieldname)
    if request.POST.get("modified"):
        doc.modified = request.POST["modified"]  # the card's version: refuse if someone saved since
    if workflow is not None and fieldname == workflow.workflow_state_field:
        move_by_workflow(doc, workflow, value)
    else:
        if df.read_only or field_states(doc, meta).get(fieldname, {}).get("read_only"):
            raise ValidationError(_("%(field)s is read-only") % {"field": _(df.label or fieldname)}, field=fieldname)
        doc.set(fieldname, value)
        doc.save()
    modified = query.get_value(doctype, doc.name, "modified")
    answer = {"name": doc.name, "value": doc.get(fieldname), "modified": str(modified or doc.modified)}
    if workflow is not None and fieldname == workflow.workflow_state_field:
        # the card's Move to list changes with its state: the states it may go to now
        targets = {t.next_state for t in get_transitions(doc, workflow)}
        answer["moves"] = [v for v in dict.fromkeys(s.state for s in workflow.states)
                           if v == doc.get(fieldname) or v in targets]
    return JsonResponse(answer, json_dumps_params={"ensure_ascii": False})


def move_by_workflow(doc, workflow, state):
    """Take the transition (the first, if several) that leads from the document's state
    to ``state`` and that the user may take now."""
    current = doc.get(workflow.workflow_state_field)
    if state == current:
        return
    transition = next((t for t in get_transitions(doc, workflow) if t.next_state == state), None)
    if transition is None:
        raise WorkflowTransitionError(
            _("No action you may take moves %(doctype)s %(name)s from %(from)s to %(to)s")
            % {"doctype": doc.doctype, "name": doc.name, "from": current or _("Not set"), "to": state or _("Not set")},
            field=workflow.workflow_state_field)
    apply_workflow(doc, transition.action)


OTHER_VIEWS["kanban"] = kanban_view
