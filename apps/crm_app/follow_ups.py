"""/app/follow-ups: who is overdue under each enabled follow-up rule (customers the
user may read whose last contact is older than the rule allows)."""
import lowcode
from lowcode.desk.render import render
from lowcode.desk.views.common import desk_view

from crm_app.reports import overdue_follow_ups


@desk_view
def page(request, name):
    rules = lowcode.get_list("Follow-up Rule", fields=["name", "every_n_days"], filters={"enabled": 1},
                             order_by="name asc", limit_page_length=0)
    return render("crm_app/follow_ups.html", rules=[dict(r, overdue=overdue_follow_ups(r["name"])) for r in rules])
