"""/app/best-leads: "my best leads to call today": the user's open leads (their own, through
the row rules in SQL) by score, then predicted conversion, leaving out those already called
or written to today."""
import datetime

import lowcode
from lowcode.context import local
from lowcode.desk.render import render
from lowcode.desk.views.common import desk_view

from crm_app.scoring import no_model_message

OPEN = ["New", "Contacted", "Qualified"]
SHOWN = 50


def best_leads(user=None, limit=SHOWN):
    """[{name, lead_name, company_name, status, lead_score, conversion_probability}] of
    ``user``'s open leads, best first, not contacted today."""
    user = user or local.user
    fields = ["name", "lead_name", "company_name", "status", "lead_score", "conversion_probability"]
    # Contacted-today leads are few; read a few pages' worth to be left with ``limit``.
    leads = lowcode.get_list("Lead", fields=fields, filters=[["lead_owner", "=", user], ["status", "in", OPEN]],
                             order_by="lead_score desc, conversion_probability desc, name asc",
                             limit_page_length=limit * 4)
    contacted = contacted_today([r["name"] for r in leads])
    return [r for r in leads if r["name"] not in contacted][:limit]


def contacted_today(names):
    """The leads among ``names`` with a call or message since midnight (which only narrows a
    list the user may read)."""
    if not names:
        return set()
    midnight = datetime.date.today().isoformat() + " 00:00:00"
    marks = ", ".join(["%s"] * len(names))
    rows = local.db.sql(
        f"SELECT `reference_name` FROM `tabCall Log` WHERE `reference_doctype`='Lead' AND `started_at`>=%s "
        f"AND `reference_name` IN ({marks}) UNION SELECT `reference_name` FROM `tabCommunication` "
        f"WHERE `reference_doctype`='Lead' AND `communication_date`>=%s AND `reference_name` IN ({marks})",
        [midnight, *names, midnight, *names])
    return {r[0] for r in rows}


@desk_view
def page(request, name):
    return render("crm_app/best_leads.html", leads=best_leads(), no_model=no_model_message())
