"""Demo data of the service desk for ``make run``: priorities, types, categories, two
teams (Tehran in Persian, Tel Aviv in Hebrew) with agents and a manager, the SLA set-up
(service_app/sla_demo.py), a resolution survey, knowledge-base articles
(service_app/knowledge_base_demo.py), and cases of the CRM demo's customers over the last
90 days in every state, each with a history: the SLA clocks run at the moments the
history gives (``flags.sla_now``), so response times, breaches and the dashboard look
like a desk that has been working for months; agents log time; about two in three
resolved cases get their survey answered. Everything goes through the normal document
path. ``generate(count)`` runs after crm_app's demo (it needs its customers)."""
import datetime
import random

import lowcode
from lowcode.context import local
from lowcode.utils import now_datetime
from lowcode.workflow import apply_workflow

from crm_app.demo import ensure_demo_user
from service_app import escalation, knowledge_base_demo, sla_demo, surveys

PRIORITIES = [("Urgent", 1), ("High", 2), ("Medium", 3), ("Low", 4)]
TYPES = ["Complaint", "Service Request", "Question"]
CATEGORIES = ["Billing", "Installation", "Licensing", "Training", "Bug"]
SURVEY = "After your case"
HISTORY_DAYS = 90
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
        ensure_demo_user(email, first, role, lang)
    for team, agents in TEAMS.items():
        _ensure("Service Team", team, {"team_name": team, "manager": USERS[0][0],
                                       "members": [{"user": a, "languages": USERS[[u[0] for u in USERS].index(a)][3],
                                                    "capacity": 25} for a in agents]})
    _ensure("Survey", SURVEY, {
        "title": SURVEY, "title_fa": "نظر شما دربارهٔ پشتیبانی", "title_he": "מה דעתך על השירות", "active": 1,
        "send_on_resolution": 1, "intro": "Your case was resolved. Two questions, one minute.",
        "intro_fa": "پروندهٔ شما حل شد. دو پرسش، یک دقیقه.", "intro_he": "הפנייה שלך נפתרה. שתי שאלות, דקה אחת.",
        "questions": [
            {"question": "How satisfied are you with how we handled your case?",
             "question_fa": "از رسیدگی به پرونده‌تان چقدر راضی هستید؟",
             "question_he": "עד כמה אתה מרוצה מהטיפול בפנייה?", "question_type": "Rating", "required": 1},
            {"question": "How likely are you to recommend us to a friend?",
             "question_fa": "چقدر احتمال دارد ما را به دوستانتان پیشنهاد کنید؟",
             "question_he": "עד כמה סביר שתמליץ עלינו לחבר?", "question_type": "NPS", "required": 1},
            {"question": "Anything we could do better?", "question_fa": "چه چیزی را می‌توانیم بهتر کنیم؟",
             "question_he": "מה נוכל לשפר?", "question_type": "Text", "required": 0}]})


@lowcode.whitelist(methods=["POST"])
def generate(count: int = 200, seed: int = 11):
    """About ``count`` cases over the last 90 days, with their histories."""
    lowcode.only_for("System Manager")
    from lowcode.params import integer
    count = integer(count, "count", default=200, minimum=1, maximum=100000)
    rnd = random.Random(int(seed))
    masters()
    sla_demo.setup()
    knowledge_base_demo.generate()
    customers = local.db.sql("SELECT `name` FROM `tabCustomer` ORDER BY `name`", pluck=True)
    contacts = dict(local.db.sql("SELECT `link_name`, MIN(`parent`) FROM `tabDynamic Link` WHERE "
                                 "`parenttype`='Contact' AND `link_doctype`='Customer' GROUP BY `link_name`"))
    products = local.db.sql("SELECT `name` FROM `tabProduct` ORDER BY `name`", pluck=True)
    now = now_datetime().replace(microsecond=0)
    made = {"Case": 0, "Case Time Log": 0, "Survey Response": 0}
    for i in range(count):
        team = rnd.choice(list(TEAMS))
        lang = "fa" if team == "Tehran Support" and rnd.random() < 0.8 else ("he" if rnd.random() < 0.6 else "en")
        customer = rnd.choice(customers) if customers else None
        day = (now - datetime.timedelta(days=rnd.randint(0, HISTORY_DAYS - 1))).replace(hour=0, minute=0, second=0)
        hour = rnd.randint(8, 17) if rnd.random() < 0.85 else rnd.randint(0, 23)  # mostly in office hours
        opened = min(day + datetime.timedelta(hours=hour, minutes=rnd.randint(0, 59)), now)
        case = lowcode.get_doc({
            "doctype": "Case", "subject": rnd.choice(SUBJECTS[lang]), "customer": customer,
            "contact": contacts.get(customer), "opened_on": opened,
            "channel": rnd.choice(["Phone", "E-mail", "Portal", "Walk-in", "SMS", "Web Form"]),
            # urgent cases of VIP customers are crises (service_app/escalation.py): keep them rare
            "priority": rnd.choices([p for p, _ in PRIORITIES], weights=[1, 3, 5, 3])[0],
            "urgency": rnd.choices(["Low", "Medium", "High"], weights=[4, 5, 1])[0],
            "issue_type": rnd.choice(TYPES), "category": rnd.choice(CATEGORIES),
            "product": rnd.choice(products) if products else None, "service_team": team,
            "assigned_to": rnd.choice(TEAMS[team]), "language": lang})
        case.flags.sla_now = opened
        case.insert(ignore_permissions=True)
        made["Case"] += 1
        resolved = _live(case, rnd, opened, now, made)
        if resolved and rnd.random() < 0.65:
            made["Survey Response"] += _answer_survey(case, rnd)
    escalation.check_service_levels()  # warnings and breaches of the cases still running
    local.db.commit()
    local.db.begin()
    return made


