"""Post-sale analytics over the submitted Sales Invoices (seed 004): purchase patterns,
RFM segments, churn risk, retention tasks and up-sell suggestions. The Script Reports
in ``selling/report/`` and the customer 360's up-sell section are thin shells over the
functions here (the bench calls ``churn_risk`` directly).

Who sees what: the rows are customers, and a user sees the customers they may read --
Customer's row rules (User Permissions, shares, apps' hooks) put into the SQL as a join
(lowcode.permissions.match_conditions), never a filter in Python. Managers (Sales or
Accounts) read every customer, so they see every row; a salesperson limited to a
territory sees that territory's customers. Each figure is one grouped query per table.

Money is net of tax: an invoice line's net amount is its ``amount`` less its share of the
invoice's additional discount, ``amount * net_total / total`` (so an invoice's lines add
up to its ``net_total``)."""
import datetime

from django.utils.translation import gettext as _

import lowcode
from lowcode.context import local
from lowcode.exceptions import DoesNotExistError, PermissionError, ValidationError
from lowcode.permissions import match_conditions, role_access
from lowcode.utils import as_list, today

from crm_app.totals import round_money

INVOICE = "`tabSales Invoice`"
LINE = "`tabSales Invoice Item`"
# A line's net amount (module docstring); a line of an invoice totalling nothing earns nothing.
LINE_NET = "(CASE WHEN si.`total` > 0 THEN it.`amount` * si.`net_total` / si.`total` ELSE 0 END)"


def _date(value, field, default=None):
    if value in (None, ""):
        return default
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValidationError(f"{field} is not a date (YYYY-MM-DD): {value!r}", field=field) from None


def _day(value):
    """A date read from either engine (a date on MariaDB, text on SQLite)."""
    return value if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime) \
        else datetime.date.fromisoformat(str(value)[:10])


def _positive_int(value, field, default):
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise ValidationError(f"{field} must be a whole number of at least 1: {value!r}", field=field)
    return number


def _customers():
    """(sql, values) of the customers the user may read, on ``tabCustomer`` (unaliased: an
    app's row-rule hook names the table); a user who may read no customer at all is refused."""
    if role_access("Customer", "read") is None:
        raise PermissionError("Not permitted to read Customer", doctype="Customer")
    return match_conditions("Customer")


def _period(filters, days=365):
    """(from_date, to_date): ``to_date`` defaults to today, ``from_date`` to ``days`` before it."""
    to_date = _date(filters.get("to_date"), "to_date", _date(today(), "to_date"))
    from_date = _date(filters.get("from_date"), "from_date", to_date - datetime.timedelta(days=days))
    if from_date > to_date:
        raise ValidationError("from_date is after to_date", field="from_date")
    return from_date, to_date


# -- purchase patterns ----------------------------------------------------------------

