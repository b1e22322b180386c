"""Demo data of the service desk for ``make run``: priorities, types, categories, two
teams (Tehran in Persian, Tel Aviv in Hebrew) with agents and a manager, and cases of
the CRM demo's customers across every state, through the normal document path.
``generate(count)`` runs after crm_app's demo (it needs its customers and products)."""
import datetime
import random

import lowcode
from lowcode.auth import set_password
from lowcode.context import local
from lowcode.workflow import apply_workflow

from crm_app.demo import DEMO_PASSWORD

PRIORITIES = [("Urgent", 1), ("High", 2), ("Medium", 3), ("Low", 4)]
TYPES = ["Complaint", "Service Request", "Question"]
CATEGORIES = ["Billing", "Installation", "Licensing", "Training", "Bug"]
USERS = [("support@demo.local", "Shirin", "Support Manager", "fa"), ("agent1@demo.local", "Arash", "Support Agent", "fa"),
         ("agent2@demo.local", "Niloufar", "Support Agent", "fa"), ("agent3@demo.local", "Yael", "Support Agent", "he"),
         ("agent4@demo.local", "Avi", "Support Agent", "he")]
TEAMS = {"Tehran Support": ("agent1@demo.local", "agent2@demo.local"),
         "Tel Aviv Support": ("agent3@demo.local", "agent4@demo.local")}
SUBJECTS = {
    "fa": ["فاکتور اشتباه صادر شده", "نرم‌افزار بعد از به‌روزرسانی باز نمی‌شود", "درخواست آموزش کاربران جدید",
           "پیامک‌ها ارسال نمی‌شوند", "مجوز منقضی شده است", "گزارش فروش عدد اشتباه نشان می‌دهد"],
    "he": ["החשבונית שגויה", "התוכנה לא נפתחת אחרי העדכון", "בקשה להדרכת משתמשים חדשים", "הודעות SMS לא נשלחות"],
    "en": ["Invoice shows the wrong amount", "Cannot log in after the update", "How do I export my contacts?",
           "Licence renewal question"],
}


def _ensure(doctype, name, values):
    if not local.db.exists(doctype, name):
        lowcode.get_doc(dict(values, doctype=doctype)).insert(ignore_permissions=True)


def masters():
    for name, rank in PRIORITIES:
        _ensure("Issue Priority", name, {"priority_name": name, "rank": rank})
    for name in TYPES:
        _ensure("Issue Type", name, {"issue_type_name": name})
    for name in CATEGORIES:
        _ensure("Case Category", name, {"category_name": name})
    for email, first, role, lang in USERS:
        if not local.db.exists("User", email):
            lowcode.get_doc({"doctype": "User", "email": email, "first_name": first, "language": lang,
                             "calendar": "Jalali" if lang == "fa" else "Gregorian",
                             "roles": [{"role": role}]}).insert(ignore_permissions=True)
            set_password(email, DEMO_PASSWORD)
    for team, agents in TEAMS.items():
        _ensure("Service Team", team, {"team_name": team, "manager": USERS[0][0],
                                       "members": [{"user": a, "languages": USERS[[u[0] for u in USERS].index(a)][3],
                                                    "capacity": 25} for a in agents]})


@lowcode.whitelist(methods=["POST"])
def generate(count: int = 200, seed: int = 11):
    """About ``count`` cases over the last 90 days across every state."""
    lowcode.only_for("System Manager")
    from lowcode.params import integer
    count = integer(count, "count", default=200, minimum=1, maximum=100000)
    rnd = random.Random(int(seed))
    masters()
    customers = local.db.sql("SELECT `name` FROM `tabCustomer` ORDER BY `name`", pluck=True)
    products = local.db.sql("SELECT `name` FROM `tabProduct` ORDER BY `name`", pluck=True)
    made = {"Case": 0}
    for i in range(count):
        team = rnd.choice(list(TEAMS))
        lang = "fa" if team == "Tehran Support" and rnd.random() < 0.8 else ("he" if rnd.random() < 0.6 else "en")
        case = lowcode.get_doc({
            "doctype": "Case", "subject": rnd.choice(SUBJECTS[lang]), "customer": rnd.choice(customers) if customers else None,
            "channel": rnd.choice(["Phone", "E-mail", "Portal", "Walk-in", "SMS", "Web Form"]),
            "priority": rnd.choice([p for p, _ in PRIORITIES] + ["Medium", "Low"]), "urgency": rnd.choice(["Low", "Medium", "High"]),
            "issue_type": rnd.choice(TYPES), "category": rnd.choice(CATEGORIES),
            "product": rnd.choice(products) if products else None, "service_team": team,
            "assigned_to": rnd.choice(TEAMS[team]), "language": lang})
        case.insert()
        _advance(case, rnd)
        made["Case"] += 1
    local.db.commit()
    local.db.begin()
    return made


def _advance(case, rnd):
    """Move a case along the workflow to a random state."""
    path = rnd.random()
    if path < 0.2:
        return
    apply_workflow(case, "Start")
    if path < 0.35:
        return
    if path < 0.5:
        apply_workflow(case, "Wait on Customer")
        return
    case.reload()
    case.root_cause = rnd.choice(["Configuration", "User error", "Defect", "Billing mistake"])
    case.resolution_details = rnd.choice(["Fixed the settings and confirmed with the customer",
                                          "تنظیمات اصلاح و با مشتری هماهنگ شد", "הבעיה תוקנה ואושרה מול הלקוח"])
    case.save()
    apply_workflow(case, "Resolve")
    if path < 0.8:
        return
    apply_workflow(case, "Close")
    if path > 0.95:
        apply_workflow(case, "Reopen")
