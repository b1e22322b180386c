"""Demo data: realistic, mixed Persian and English CRM records for ``make run`` and the
benchmarks. ``generate(count)`` builds about ``count`` records through the normal
document path (validation, workflows, hooks), deterministic for a given seed, spread
over the last year by their business dates (leads arrive on any day of it, deals open
days to weeks later and close after a cycle of weeks, with costs every month), so the
reports show history rather than one day; ``bulk_leads(n)`` adds many leads straight
into the table for benchmarks."""
import datetime
import random

import phonenumbers

import lowcode
from lowcode.auth import set_password
from lowcode.context import local
from lowcode.utils import generate_hash
from lowcode.workflow import apply_workflow

FIRST_FA = ["سارا", "علی", "مریم", "رضا", "نگار", "حسین", "زهرا", "امیر", "الهام", "محمد", "پریسا", "کاوه"]
LAST_FA = ["احمدی", "رضایی", "کریمی", "حسینی", "موسوی", "محمدی", "جعفری", "صادقی", "نوری", "کاظمی"]
FIRST_EN = ["David", "Sarah", "Noa", "Yossi", "Maya", "Daniel", "Tamar", "Michael", "Emma", "Oren"]
LAST_EN = ["Cohen", "Levi", "Mizrahi", "Peretz", "Smith", "Brown", "Friedman", "Katz", "Shapiro", "Ben-David"]
COMPANIES = ["پارس پلاستیک", "آریا تجارت", "سپهر صنعت", "نوین داده", "کاوش نفت", "Acme Tech", "Blue Sky Ltd",
             "Negev Solar", "Carmel Foods", "Galil Logistics", "Tehran Steel", "Isfahan Textile", "Shiraz Pharma",
             "رایان سیستم", "بهار الکترونیک"]
TERRITORIES = {"Iran": {"Tehran Province": ["Tehran", "Karaj"], "Isfahan Province": ["Isfahan", "Kashan"],
                        "Fars": ["Shiraz"]},
               "Israel": {"Tel Aviv District": ["Tel Aviv", "Herzliya"], "Haifa District": ["Haifa"]}}
SOURCES = [("Exhibition", "Exhibition"), ("Google Ads", "Online Ad"), ("Flyers", "Flyer"),
           ("Field Team", "Field Marketing"), ("Website", "Website"), ("Referral", "Referral")]
PRODUCTS = [("CRM-BASIC", "CRM Basic licence", 12000000), ("CRM-PRO", "CRM Pro licence", 30000000),
            ("TRAIN", "Training day", 8000000), ("SUPPORT", "Annual support", 15000000), ("SMS-PACK", "SMS package", 2000000)]
LOST_REASONS = ["Price too high", "Chose a competitor", "No budget", "Not the right fit", "No decision"]
COMPETITOR_REASON = "Chose a competitor"  # the demo's Lost Reason marked is_competitor
COMPETITORS = ["Competitor A", "Competitor B", "رقیب محلی"]
INDUSTRIES = ["Manufacturing", "Retail", "Software", "Healthcare", "Energy", "Food"]
USERS = [("manager@demo.local", "Mina", "Sales Manager"), ("sales1@demo.local", "Babak", "Sales User"),
         ("sales2@demo.local", "Dana", "Sales User"), ("sales3@demo.local", "Ehud", "Sales User"),
         ("marketing@demo.local", "Laleh", "Marketing User")]
# The parties beside customers (seed 003): suppliers, sales partners, and an employee for each demo user.
SUPPLIERS = [("پارس سخت‌افزار", "Hardware", "Tehran", "09121110001"), ("آریا کاغذ", "Office supplies", "Isfahan",
                                                                        "09131110002"),
             ("Galil Cloud Services", "Services", "Haifa", "+972-52-1110003")]
PARTNERS = [("Negin Resellers", "Reseller", "Iran", 10), ("Carmel Integrators", "Implementation Partner", "Israel", 15)]
DESIGNATIONS = {"Sales Manager": ("Sales", "Sales Manager"), "Sales User": ("Sales", "Sales Representative"),
                "Marketing User": ("Marketing", "Marketing Specialist")}
DEMO_PASSWORD = "demo1234"


