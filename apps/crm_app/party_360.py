"""The 360° view of a party: a Customer (crm_app/customer_360.py adds its sales on top),
a Supplier, a Sales Partner or an Employee. One module for what every party has: its
contacts and addresses (through Dynamic Link), its Party Relations in both directions,
the activities and communications that name it, its files, and sections other code
adds through the ``party_360_sections`` hook ({DocType or "*": [fn(doctype, name) ->
None or a section]}, a section shaped as customer_360's: {"key", "title", "doctype",
"columns", "rows", "figures"}).

Everything is read through the permission-filtered query API (lowcode.get_list) asking
only for fields at the user's permission levels, so a user sees only the rows and
fields they may read; the party itself is shown as the user may see it."""
from django.utils import translation

import lowcode
from lowcode import _
from lowcode.apps import get_attr
from lowcode.client import doc_for_user
from lowcode.desk.render import prefs, render
from lowcode.desk.views.common import desk_view
from lowcode.exceptions import ValidationError
from lowcode.meta import STANDARD_FIELDS
from lowcode.permissions import permitted_fieldnames
from lowcode.utils import Obj

# The parties with a view of their own here (the customer's is customer_360.py's).
PARTIES = ("Supplier", "Sales Partner", "Employee")
ACTIVITIES = (("Call Log", "started_at", "phone"), ("Event", "starts_on", "subject"), ("Task", "due_date", "subject"),
              ("Note", "creation", "title"), ("Communication", "communication_date", "subject"))
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
SECTION_ROWS = 20  # rows a section lists (its figures count them all)


def rows(doctype, fields, limit=0, **kwargs):
    """get_list of the fields the user may read among ``fields``; the others are None.
    Returns (rows, the readable field names); none when the user may not read the DocType
    at all (a Purchase User's view of a supplier has no activities, rather than no view)."""
    if not lowcode.has_permission(doctype, "read"):
        return [], set()
    readable = set(permitted_fieldnames(doctype)) | set(STANDARD_FIELDS)
    found = lowcode.get_list(doctype, fields=[f for f in fields if f in readable], limit_page_length=limit, **kwargs)
    return [{f: r.get(f) for f in fields} for r in found], readable


def _linked(doctype, name):
    return [["Dynamic Link", "link_doctype", "=", doctype], ["Dynamic Link", "link_name", "=", name]]


def contacts(doctype, name):
    return rows("Contact", ["name", "full_name", "email_id", "mobile_no"], filters=_linked(doctype, name))[0]


def addresses(doctype, name):
    return rows("Address", ["name", "address_title", "address_type", "address_line1", "city", "country"],
                filters=_linked(doctype, name))[0]


def titles(doctype, names):
    """{name: title} of the records among ``names`` the user may read (no title for the others)."""
    names = sorted({n for n in names if n})
    if not names:
        return {}
    title = lowcode.get_meta(doctype).get_title_field()
    found, _readable = rows(doctype, ["name", title], filters=[["name", "in", names]])
    return {r["name"]: r[title] for r in found}


def relations(doctype, name):
    """The party's relations both ways: [{"name", "relation", "direction" ("to": this party
    is the relation's subject, "from": the other party is), "party_type", "party", "title"}]."""
    fields = ["name", "from_type", "from_party", "relation", "to_type", "to_party"]
    out = []
    for mine, other, direction in (("from", "to", "to"), ("to", "from", "from")):
        found, _readable = rows("Party Relation", fields,
                                filters=[[f"{mine}_type", "=", doctype], [f"{mine}_party", "=", name]])
        out += [{"name": r["name"], "relation": r["relation"], "direction": direction,
                 "party_type": r[f"{other}_type"], "party": r[f"{other}_party"]} for r in found]
    by_type = {}
    for r in out:
        by_type.setdefault(r["party_type"], []).append(r["party"])
    known = {t: titles(t, names) for t, names in by_type.items()}
    for r in out:
        r["title"] = known[r["party_type"]].get(r["party"])
    return sorted(out, key=lambda r: (r["relation"], r["title"] or r["party"]))


def activities(filters):
    """Timeline items of the calls, meetings, tasks, notes and communications matching
    ``filters`` that the user may read (others' private ones stay out)."""
    items = []
    for doctype, when_field, title_field in ACTIVITIES:
        readable = set(permitted_fieldnames(doctype)) | set(STANDARD_FIELDS)
        order = when_field if when_field in readable else "creation"
        found, _readable = rows(doctype, ["name", when_field, title_field], filters=filters,
                                order_by=f"{order} desc", limit=500)
        items += [{"when": str(a[when_field] or "")[:19], "doctype": doctype, "name": a["name"],
                   "title": a[title_field], "detail": ""} for a in found]
    return items


def files(records):
    """Timeline items of the files attached to ``records`` [(doctype, name)]."""
    items = []
    for doctype, name in records:
        for f in lowcode.get_all("File", fields=["file_name", "file_url", "creation"],
                                 filters={"attached_to_doctype": doctype, "attached_to_name": name}):
            items.append({"when": str(f["creation"])[:19], "doctype": "File", "name": f["file_url"],
                          "title": f["file_name"], "detail": ""})
    return items


def sections(doctype, name):
    hooks = lowcode.get_hooks("party_360_sections", {})
    paths = [p for key in (doctype, "*") for p in _as_list(hooks.get(key))]
    return [s for s in (get_attr(path)(doctype, name) for path in paths) if s]


def _as_list(value):
    return [] if not value else [value] if isinstance(value, str) else list(value)