def purchase_patterns(filters=None):
    """Per customer and product over the period: invoices, quantity, net revenue, first and
    last purchase, and the average days between purchases, ``(last - first) / (invoices - 1)``
    (None for a single purchase). A row is a repeat purchase when its invoices are more
    than one. Returns (rows, summary) where summary has the repeat rates: of the
    customer-product pairs, and of the customers (a customer with more than one invoice)."""
    filters = filters or {}
    from_date, to_date = _period(filters)
    cond, values = _customers()
    where = ["si.`docstatus`=1", "si.`posting_date` >= %s", "si.`posting_date` <= %s", cond]
    args = [from_date.isoformat(), to_date.isoformat()] + list(values)
    for key in ("customer", "product"):
        if filters.get(key):
            where.append(f"{'si' if key == 'customer' else 'it'}.`{key}` = %s")
            args.append(filters[key])
    joins = (f"FROM {LINE} it JOIN {INVOICE} si ON si.`name`=it.`parent` AND it.`parenttype`='Sales Invoice' "
             f"JOIN `tabCustomer` ON `tabCustomer`.`name`=si.`customer` WHERE " + " AND ".join(where))
    rows = lowcode.db.sql(
        f"SELECT si.`customer` AS customer, it.`product` AS product, COUNT(DISTINCT si.`name`) AS invoices, "
        f"SUM(it.`qty`) AS qty, SUM({LINE_NET}) AS net_revenue, MIN(si.`posting_date`) AS first_purchase, "
        f"MAX(si.`posting_date`) AS last_purchase {joins} GROUP BY si.`customer`, it.`product` "
        f"ORDER BY si.`customer`, it.`product`", args, as_dict=True)
    per_customer = lowcode.db.sql(f"SELECT si.`customer`, COUNT(DISTINCT si.`name`) {joins} GROUP BY si.`customer`",
                                  args)
    out = []
    for r in rows:
        first, last = _day(r["first_purchase"]), _day(r["last_purchase"])
        n = int(r["invoices"])
        out.append({"customer": r["customer"], "product": r["product"], "invoices": n,
                    "qty": float(r["qty"] or 0), "net_revenue": round_money(r["net_revenue"]),
                    "first_purchase": first.isoformat(), "last_purchase": last.isoformat(),
                    "avg_days_between": round((last - first).days / (n - 1), 1) if n > 1 else None,
                    "repeat": 1 if n > 1 else 0})
    repeat_customers = sum(1 for _c, n in per_customer if int(n) > 1)
    summary = {
        "pairs": len(out), "repeat_pairs": sum(r["repeat"] for r in out),
        "pair_repeat_rate": round(100.0 * sum(r["repeat"] for r in out) / len(out), 1) if out else 0.0,
        "customers": len(per_customer), "repeat_customers": repeat_customers,
        "customer_repeat_rate": round(100.0 * repeat_customers / len(per_customer), 1) if per_customer else 0.0,
    }
    return out, summary


# -- RFM ------------------------------------------------------------------------------

#: (R scores, F scores, segment): the usual R x F grid; every pair of scores falls in one.
SEGMENTS = [
    ((1, 2), (1, 2), "Hibernating"), ((1, 2), (3, 4), "At Risk"), ((1, 2), (5,), "Can't Lose"),
    ((3,), (1, 2), "About to Sleep"), ((3,), (3,), "Need Attention"), ((3, 4), (4, 5), "Loyal Customers"),
    ((4,), (1,), "Promising"), ((5,), (1,), "New Customers"), ((4, 5), (2, 3), "Potential Loyalists"),
    ((5,), (4, 5), "Champions"),
]
#: The retention action a segment suggests (create_retention_tasks).
ACTIONS = {
    "Champions": "Call", "Loyal Customers": "Call", "Can't Lose": "Call",
    "At Risk": "Discount coupon", "Need Attention": "Discount coupon", "About to Sleep": "Discount coupon",
    "Potential Loyalists": "Discount coupon",
    "Hibernating": "Win-back campaign", "New Customers": "Win-back campaign", "Promising": "Win-back campaign",
}


def segment(r, f):
    return next(name for rs, fs, name in SEGMENTS if r in rs and f in fs)


