"""Demo knowledge base: a few categories and articles in Persian, Hebrew and English,
most published (with some views and votes), one in review and one draft, so the /kb
pages, search and suggestions have something to show. Idempotent: articles already
there (same title and language) are left alone.

    lowcode --site SITE execute service_app.knowledge_base_demo.generate"""
import lowcode
from lowcode.workflow import apply_workflow

# (name, parent, description, Persian name, Hebrew name)
CATEGORIES = [("Internet", None, "Modems, routers and connection problems", "اینترنت", "אינטרנט"),
              ("Billing", None, "Invoices, payments and refunds", "صورت‌حساب و پرداخت", "חיובים ותשלומים"),
              ("Invoices", "Billing", "Copies and corrections of invoices", "فاکتورها", "חשבוניות")]

# (title, category, language, body paragraphs, state, views, helpful, not helpful)
ARTICLES = [
    ("راهنمای تنظیم مودم خانگی", "Internet", "fa",
     ["مودم را به برق و خط تلفن وصل کنید و ۲ دقیقه صبر کنید.",
      "در مرورگر نشانی 192.168.1.1 را باز کنید و نام کاربری و گذرواژه‌ی روی برچسب مودم را وارد کنید."],
     "Published", 42, 9, 1),
    ("چرا اینترنت من کند است؟", "Internet", "fa",
     ["سرعت را در ساعت‌های شلوغ و خلوت بسنجید.", "مودم را خاموش و روشن کنید و کابل‌ها را بررسی کنید."],
     "Published", 17, 4, 2),
    ("درخواست فاکتور رسمی", "Invoices", "fa",
     ["از پرتال مشتریان، بخش فاکتورها، گزینه‌ی «درخواست فاکتور رسمی» را بزنید."], "Published", 8, 2, 0),
    ("بازگشت وجه", "Billing", "fa", ["بازگشت وجه تا ۷ روز کاری انجام می‌شود."], "Review", 0, 0, 0),
    ("איך מגדירים את הנתב הביתי", "Internet", "he",
     ["חברו את הנתב לחשמל ולקו הטלפון והמתינו שתי דקות.", "פתחו בדפדפן את הכתובת 192.168.1.1."],
     "Published", 12, 3, 0),
    ("בקשת חשבונית מס", "Invoices", "he", ["בפורטל הלקוחות, בחרו חשבוניות ואז בקשת חשבונית מס."],
     "Published", 5, 1, 1),
    ("Setting up your home modem", "Internet", "en",
     ["Connect the modem to power and the phone line, then wait two minutes.",
      "Open 192.168.1.1 in a browser and sign in with the user name and password on the modem's label."],
     "Published", 30, 7, 2),
    ("How refunds work", "Billing", "en", ["Refunds are paid within 7 working days to the card you paid with."],
     "Published", 11, 2, 0),
    ("Changing the Wi-Fi password", "Internet", "en", ["Draft: steps to come."], "Draft", 0, 0, 0),
]


@lowcode.whitelist(methods=["POST"])
def generate():
    lowcode.only_for("System Manager")
    for name, parent, description, label_fa, label_he in CATEGORIES:
        if not lowcode.db.exists("Help Category", name):
            lowcode.get_doc({"doctype": "Help Category", "category_name": name, "parent_category": parent,
                             "description": description, "label_fa": label_fa, "label_he": label_he}).insert()
    made = 0
    for title, category, language, paragraphs, state, views, helpful, not_helpful in ARTICLES:
        if lowcode.db.sql("SELECT 1 FROM `tabHelp Article` WHERE `title`=%s AND `language`=%s", (title, language)):
            continue
        doc = lowcode.get_doc({"doctype": "Help Article", "title": title, "category": category,
                               "language": language,
                               "content": "".join(f"<p>{p}</p>" for p in paragraphs)}).insert()
        for action in {"Draft": [], "Review": ["Submit for Review"],
                       "Published": ["Submit for Review", "Publish"]}[state]:
            apply_workflow(doc, action)
        # The counters move only by their own UPDATEs (see service_app.knowledge_base).
        lowcode.db.sql("UPDATE `tabHelp Article` SET `views`=%s, `helpful`=%s, `not_helpful`=%s WHERE `name`=%s",
                       (views, helpful, not_helpful, doc.name))
        made += 1
    return made
