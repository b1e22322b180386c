"""Records that may be the same person or organisation as a lead, and on what they match.

Two places ask: the lead conversion dialog (customers and contacts to use instead of
making new ones, see convert_page.py) and the Lead form while someone types (leads and
customers that look like duplicates, ``possible_duplicates``). Every probe is an
equality on an indexed column (e-mail, the E.164 phone columns, names, tax id) read
through ``get_list``, so the user's permission rules apply in SQL and a large table is
answered from its index. Text is compared as typed and in lower case: MariaDB's
collation ignores case anyway, SQLite finds the usual stored forms."""
from urllib.parse import quote

from django.utils import translation
from django.utils.translation import gettext as _

import lowcode
from lowcode.desk.render import prefs
from lowcode.exceptions import BadRequest
from lowcode.permissions import has_permission
from lowcode.utils import route_for

LIMIT = 5  # suggestions per probe: enough to choose from, few enough to read
MAX_TEXT = 140  # a typed value longer than any stored one matches nothing anyway


def _variants(value):
    value = (value or "").strip()
    return list(dict.fromkeys([value, value.lower()])) if value else []


def phones(*numbers):
    """The E.164 forms of the numbers that parse (Persian digits, spaces, 0-prefixed)."""
    from crm_app.doctype.lead.lead import normalised_phone
    return list(dict.fromkeys(filter(None, (normalised_phone(n) for n in numbers if n))))


class Matches:
    """Matching records in the order found, each with the kinds it matched on."""

    def __init__(self, exclude=()):
        self.found, self.exclude = {}, set(exclude)

    def probe(self, doctype, kind, filters, also=()):
        """Records of ``doctype`` the user may read whose columns equal one of the values
        of every (column, values) in ``filters`` (and meet the plain filters ``also``)."""
        if any(not values for _f, values in filters) or not has_permission(doctype, "read"):
            return
        title = lowcode.get_meta(doctype).title_field or "name"
        conditions = [[f, "in", values] for f, values in filters] + list(also)
        if self.exclude:
            conditions.append(["name", "not in", sorted(self.exclude)])
        rows = lowcode.get_list(doctype, fields=list(dict.fromkeys(["name", title])), filters=conditions,
                                order_by="creation asc", limit_page_length=LIMIT)
        for row in rows:
            key = (doctype, row["name"])
            if key not in self.found:
                self.found[key] = {"doctype": doctype, "name": row["name"], "title": row.get(title) or row["name"],
                                   "url": f"/app/{route_for(doctype)}/{quote(row['name'])}", "matched": []}
            if kind not in self.found[key]["matched"]:
                self.found[key]["matched"].append(kind)

    def of(self, doctype):
        return [m for (d, _n), m in self.found.items() if d == doctype]

    def all(self):
        return list(self.found.values())


def conversion_matches(lead):
    """Customers and contacts the user may read that match the lead: tax id, e-mail,
    mobile or phone (E.164), the organisation's (or person's) name. Kinds: tax_id,
    email, mobile, phone, name."""
    m = Matches()
    numbers = phones(lead.mobile_no, lead.phone)
    m.probe("Customer", "tax_id", [("tax_id", _variants(lead.tax_id))])
    m.probe("Customer", "email", [("email_id", _variants(lead.email_id))])
    m.probe("Customer", "mobile", [("mobile_e164", numbers)])
    m.probe("Customer", "name", [("customer_name", _variants(lead.company_name or lead.lead_name))])
    m.probe("Contact", "email", [("email_id", _variants(lead.email_id))])
    m.probe("Contact", "mobile", [("mobile_e164", numbers)])
    m.probe("Contact", "phone", [("phone_e164", numbers)])
    m.probe("Contact", "name", [("full_name", _variants(lead.lead_name))])
    return m


def duplicate_matches(values, settings=None, lead=None):
    """Open leads (other than ``lead``) and customers that the CRM Settings duplicate rule
    says may be the same as the typed ``values`` (email_id, mobile_no, phone,
    company_name, lead_name). Kinds: email, mobile, phone, company."""
    settings = settings or lowcode.get_doc("CRM Settings")
    m = Matches(exclude=[lead] if lead else ())
    if not int(settings.check_lead_duplicates or 0):
        return m
    email, numbers = _variants(values.get("email_id")), phones(values.get("mobile_no"), values.get("phone"))
    company, name = _variants(values.get("company_name")), _variants(values.get("lead_name"))
    # a converted lead is answered for by its customer
    also = {"Lead": [["status", "!=", "Converted"]], "Customer": []}
    for doctype in ("Lead", "Customer"):
        if int(settings.duplicate_match_email or 0):
            m.probe(doctype, "email", [("email_id", email)], also[doctype])
        if int(settings.duplicate_match_mobile or 0):
            m.probe(doctype, "mobile", [("mobile_e164", numbers)], also[doctype])
            if doctype == "Lead":
                m.probe(doctype, "phone", [("phone_e164", numbers)], also[doctype])
    organisation = settings.duplicate_match_organisation or "With the same name"
    if organisation == "Alone":
        m.probe("Lead", "company", [("company_name", company)], also["Lead"])
    elif organisation == "With the same name":
        m.probe("Lead", "company", [("company_name", company), ("lead_name", name)], also["Lead"])
    if organisation != "Never":
        m.probe("Customer", "company", [("customer_name", company)])  # the organisation already is a customer
    return m


def _text(value, field):
    if value is not None and not isinstance(value, str):
        raise BadRequest(_("%(field)s must be text") % {"field": field}, field=field)
    if len(value or "") > MAX_TEXT:
        raise BadRequest(_("%(field)s is too long") % {"field": field}, field=field)
    return value or ""


def kind_label(kind):
    """What a match was on, in the user's language ("matched on mobile")."""
    return {"tax_id": _("tax id"), "email": _("e-mail"), "mobile": _("mobile"), "phone": _("phone"),
            "name": _("name"), "company": _("company")}[kind]


@lowcode.whitelist(methods=["GET"])
def possible_duplicates(email_id: str = "", mobile_no: str = "", phone: str = "", company_name: str = "",
                        first_name: str = "", last_name: str = "", lead: str = ""):
    """GET: the leads and customers that look like the lead being typed on the form (the
    CRM Settings rule), those the user may read, with what matched:
    [{doctype, doctype_label, name, title, url, matched: [kind], before, after}] where
    before + title + after is the sentence to show. Never writes."""
    values = {k: _text(v, k) for k, v in (("email_id", email_id), ("mobile_no", mobile_no), ("phone", phone),
                                          ("company_name", company_name), ("first_name", first_name),
                                          ("last_name", last_name), ("lead", lead))}
    values["lead_name"] = " ".join(p for p in (values["first_name"].strip(), values["last_name"].strip()) if p)
    found = duplicate_matches(values, lead=values["lead"] or None).all()
    with translation.override(prefs().lang):  # the words the form shows, in the user's language
        out = []
        for f in found:
            what = ", ".join(kind_label(k) for k in f["matched"])
            # the title is a link in the sentence: the words around it, in the language's order
            before, _t, after = (_("Possible duplicate: %(title)s (matched on %(what)s)")
                                 % {"title": "\x00", "what": what}).partition("\x00")
            out.append({"doctype": f["doctype"], "doctype_label": _(f["doctype"]), "name": f["name"],
                        "title": f["title"], "url": f["url"], "matched": f["matched"], "before": before,
                        "after": after})
        return out
