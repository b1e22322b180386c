"""The workspaces block of the desk home (/app): each workspace the user may see (their
own, and public ones through their share) with its shortcuts, number cards and charts.

Shortcuts to what the user cannot open are left out; every card value and chart is
computed for the user through the permission-checked query layer (Number Card
get_value, Dashboard Chart get_data), so a user without read access to a DocType sees
no card or chart of it, and the others show only rows the user may read."""
from urllib.parse import quote

from django.utils import translation

from ... import query
from ...context import local
from ...database.replicas import reads_from_replica
from ...document import get_doc
from ...exceptions import LowcodeError, PermissionError
from ...fields import registry
from ...i18n import translate
from ...meta import get_meta
from ...permissions import has_permission, role_access
from ...utils import route_for
from ..doctype.workspace.workspace import shown_to
from ..formatting import period_label
from ..render import prefs
from .query_report import may_run, page_url
from .report import saved_report_url


def home_workspaces():
    rows = query.get_list("Workspace", fields=["name"],
                          or_filters=[["owner", "=", local.user], ["is_public", "=", 1]],
                          order_by="sequence_id asc, label asc", limit_page_length=50)
    out = []
    for row in rows:
        ws = get_doc("Workspace", row["name"])
        if not shown_to(ws):
            continue
        out.append({"name": ws.name, "label": ws.label, "shortcuts": shortcuts(ws),
                    "cards": [c for c in (number_card(r.number_card) for r in ws.number_cards) if c],
                    "charts": [c for c in (chart(r.chart, r.width) for r in ws.charts) if c]})
    return out


def shortcuts(ws):
    out = []
    for row in ws.shortcuts:
        label = row.label or row.link_to
        if row.type == "URL":
            out.append({"label": label, "url": row.link_to})
        elif row.type == "DocType":
            if local.db.exists("DocType", row.link_to) and has_permission(row.link_to, "read"):
                # Frappe's stats_filter: the shortcut opens the list with these filters
                query_string = f"?filters={quote(row.stats_filter, safe='')}" if row.stats_filter else ""
                out.append({"label": row.label or row.link_to, "url": f"/app/{route_for(row.link_to)}{query_string}",
                            "translate": not row.label})
        elif row.type == "Report":
            if may_run(row.link_to):  # a Script Report opens on its page (views/query_report.py)
                out.append({"label": label, "url": page_url(row.link_to)})
                continue
            found = query.get_list("Report", fields=["name", "ref_doctype"], filters={"name": row.link_to},
                                   limit_page_length=1)
            if found and role_access(found[0]["ref_doctype"], "report") is not None:
                out.append({"label": label, "url": saved_report_url(found[0]["name"], found[0]["ref_doctype"])})
    return out


def _load(doctype, name):
    """A card or chart definition the user may read, else None."""
    if not local.db.exists(doctype, name):
        return None
    doc = get_doc(doctype, name)
    return doc if has_permission(doctype, "read", doc=doc) else None


@reads_from_replica
def number_card(name):
    card = _load("Number Card", name)
    if card is None:
        return None
    out = {"name": card.name, "label": card.label, "color": card.color, "doctype": card.document_type,
           "route": route_for(card.document_type), "value": None, "error": None,
           "df": {"fieldtype": "Int", "fieldname": "value"}}
    try:
        out["value"] = card.get_value()
    except PermissionError:
        return None
    except LowcodeError as e:  # a card broken by a later change of its DocType says so
        out["error"] = e.message
        return out
    if card.function != "Count":
        df = get_meta(card.document_type).get_field(card.aggregate_function_based_on)
        if df is not None:
            average = registry[df.fieldtype].average_type if card.function == "Average" else None
            out["df"] = dict(df, fieldtype=average or df.fieldtype)
    return out


@reads_from_replica
def chart(name, width=None):
    doc = _load("Dashboard Chart", name)
    if doc is None:
        return None
    out = {"name": doc.name, "label": doc.chart_name, "wide": width == "Full", "error": None, "data": None}
    p = prefs()
    try:
        data = doc.get_data(calendar=p.calendar)  # a Jalali user's months are Jalali months
    except PermissionError:
        return None
    except LowcodeError as e:
        out["error"] = e.message
        return out
    with translation.override(p.lang):  # group values (a status, a stage) as the template's _() shows them
        labels = [period_label(label, data["interval"], p) if data["dates"] else ("" if label is None else translate(str(label)))
                  for label in data["labels"]]
        title = translate(doc.chart_name)
    out["data"] = {"type": data["type"], "labels": labels, "values": data["values"], "name": title,
                   "color": doc.color, "dates": data["dates"]}
    out["rows"] = list(zip(labels, data["values"]))
    return out