@lowcode.whitelist()
def get_party_360(doctype: str, name: str):
    """The 360° view of a Supplier, Sales Partner or Employee the user may read."""
    if doctype not in PARTIES:
        raise ValidationError(f"doctype must be one of {', '.join(PARTIES)}, not {doctype!r}",
                              field="doctype")
    doc = lowcode.get_doc(doctype, name)
    doc.check_permission("read")
    timeline = activities([["reference_doctype", "=", doctype], ["reference_name", "=", name]])
    timeline += files([(doctype, name)])
    timeline.sort(key=lambda item: item["when"], reverse=True)
    title_field = doc.meta.get_title_field()
    party = doc_for_user(doc)
    # the party's list and filter fields it has a value in (and the user may read: doc_for_user)
    details = [Obj(fieldname=df.fieldname, fieldtype=df.fieldtype, options=df.options, label=_(df.label),
                   value=party[df.fieldname]) for df in doc.meta.data_fields
               if (df.get("in_list_view") or df.get("in_standard_filter")) and not df.get("hidden")
               and df.fieldname != title_field and party.get(df.fieldname) not in (None, "", 0)]
    return {"doctype": doctype, "party": party, "title": party.get(title_field) or doc.name, "details": details,
            "contacts": contacts(doctype, name), "addresses": addresses(doctype, name),
            "relations": relations(doctype, name), "timeline": timeline, "sections": sections(doctype, name)}


# -- the employee's own work, as sections of the employee's view (hooks.py) -------------------

def _user_of(employee, doctype):
    """The employee's user, when the viewer may read ``doctype`` (else the section is left out)."""
    return lowcode.db.get_value("Employee", employee, "user_id") if lowcode.has_permission(doctype, "read") else None


def _figure(key, label, value, fieldtype):
    return {"key": key, "label": label, "value": value, "fieldtype": fieldtype}


def _sum(doctype, field, filters):
    """The sum of ``field`` over the rows the user may read, None when the field is above
    their permission level."""
    if field not in permitted_fieldnames(doctype):
        return None
    found = lowcode.get_list(doctype, fields=[f"sum({field}) as total"], filters=filters, limit_page_length=0,
                             order_by=None, group_by=None)
    return round(float((found[0]["total"] if found else 0) or 0), 2)


def _section(key, title, doctype, columns, filters, figures, order_by):
    listed, _readable = rows(doctype, ["name"] + [c[0] for c in columns], filters=filters, order_by=order_by,
                             limit=SECTION_ROWS)
    meta = lowcode.get_meta(doctype)
    return {"key": key, "title": title, "doctype": doctype, "rows": listed, "figures": figures,
            "columns": [{"field": f, "label": _(meta.get_field(f).label), "fieldtype": t} for f, t in columns]}


def employee_leads(doctype, employee):
    """The leads the employee's user owns (lead_owner)."""
    user = _user_of(employee, "Lead")
    if not user:
        return None
    mine = [["lead_owner", "=", user]]
    open_ = mine + [["status", "in", ["New", "Contacted", "Qualified"]]]
    return _section("employee-leads", _("Leads owned"), "Lead",
                    [("lead_name", "Data"), ("company_name", "Data"), ("status", "Select")], mine,
                    [_figure("leads", _("Leads"), lowcode.get_count("Lead", filters=mine), "Int"),
                     _figure("open_leads", _("Open leads"), lowcode.get_count("Lead", filters=open_), "Int")],
                    "creation desc")


def employee_opportunities(doctype, employee):
    """The opportunities the employee's user owns (opportunity_owner), with their open
    pipeline and won revenue."""
    user = _user_of(employee, "Opportunity")
    if not user:
        return None
    mine = [["opportunity_owner", "=", user]]
    open_ = mine + [["sales_stage", "in", list(OPEN_STAGES)]]
    won = mine + [["sales_stage", "=", "Won"]]
    return _section("employee-opportunities", _("Opportunities owned"), "Opportunity",
                    [("title", "Data"), ("sales_stage", "Select"), ("opportunity_amount", "Currency")], mine,
                    [_figure("open_opportunities", _("Open opportunities"), lowcode.get_count("Opportunity", filters=open_),
                             "Int"),
                     _figure("open_pipeline", _("Open pipeline"), _sum("Opportunity", "opportunity_amount", open_),
                             "Currency"),
                     _figure("won_revenue", _("Won revenue"), _sum("Opportunity", "won_amount", won), "Currency")],
                    "creation desc")


def employee_customers(doctype, employee):
    """The customers the employee's user manages (account_manager)."""
    user = _user_of(employee, "Customer")
    if not user or "account_manager" not in permitted_fieldnames("Customer"):
        return None
    mine = [["account_manager", "=", user]]
    return _section("employee-customers", _("Customers managed"), "Customer",
                    [("customer_name", "Data"), ("territory", "Link")], mine,
                    [_figure("customers", _("Customers"), lowcode.get_count("Customer", filters=mine), "Int")],
                    "customer_name asc")


def _page(doctype):
    @desk_view
    def page(request, name):
        """/app/<party>-360/<name>"""
        if not name:
            from django.http import HttpResponseRedirect
            from lowcode.utils import route_for
            return HttpResponseRedirect(f"/app/{route_for(doctype)}")
        with translation.override(prefs().lang):  # section titles and labels in the user's language
            data = get_party_360(doctype, name)
        return render("crm_app/party_360.html", data=data)
    return page


supplier_page = _page("Supplier")
sales_partner_page = _page("Sales Partner")
employee_page = _page("Employee")