def _live(case, rnd, opened, now, made):
    """Move a case along the workflow at the moments of a plausible history that ends
    before now: picked up within hours, sometimes waiting on the customer, worked on
    (time logged), resolved within two days, most closed, a few reopened, a few stuck;
    recent cases are still open because their history reaches today. Returns True when
    it ended resolved."""
    moment = opened

    def step(action, after_minutes):
        nonlocal moment
        moment = moment + datetime.timedelta(minutes=after_minutes)
        if moment >= now:
            return False
        case.reload()
        case.flags.sla_now = moment
        apply_workflow(case, action)
        return True

    fate = rnd.random()
    if fate < 0.04 or not step("Start", rnd.randint(5, 4 * 60)):
        return False  # a few never picked up yet
    started = moment
    if fate < 0.3:  # asked the customer something
        if not step("Wait on Customer", rnd.randint(30, 10 * 60)) or fate < 0.1:  # some still waiting
            return False
        if not step("Customer Replied", rnd.randint(60, 2 * 24 * 60)):
            return False
    end = min(moment + datetime.timedelta(minutes=rnd.randint(60, 2 * 24 * 60)), now)
    for _ in range(rnd.randint(1, 3)):  # work done, logged by the agent
        begin = started + (end - started) * rnd.random()
        hours = rnd.choice([0.25, 0.5, 0.75, 1, 1.5, 2, 3])
        lowcode.get_doc({"doctype": "Case Time Log", "case": case.name, "agent": case.assigned_to,
                         "from_time": begin, "to_time": min(begin + datetime.timedelta(hours=hours), now),
                         "description": rnd.choice(["Remote session", "Call with the customer", "بررسی لاگ‌ها",
                                                    "בדיקת הגדרות"])}).insert(ignore_permissions=True)
        made["Case Time Log"] += 1
    if fate > 0.9 and fate < 0.93:
        return False  # stuck: the backlog's old cases
    case.reload()
    case.root_cause = rnd.choice(["Configuration", "User error", "Defect", "Billing mistake"])
    case.resolution_details = rnd.choice(["Fixed the settings and confirmed with the customer",
                                          "تنظیمات اصلاح و با مشتری هماهنگ شد", "הבעיה תוקנה ואושרה מול הלקוח"])
    case.save(ignore_permissions=True)
    if not step("Resolve", (end - moment).total_seconds() // 60):
        return False
    if fate > 0.4 and step("Close", rnd.randint(24 * 60, 3 * 24 * 60)) and fate > 0.95:
        step("Reopen", rnd.randint(60, 24 * 60))
        return False
    return True


def _answer_survey(case, rnd):
    """The contact answers the survey the resolution sent: mostly content, some not."""
    row = local.db.sql("SELECT `name` FROM `tabSurvey Invitation` WHERE `case`=%s AND `status`='Pending' "
                       "ORDER BY `creation` DESC LIMIT 1", (case.name,), pluck=True)
    if not row:
        return 0
    invitation = lowcode.get_doc("Survey Invitation", row[0])
    survey = lowcode.get_doc("Survey", invitation.survey)
    happy = rnd.random() < 0.8
    form = {}
    for q in survey.questions:
        field = surveys.field_name(q)
        if q.question_type == "Rating":
            form[field] = str(rnd.choice([4, 5, 5]) if happy else rnd.choice([1, 2, 3]))
        elif q.question_type == "NPS":
            form[field] = str(rnd.choice([8, 9, 10, 10]) if happy else rnd.choice([2, 5, 6, 7]))
        elif q.question_type == "Text" and not happy:
            form[field] = rnd.choice(["It took too long", "خیلی طول کشید", "זה לקח יותר מדי זמן"])
    answers, errors = surveys.parse_answers(survey, form)
    assert not errors, errors  # the demo answers what the survey asks
    surveys.record_response(invitation, answers)
    return 1