def quintile_scores(values):
    """Scores 1-5 by quintiles, higher value = better: a customer's score is
    ``1 + floor(5 * worse / n)`` where ``worse`` counts the customers with a strictly lower
    value and ``n`` all of them. Ties share a score (the one of their first position), so
    the order of names never decides it. E.g. 7 distinct values get 1, 1, 2, 3, 3, 4, 5."""
    ordered = sorted(values.values())
    n = len(ordered)
    first = {}
    for i, v in enumerate(ordered):
        first.setdefault(v, i)
    return {key: 1 + (5 * first[v]) // n for key, v in values.items()}


def rfm(filters=None, every_customer=False):
    """Recency (days from the last invoice to ``to_date``), frequency (invoices) and
    monetary value (net revenue) per customer with an invoice in the period; R, F and M
    scored by quintile_scores (recency: fewer days is better), the segment from the R
    and F scores (SEGMENTS). Rows sorted by segment, then customer. The quintiles are
    those of the customers the user may read; ``every_customer`` (for code that shows
    only a readable customer's segment) scores among all of them."""
    filters = filters or {}
    from_date, to_date = _period(filters)
    cond, values = ("1=1", []) if every_customer else _customers()
    rows = lowcode.db.sql(
        f"SELECT si.`customer`, MAX(si.`posting_date`), COUNT(*), SUM(si.`net_total`) FROM {INVOICE} si "
        f"JOIN `tabCustomer` ON `tabCustomer`.`name`=si.`customer` WHERE si.`docstatus`=1 AND si.`posting_date` >= %s "
        f"AND si.`posting_date` <= %s AND {cond} GROUP BY si.`customer`",
        [from_date.isoformat(), to_date.isoformat()] + list(values))
    recency = {c: (to_date - _day(last)).days for c, last, _n, _m in rows}
    frequency = {c: int(n) for c, _l, n, _m in rows}
    monetary = {c: round_money(m) for c, _l, _n, m in rows}
    r_score = quintile_scores({c: -days for c, days in recency.items()})
    f_score, m_score = quintile_scores(frequency), quintile_scores(monetary)
    out = [{"customer": c, "recency": recency[c], "frequency": frequency[c], "monetary": monetary[c],
            "r": r_score[c], "f": f_score[c], "m": m_score[c], "segment": segment(r_score[c], f_score[c])}
           for c in recency]
    return sorted(out, key=lambda r: (r["segment"], r["customer"]))


# -- churn risk -----------------------------------------------------------------------

#: Where a customer was last in contact: (table, date column). Notes are not contact.
CONTACTS = [("Call Log", "started_at"), ("Communication", "communication_date"), ("Event", "starts_on")]


def churn_risk(filters=None):
    """The riskiest customers first (``limit``, default 500): see churn_list."""
    return churn_list(filters)[0]


def churn_list(filters=None):
    """Customers with no purchase and no contact (a call, a communication or an event)
    in the last ``days`` (default 90) before ``as_of`` (default today), weighted by their
    value, the net revenue of their invoices in the 12 months (365 days) before ``as_of``:

        risk = value * min(days_idle / 365, 1)

    where ``days_idle`` is the days since the later of the last purchase and the last
    contact: the risk grows with idleness until a year, when all the value is at risk.
    A customer with no revenue in those 12 months has nothing to lose and is not listed.
    Returns (rows, count, value): the first ``limit`` rows by risk, highest first (then
    customer), and the number and value of all customers at risk.

    Scale: one grouped query on the invoices (a covering index in customer order, so no
    sort for the grouping) and one per contact table (only contacts in that year can be
    later than a purchase in it); Python only merges and ranks. Contacts count whoever
    made them (private ones too: only their date is used, for customers the user may read)."""
    filters = filters or {}
    as_of = _date(filters.get("as_of"), "as_of", _date(today(), "as_of"))
    days = _positive_int(filters.get("days"), "days", 90)
    limit = _positive_int(filters.get("limit"), "limit", 500)
    since = as_of - datetime.timedelta(days=365)
    cutoff = as_of - datetime.timedelta(days=days)
    cond, values = _customers()
    # Purchases in the year, grouped first (the customers bought from in the last `days`
    # drop out there); only those idle customers are joined to their Customer rows.
    bought = lowcode.db.sql(
        f"SELECT g.`customer`, g.`last`, g.`value` FROM (SELECT `customer`, MAX(`posting_date`) AS `last`, "
        f"SUM(`net_total`) AS `value` FROM {INVOICE} WHERE `docstatus`=1 AND `posting_date` > %s "
        f"AND `posting_date` <= %s GROUP BY `customer` HAVING MAX(`posting_date`) <= %s AND SUM(`net_total`) > 0) g "
        f"JOIN `tabCustomer` ON `tabCustomer`.`name`=g.`customer` WHERE {cond}",
        [since.isoformat(), as_of.isoformat(), cutoff.isoformat()] + list(values))
    if not bought:
        return [], 0, 0.0
    contact = {}
    ordinal = _ordinals()
    end = (as_of + datetime.timedelta(days=1)).isoformat()  # datetimes on the as_of day count
    for doctype, column in CONTACTS:
        for customer, last in lowcode.db.sql(
                f"SELECT `customer`, MAX(`{column}`) FROM `tab{doctype}` WHERE `{column}` > %s AND `{column}` < %s "
                f"AND `customer` IS NOT NULL GROUP BY `customer`", [since.isoformat(), end]):
            if customer and last:
                day = ordinal(last)
                if day > contact.get(customer, 0):
                    contact[customer] = day
    today_, cut = as_of.toordinal(), cutoff.toordinal()
    ranked = []  # (risk, customer, value, last purchase, last contact, days idle)
    for customer, last, value in bought:
        touched = contact.get(customer, 0)
        if touched > cut:
            continue
        last = ordinal(last)
        idle = today_ - max(last, touched)
        value = float(value)
        ranked.append((round(value * min(idle / 365, 1), 2), customer, value, last, touched, idle))
    ranked.sort(key=lambda t: (-t[0], t[1]))
    top = ranked[:limit]
    names = {}
    if top:
        marks = ", ".join(["%s"] * len(top))
        names = {r[0]: r[1:] for r in lowcode.db.sql(
            f"SELECT `name`, `customer_name`, `account_manager` FROM `tabCustomer` WHERE `name` IN ({marks})",
            [t[1] for t in top])}
    day = datetime.date.fromordinal
    rows = [{"customer": customer, "customer_name": names.get(customer, (None, None))[0],
             "account_manager": names.get(customer, (None, None))[1], "last_purchase": day(last).isoformat(),
             "last_contact": day(touched).isoformat() if touched else None, "days_idle": idle,
             "value": round_money(value), "risk": round_money(value * min(idle / 365, 1))}
            for _risk, customer, value, last, touched, idle in top]
    return rows, len(ranked), round_money(sum(t[2] for t in ranked))


def _ordinals():
    """A function giving a date or datetime read from either engine (objects on MariaDB,
    text on SQLite) as a day number; the days of a year repeat, so each is parsed once."""
    seen = {}

    def ordinal(value):
        if isinstance(value, datetime.date):
            return value.toordinal()
        key = str(value)[:10]
        day = seen.get(key)
        if day is None:
            day = seen[key] = datetime.date.fromisoformat(key).toordinal()
        return day
    return ordinal


# -- retention tasks ------------------------------------------------------------------

#: A retention task is a Task on the customer that references the report that raised it.
MARK = {"reference_doctype": "Report", "reference_name": "Churn Risk"}
OPEN_TASK = ("Open", "Working")


@lowcode.whitelist(methods=["POST"])
def create_retention_tasks(customers=None, as_of=None):
    """For each selected customer, a Task assigned to their account manager (else to the
    caller) with the action their RFM segment suggests (ACTIONS; the segment over the
    365 days before ``as_of``, among all customers). Idempotent: a customer with an open retention task gets no
    second one. Needs create on Task, and every customer must be one the user may read
    (else 403/404 and nothing is written). Returns {"created": [task names], "skipped":
    [customers that already had one], "summary": the counts in words}. The Churn Risk
    report's page offers it as a button (``report_actions`` in hooks.py)."""
    if isinstance(customers, str):
        import json
        try:
            customers = json.loads(customers)
        except ValueError:
            customers = [customers]
    customers = [c for c in as_list(customers) if c]
    if not customers:
        raise ValidationError("customers: choose at least one customer", field="customers")
    if not lowcode.has_permission("Task", "create"):
        raise PermissionError("Not permitted to create Task", doctype="Task")
    cond, values = _customers()
    marks = ", ".join(["%s"] * len(customers))
    readable = {r[0]: r for r in lowcode.db.sql(
        f"SELECT `tabCustomer`.`name`, `tabCustomer`.`customer_name`, `tabCustomer`.`account_manager` "
        f"FROM `tabCustomer` "
        f"WHERE `tabCustomer`.`name` IN ({marks}) AND {cond}", list(customers) + list(values))}
    missing = [c for c in customers if c not in readable]
    if missing:
        raise DoesNotExistError(f"Customer {missing[0]} not found", doctype="Customer")
    on = _date(as_of, "as_of", _date(today(), "as_of"))
    # The customer's segment among all customers: the same whoever asks.
    segments = {r["customer"]: r["segment"] for r in rfm({"to_date": on.isoformat()}, every_customer=True)}
    created, skipped = [], []
    for customer in dict.fromkeys(customers):
        # Whoever's it is (a private task too): one open retention task per customer.
        if lowcode.db.exists("Task", dict(MARK, customer=customer, status=["in", list(OPEN_TASK)])):
            skipped.append(customer)
            continue
        _name, title, manager = readable[customer]
        action = _action_text(ACTIONS.get(segments.get(customer), "Call"))
        task = lowcode.get_doc(dict(MARK, doctype="Task", customer=customer,
                                    assigned_to=manager or local.user, status="Open",
                                    subject=_("Retention: {0} for {1}").format(action, title or customer),
                                    description=_("Segment: {0}").format(_(segments.get(customer) or "None"))))
        created.append(task.insert().name)
    return {"created": created, "skipped": skipped,
            "summary": _("Tasks created: {0}, already open: {1}").format(len(created), len(skipped))}


def _action_text(action):
    """An action's words in the user's language (spelt out, so the catalogue has them)."""
    return {"Call": _("Call"), "Discount coupon": _("Discount coupon"),
            "Win-back campaign": _("Win-back campaign")}.get(action, action)


# -- up-sell --------------------------------------------------------------------------

def upsell(customer, limit=20):
    """Products to offer ``customer``: bought by similar customers -- those (readable by
    the user, other than this one) who bought at least one product this customer bought
    -- and not by this customer. Score: how many similar customers bought the product.
    Sorted by score, highest first, then product."""
    if not customer:
        raise ValidationError("customer is required", field="customer")
    cond, values = _customers()
    if not lowcode.db.sql(f"SELECT `tabCustomer`.`name` FROM `tabCustomer` WHERE `tabCustomer`.`name`=%s AND {cond}",
                          [customer] + list(values)):
        raise DoesNotExistError(f"Customer {customer} not found", doctype="Customer")
    lines = (f"FROM {LINE} it JOIN {INVOICE} si ON si.`name`=it.`parent` AND it.`parenttype`='Sales Invoice' "
             f"AND si.`docstatus`=1")
    own = f"SELECT DISTINCT it.`product` {lines} WHERE si.`customer`=%s"
    similar = (f"SELECT DISTINCT si.`customer` {lines} JOIN `tabCustomer` ON `tabCustomer`.`name`=si.`customer` "
               f"WHERE it.`product` IN ({own}) AND si.`customer` <> %s AND {cond}")
    rows = lowcode.db.sql(
        f"SELECT it.`product`, COUNT(DISTINCT si.`customer`) AS score {lines} "
        f"WHERE si.`customer` IN (SELECT * FROM ({similar}) `similar`) AND it.`product` NOT IN ({own}) "
        f"GROUP BY it.`product` ORDER BY score DESC, it.`product` LIMIT {int(limit)}",
        [customer, customer] + list(values) + [customer])
    return [{"product": p, "score": int(s)} for p, s in rows]


def upsell_section(customer):
    """The customer 360's up-sell section (crm_app's customer_360_sections hook)."""
    if role_access("Customer", "read") is None:
        return None
    try:
        rows = upsell(customer, limit=10)
    except DoesNotExistError:
        return None
    if not rows:
        return None
    return {"key": "upsell", "title": _("Up-sell suggestions"), "doctype": "Product", "rows": rows,
            "columns": [{"field": "product", "label": _("Product"), "fieldtype": "Link"},
                        {"field": "score", "label": _("Similar customers who bought it"), "fieldtype": "Int"}],
            "figures": []}