def ensure_demo_user(email, first_name, role, language):
    """A demo login (password DEMO_PASSWORD) with one role, in its language and its calendar
    (Jalali for Persian); an existing user is left as it is. The other apps' demos use it."""
    if not local.db.exists("User", email):
        lowcode.get_doc({"doctype": "User", "email": email, "first_name": first_name, "language": language,
                         "calendar": "Jalali" if language == "fa" else "Gregorian",
                         "roles": [{"role": role}]}).insert(ignore_permissions=True)
        set_password(email, DEMO_PASSWORD)


HISTORY_DAYS = 365  # how far back the demo's business dates go
CAMPAIGN_DAYS = 90  # the demo campaigns started this long ago
IR_MOBILE = ["0912", "0913", "0919", "0935", "0936", "0937", "0938", "0939", "0990", "0901", "0921"]
IL_MOBILE = ["+972-50-", "+972-52-", "+972-53-", "+972-54-"]


def _ensure(doctype, name, values):
    if not local.db.exists(doctype, name):
        doc = lowcode.get_doc(dict(values, doctype=doctype))
        doc.flags.skip_assignment = True
        doc.insert(ignore_permissions=True)


def _masters(rnd):
    for country, provinces in TERRITORIES.items():
        _ensure("Territory", country, {"territory_name": country, "territory_type": "Country", "is_group": 1})
        for province, cities in provinces.items():
            _ensure("Territory", province, {"territory_name": province, "territory_type": "Province",
                                            "parent_territory": country, "is_group": 1})
            for city in cities:
                _ensure("Territory", city, {"territory_name": city, "territory_type": "City",
                                            "parent_territory": province})
    for name in INDUSTRIES:
        _ensure("Industry", name, {"industry": name})
    for name in LOST_REASONS:
        _ensure("Lost Reason", name, {"lost_reason": name, "is_competitor": int(name == COMPETITOR_REASON)})
    for name in COMPETITORS:
        _ensure("Competitor", name, {"competitor_name": name})
    for code, name, rate in PRODUCTS:
        _ensure("Product", code, {"product_code": code, "product_name": name, "standard_rate": rate,
                                  "product_group": "Software" if code.startswith("CRM") else "Services"})
    _ensure("Price List", "Standard", {"price_list_name": "Standard", "currency": "IRR", "is_default": 1})
    today = datetime.date.today()
    for name, channel in SOURCES:
        costs = [{"date": (today - datetime.timedelta(days=30 * m)).isoformat(),
                  "amount": rnd.choice([2, 4, 6, 10]) * 1000000, "description": f"Month -{m}"}
                 for m in range(HISTORY_DAYS // 30)]
        _ensure("Lead Source", name, {"source_name": name, "channel": channel, "costs": costs})
    for i, (name, source) in enumerate([("Spring Expo", "Exhibition"), ("Search Q3", "Google Ads"),
                                        ("Newsletter", "Website")]):
        _ensure("Campaign", name, {"campaign_name": name, "source": source, "status": "Active",
                                   "start_date": (today - datetime.timedelta(days=CAMPAIGN_DAYS)).isoformat(),
                                   "budget": 100000000,
                                   "costs": [{"date": (today - datetime.timedelta(days=30 * m)).isoformat(),
                                              "amount": 8000000} for m in range(CAMPAIGN_DAYS // 30)]})
    managers = {}
    for email, first, role in USERS:
        ensure_demo_user(email, first, role, "fa" if first in ("Mina", "Babak", "Laleh") else "en")
        managers[role] = email
        if role == "Sales User" and not lowcode.get_all("Sales Target", filters={"user": email}, limit_page_length=1):
            for quarter in range(4):  # a target for each of the last four quarters
                end = today - datetime.timedelta(days=91 * quarter)
                lowcode.get_doc({"doctype": "Sales Target", "user": email,
                                 "target_amount": rnd.choice([3, 4, 6]) * 100000000,
                                 "period_start": (end - datetime.timedelta(days=90)).isoformat(),
                                 "period_end": end.isoformat()}).insert(ignore_permissions=True)
    local.db.sql("UPDATE `tabTerritory` SET `territory_manager`=%s WHERE `name`='Iran'", (managers["Sales Manager"],))
    _ensure("Assignment Rule", "Leads round robin", {
        "rule_name": "Leads round robin", "document_type": "Lead", "rule": "Round Robin", "assign_field": "lead_owner",
        "users": [{"user": e, "capacity": 0} for e, _, r in USERS if r == "Sales User"]})
    _ensure("Follow-up Rule", "Weekly VIP contact", {"rule_name": "Weekly VIP contact", "every_n_days": 7,
                                                     "customer_filters": '[["vip_tier", "in", ["Gold", "Platinum"]]]'})
    _ensure("Announcement", "welcome", {"title": "خوش آمدید: CRM جدید راه‌اندازی شد", "category": "News",
                                         "content": "<p>Welcome to the new CRM. همه فرصت‌ها را اینجا ثبت کنید.</p>"})


def _person(rnd):
    if rnd.random() < 0.6:
        return rnd.choice(FIRST_FA), rnd.choice(LAST_FA), _phone(rnd, IR_MOBILE)
    return rnd.choice(FIRST_EN), rnd.choice(LAST_EN), _phone(rnd, IL_MOBILE)


def _phone(rnd, prefixes):
    """A number the validator accepts (not every sub-range of a prefix is allocated)."""
    while True:
        number = rnd.choice(prefixes) + str(rnd.randint(1000000, 9999999))
        parsed = phonenumbers.parse(number, None if number.startswith("+") else "IR")
        if phonenumbers.is_valid_number(parsed):
            return number


def _party(doctype, title_field, values, contact=None, city=None):
    """The demo party titled values[title_field] (made once, with a contact and an address)."""
    name = lowcode.db.get_value(doctype, {title_field: values[title_field]}, "name")
    if name:
        return name
    name = lowcode.get_doc(dict(values, doctype=doctype)).insert(ignore_permissions=True).name
    links = [{"link_doctype": doctype, "link_name": name}]
    if contact:
        first, last = contact
        lowcode.get_doc({"doctype": "Contact", "first_name": first, "last_name": last, "links": links,
                         "mobile_no": values.get("mobile_no")}).insert(ignore_permissions=True)
    if city:
        lowcode.get_doc({"doctype": "Address", "address_title": values[title_field], "address_type": "Office",
                         "address_line1": "1 Main St" if city in ("Haifa", "Tel Aviv") else "خیابان اصلی ۱",
                         "city": city, "country": "Israel" if city in ("Haifa", "Tel Aviv") else "Iran",
                         "links": links}).insert(ignore_permissions=True)
    return name


def _relate(from_type, from_party, relation, to_type, to_party):
    keys = {"from_type": from_type, "from_party": from_party, "relation": relation, "to_type": to_type,
            "to_party": to_party}
    if not lowcode.get_all("Party Relation", filters=keys, limit_page_length=1):
        lowcode.get_doc(dict(keys, doctype="Party Relation")).insert(ignore_permissions=True)


def _parties(rnd, customers):
    """Suppliers and sales partners with contacts and addresses, an Employee for each demo
    user (the salespeople reporting to the manager), and relations between real records."""
    employees = {}
    for email, first, role in sorted(USERS, key=lambda u: u[2] != "Sales Manager"):  # the manager first
        department, designation = DESIGNATIONS[role]
        employees[email] = _party("Employee", "user_id", {
            "employee_name": first, "user_id": email, "department": department, "designation": designation,
            "reports_to": None if role == "Sales Manager" else employees.get("manager@demo.local")})
    for _name, group, _city, _phone in SUPPLIERS:
        _ensure("Supplier Group", group, {"supplier_group_name": group})
    suppliers = [_party("Supplier", "supplier_name", {"supplier_name": name, "supplier_group": group,
                                                      "territory": city, "mobile_no": phone},
                        contact=_person(rnd)[:2], city=city)
                 for name, group, city, phone in SUPPLIERS]
    partners = [_party("Sales Partner", "partner_name", {"partner_name": name, "partner_type": kind,
                                                         "territory": territory, "commission_rate": rate},
                       contact=_person(rnd)[:2], city="Tehran" if territory == "Iran" else "Tel Aviv")
                for name, kind, territory, rate in PARTNERS]
    buyers = sorted(customers)
    if not buyers:
        return
    _relate("Supplier", suppliers[0], "Supplier of", "Customer", buyers[0])
    _relate("Customer", buyers[-1], "Referred by", "Sales Partner", partners[0])
    _relate("Sales Partner", partners[1], "Partner of", "Supplier", suppliers[2])
    _relate("Customer", buyers[len(buyers) // 2], "Referred by", "Employee", employees["sales1@demo.local"])


def _lose(opp, rnd, reason, on):
    opp.reload()
    opp.lost_reason = reason
    if reason == COMPETITOR_REASON:
        opp.lost_to_competitor = (opp.competitors[0].competitor if opp.get("competitors")
                                  else rnd.choice(COMPETITORS))
    opp.save()
    opp.closed_on = on.isoformat()
    apply_workflow(opp, "Lose")


@lowcode.whitelist(methods=["POST"])
def generate(count: int = 2000, seed: int = 7):
    """About ``count`` records: leads across sources and campaigns, activities,
    customers, opportunities in every stage and quotations."""
    lowcode.only_for("System Manager")
    from lowcode.params import integer
    rnd = random.Random(int(seed))
    # A bound on the work one request may start.
    count = integer(count, "count", default=2000, minimum=1, maximum=200000)
    _masters(rnd)
    cities = [c for p in TERRITORIES.values() for cs in p.values() for c in cs]
    n_leads = max(count // 4, 10)
    made = {"Lead": 0, "Customer": 0, "Opportunity": 0, "Quotation": 0, "activities": 0}
    sales_users = [e for e, _, r in USERS if r == "Sales User"]
    from crm_app.conversion import convert_lead, find_customer
    today = datetime.date.today()

    def day(start, low, high):
        """A day ``low``..``high`` days after ``start``, never after today."""
        return min(start + datetime.timedelta(days=rnd.randint(low, high)), today)

    people, customers = [], set()
    for i in range(n_leads):
        first, last, phone = _person(rnd)
        if people and rnd.random() < 0.04:
            first, last, phone = rnd.choice(people)  # someone enquiring again: a real duplicate lead
        people.append((first, last, phone))
        company = rnd.choice(COMPANIES) + ("" if rnd.random() < 0.5 else f" {i}")
        arrived = today - datetime.timedelta(days=rnd.randint(0, HISTORY_DAYS - 1))
        campaign = rnd.choice([None, "Spring Expo", "Search Q3", "Newsletter"])
        lead = lowcode.get_doc({
            "doctype": "Lead", "first_name": first, "last_name": last, "company_name": company,
            "email_id": f"lead{i}.{generate_hash(4)}@example.com", "mobile_no": phone, "territory": rnd.choice(cities),
            "industry": rnd.choice(INDUSTRIES), "source": rnd.choice(SOURCES)[0], "lead_date": arrived.isoformat(),
            "campaign": campaign if (today - arrived).days < CAMPAIGN_DAYS else None,
            "annual_revenue": rnd.choice([1, 5, 20, 100]) * 100000000}).insert()
        made["Lead"] += 1
        lowcode.get_doc({"doctype": "Call Log", "phone": phone, "direction": rnd.choice(["Outgoing", "Incoming"]),
                         "outcome": rnd.choice(["Connected", "Connected", "No Answer", "Busy"]),
                         "duration": rnd.randint(30, 900), "reference_doctype": "Lead", "reference_name": lead.name,
                         "started_at": f"{day(arrived, 0, 5).isoformat()} "
                                       f"{rnd.randint(8, 19):02d}:{rnd.randint(0, 59):02d}:00"}).insert()
        made["activities"] += 1
        stage = rnd.random()
        if stage < 0.25:
            continue
        apply_workflow(lead, "Contact")
        if stage < 0.4:
            continue
        if stage < 0.5:
            apply_workflow(lead, "Disqualify")
            continue
        apply_workflow(lead, "Qualify")
        if stage < 0.65:
            continue
        result = convert_lead(lead.name, customer=find_customer(lead),
                              opportunity_amount=rnd.choice([2, 5, 12, 30]) * 10000000,
                              expected_closing=(datetime.date.today() + datetime.timedelta(days=rnd.randint(5, 120))).isoformat())
        customers.add(result["customer"])  # leads of a known organisation join its customer (chosen above)
        made["Customer"] = len(customers)
        made["Opportunity"] += 1
        customer = lowcode.get_doc("Customer", result["customer"])
        customer.vip_tier = rnd.choice(["", "", "Bronze", "Silver", "Gold", "Platinum"])
        customer.save()
        opp = lowcode.get_doc("Opportunity", result["opportunity"])
        opened = day(arrived, 3, 21)  # qualifying takes days to weeks
        opp.transaction_date = opened.isoformat()
        if rnd.random() < 0.4:
            opp.append("competitors", {"competitor": rnd.choice(COMPETITORS), "offered_amount": opp.opportunity_amount * 0.9,
                                       "terms": "30 days"})
        opp.save()
        closes = opened + datetime.timedelta(days=rnd.randint(10, 75))  # the sales cycle
        closes = closes if closes <= today else None  # a recent deal is still open
        lowcode.get_doc({"doctype": "Event", "subject": f"Meeting with {customer.customer_name}", "event_type": "Meeting",
                         "starts_on": f"{(opened + datetime.timedelta(days=rnd.randint(1, 20))).isoformat()} 10:00:00",
                         "reference_doctype": "Customer", "reference_name": customer.name,
                         "participants": [{"participant_type": "User", "user": rnd.choice(sales_users)}]}).insert()
        due = opened + datetime.timedelta(days=rnd.randint(2, 10))
        done = None  # older tasks are done, mostly on time, some days late
        if due < today - datetime.timedelta(days=2):
            done = f"{day(due, -3, 4).isoformat()} {rnd.randint(9, 18):02d}:{rnd.randint(0, 59):02d}:00"
        lowcode.get_doc({"doctype": "Task", "subject": f"Send proposal to {customer.customer_name}",
                         "assigned_to": opp.opportunity_owner or rnd.choice(sales_users), "due_date": due.isoformat(),
                         "status": "Completed" if done else "Open", "completed_on": done,
                         "reference_doctype": "Opportunity", "reference_name": opp.name,
                         "priority": rnd.choice(["Low", "Medium", "High"])}).insert()
        made["activities"] += 2
        path = rnd.random()
        for action in ("Qualify", "Propose"):
            if path < 0.15:
                break
            apply_workflow(opp, action)
            path -= 0.1
        if opp.sales_stage == "Proposal":
            product = rnd.choice(PRODUCTS)
            qtn = lowcode.get_doc({"doctype": "Quotation", "party_name": customer.name, "opportunity": opp.name,
                                   "price_list": "Standard", "items": [{"product": product[0], "qty": rnd.randint(1, 5)}],
                                   "taxes": [{"description": "VAT", "rate": 10}]}).insert()
            made["Quotation"] += 1
            apply_workflow(qtn, "Send")
            outcome = rnd.random()
            if closes and outcome < 0.4:
                apply_workflow(qtn, "Accept")
                opp.reload()
                opp.closed_on = closes.isoformat()  # won on its day, not the day the demo ran
                opp.save(ignore_permissions=True)
            elif outcome < 0.6:
                opp.reload()
                apply_workflow(opp, "Negotiate")
            elif closes and outcome < 0.8:
                _lose(opp, rnd, rnd.choice(LOST_REASONS), closes)
        elif closes and rnd.random() < 0.6:
            _lose(opp, rnd, rnd.choice(LOST_REASONS), closes)  # stalled early: lost after its cycle
    _parties(random.Random(int(seed) + 1), customers)  # a generator of their own: the records above stay as they were
    local.db.commit()
    local.db.begin()
    return made


def bulk_leads(n=1000000, batch=5000):
    """Many valid leads written straight to the table (benchmarks): the same columns
    the document path fills, spread over a year."""
    n = int(n)
    meta = lowcode.get_meta("Lead")
    columns = ["name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "naming_series",
               "first_name", "last_name", "lead_name", "company_name", "email_id", "mobile_no", "territory",
               "source", "status", "lead_owner", "consent_email", "consent_sms", "consent_call", "is_duplicate",
               "lead_date"]
    assert all(c in meta.columns for c in columns)
    rnd = random.Random(11)
    statuses = ["New", "Contacted", "Qualified", "Converted", "Unqualified"]
    start = datetime.datetime.now() - datetime.timedelta(days=365)
    rows = []
    for i in range(n):
        first, last, phone = _person(rnd)
        when = (start + datetime.timedelta(seconds=rnd.randint(0, 365 * 86400))).strftime("%Y-%m-%d %H:%M:%S.%f")
        rows.append((f"BULK-{i:07d}", "Administrator", when, when, "Administrator", 0, 0, "LEAD-.YYYY.-", first, last,
                     f"{first} {last}", rnd.choice(COMPANIES), f"bulk{i}@example.com", phone, None,
                     None, rnd.choice(statuses), None, 0, 0, 0, 0, when[:10]))
        if len(rows) >= batch:
            local.db.bulk_insert("Lead", columns, rows)
            local.db.commit()
            local.db.begin()
            rows = []
    if rows:
        local.db.bulk_insert("Lead", columns, rows)
        local.db.commit()
        local.db.begin()
    return n

