"""Status badges: the colour of a record's status wherever it shows (list, form, kanban).

The status is the DocType's workflow state field when it has an active workflow, else
its Select field ``status``. Its colour comes, in order, from the Workflow State's
``style`` (Frappe's Primary/Info/Success/Warning/Danger/Inverse), from the apps'
``indicator_rules`` hook (``{"Case": {"Open": "danger"}}``, Frappe's list settings
``get_indicator`` as data), else from Frappe's ``guess_style`` on the words of the
value, else grey. Styles are Bootstrap's ``text-bg-*`` names."""
import markupsafe

from ..apps import get_hooks
from ..context import local
from ..fields import registry
from ..meta import get_meta
from ..workflow import get_workflow

#: Workflow State ``style`` -> Bootstrap colour (Frappe's "Inverse" is the dark badge)
STYLES = {"Primary": "primary", "Info": "info", "Success": "success", "Warning": "warning", "Danger": "danger",
          "Inverse": "dark"}
#: Frappe's guess_style (frappe/public/js/frappe/utils/utils.js): the first list with a
#: word found in the value gives its colour
GUESSES = (
    ("warning", ("Pending", "Review", "Medium", "Not Approved")),
    ("danger", ("Open", "Urgent", "High", "Failed", "Rejected", "Error")),
    ("success", ("Closed", "Finished", "Converted", "Completed", "Complete", "Confirmed", "Approved", "Yes", "Active",
                 "Available", "Paid", "Success")),
    ("info", ("Submitted",)),
)


def status_field(doctype):
    """The fieldname holding the status of ``doctype``'s records, or None."""
    workflow = get_workflow(doctype)
    if workflow is not None:
        return workflow.workflow_state_field
    df = get_meta(doctype).get_field("status")
    return "status" if df is not None and registry[df.fieldtype].option_list else None


def _workflow_styles():
    """{state: style} of every Workflow State with a style; read once per request."""
    key = "_desk_state_styles"
    if key not in local.cache:
        rows = local.db.sql("SELECT `name`, `style` FROM `tabWorkflow State` WHERE `style` IS NOT NULL "
                            "AND `style`!=''", as_dict=True)
        local.cache[key] = {r["name"]: STYLES.get(r["style"], "secondary") for r in rows}
    return local.cache[key]


def _rules(doctype):
    rules = {}
    for value, style in get_hooks("indicator_rules", {}).get(doctype, {}).items():
        rules[value] = style[-1] if isinstance(style, list) else style  # merged hooks: the last app wins
    return rules


def style_for(doctype, value):
    """The Bootstrap colour of ``doctype``'s status ``value``."""
    if not value:
        return "secondary"
    value = str(value)
    if get_workflow(doctype) is not None and value in _workflow_styles():
        return _workflow_styles()[value]
    rule = _rules(doctype).get(value)
    if rule:
        return rule
    for style, words in GUESSES:
        if any(word in value for word in words):
            return style
    return "secondary"


def status_badge(doctype, value, translate):
    """The badge HTML of a status value (``status_badge`` in templates)."""
    if not value:
        return ""
    return markupsafe.Markup('<span class="badge status-badge text-bg-{}" data-status="{}">{}</span>').format(
        style_for(doctype, value), value, translate(str(value)))
