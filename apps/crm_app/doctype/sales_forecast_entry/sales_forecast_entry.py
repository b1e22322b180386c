"""Sales Forecast Entry: a salesperson's commit and best case for a period (usually a
month), which the Sales Forecast report sets beside the weighted pipeline and the
targets. Who may write which entry is a row rule (crm_app/permissions.py: a rep their
own, managers all)."""
from lowcode import _
from lowcode.document import Document
from lowcode.exceptions import ValidationError


class SalesForecastEntry(Document):
    def validate(self):
        if self.period_start and not self.period_end:
            # the month a rep means when giving its first day, in their calendar
            from crm_app.reports import month_bounds
            from lowcode.desk.formatting import month_of
            from lowcode.desk.render import prefs
            self.period_end = month_bounds(month_of(self.period_start, prefs()), prefs())[1].isoformat()
        if self.period_start and self.period_end and str(self.period_end)[:10] < str(self.period_start)[:10]:
            raise ValidationError(_("Period End is before Period Start"), field="period_end")
        commit, best = float(self.commit_amount or 0), float(self.best_case_amount or 0)
        if best < commit:
            raise ValidationError(_("Best Case is less than Commit"), field="best_case_amount")
