"""A chart on a workspace: a time series (count, sum or average of documents per
day, week, month, quarter or year over the chosen timespan) or a breakdown by the
values of one field (Group By). Computed for the person looking at it through the
permission-checked query layer, like Number Card.

Time series buckets are one aggregate query per bucket (``based_on >= start AND
based_on < next start``) rather than SQL date functions, which the query layer does
not offer and which differ between SQLite and MariaDB; it is exact at any volume,
and validate() caps the number of buckets so a chart costs at most MAX_BUCKETS
small indexed queries."""
import datetime

import jdatetime
from dateutil.relativedelta import relativedelta

from lowcode import query
from lowcode.document import Document
from lowcode.exceptions import ValidationError
from lowcode.fields import types_where
from lowcode.meta import get_meta

from ..number_card.number_card import check_field, check_filters, parse_filters_json

TIMESPANS = {"Last Week": relativedelta(weeks=1), "Last Month": relativedelta(months=1),
             "Last Quarter": relativedelta(months=3), "Last Year": relativedelta(years=1)}
STEPS = {"Daily": relativedelta(days=1), "Weekly": relativedelta(weeks=1), "Monthly": relativedelta(months=1),
         "Quarterly": relativedelta(months=3), "Yearly": relativedelta(years=1)}
FUNCTIONS = {"Count": "count", "Sum": "sum", "Average": "avg"}
MAX_BUCKETS = 100
MAX_GROUPS = 20


def interval_start(day, interval, calendar="Gregorian"):
    """The first day of the day/week (Monday; Saturday in the Jalali calendar)/month/
    quarter/year holding ``day``, in ``calendar``."""
    if calendar == "Jalali" and interval != "Daily":
        if interval == "Weekly":
            return day - datetime.timedelta(days=(day.weekday() - 5) % 7)
        j = jdatetime.date.fromgregorian(date=day)
        month = 1 if interval == "Yearly" else ((j.month - 1) // 3 * 3 + 1 if interval == "Quarterly" else j.month)
        return jdatetime.date(j.year, month, 1).togregorian()
    if interval == "Weekly":
        return day - datetime.timedelta(days=day.weekday())
    if interval == "Monthly":
        return day.replace(day=1)
    if interval == "Quarterly":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if interval == "Yearly":
        return day.replace(month=1, day=1)
    return day


def buckets(timespan, interval, today=None, calendar="Gregorian"):
    """[(start, next start)] covering the timespan up to today, aligned to the interval
    in ``calendar`` (a Jalali user's months are Jalali months)."""
    today = today or datetime.date.today()
    step = STEPS[interval or "Daily"]
    start = interval_start(today - TIMESPANS[timespan or "Last Month"], interval, calendar)
    out = []
    while start <= today:
        following = _add_jalali(start, step.months + 12 * step.years) \
            if calendar == "Jalali" and (step.months or step.years) else start + step
        out.append((start, following))
        start = following
    return out


def _add_jalali(day, months):
    """The first of the Jalali month ``months`` after the one of ``day`` (a month start)."""
    j = jdatetime.date.fromgregorian(date=day)
    index = j.year * 12 + j.month - 1 + months
    return jdatetime.date(index // 12, index % 12 + 1, 1).togregorian()


class DashboardChart(Document):
    def validate(self):
        meta = get_meta(self.document_type)
        if meta.istable or meta.issingle:
            raise ValidationError(f"{self.document_type} cannot be charted: choose a DocType with a list",
                                  field="document_type")
        if self.chart_type == "Group By":
            if not meta.has_field(self.group_by_based_on or "") and self.group_by_based_on != "owner":
                raise ValidationError(f"Group By Based On: {meta.name} has no field {self.group_by_based_on!r}",
                                      field="group_by_based_on")
        else:
            check_field(meta, self.based_on, types_where("dated"), "Time Series Based On", "based_on")
            count = len(buckets(self.timespan, self.time_interval))
            if count > MAX_BUCKETS:
                raise ValidationError(f"Time Interval: {self.time_interval} over {self.timespan} makes {count} "
                                      f"points, at most {MAX_BUCKETS}: choose a longer interval",
                                      field="time_interval")
        if self.chart_type in ("Sum", "Average") or (self.chart_type == "Group By" and self.value_based_on):
            check_field(meta, self.value_based_on, types_where("numeric"), "Value Based On", "value_based_on")
        check_filters(self.filters_json, self.document_type)

    def get_data(self, user=None, today=None, calendar="Gregorian"):
        """{"labels", "values", "type"} for ``user``, a time series in buckets of
        ``calendar``; PermissionError without read access."""
        filters = query.normalise_filters(parse_filters_json(self.filters_json), self.document_type)
        if self.chart_type == "Group By":
            return self._group_by(filters, user)
        fn = FUNCTIONS.get(self.chart_type, "count")
        target = "*" if fn == "count" else self.value_based_on
        labels, values = [], []
        for start, end in buckets(self.timespan, self.time_interval, today, calendar):
            rows = query.get_list(self.document_type, fields=[f"{fn}({target}) as value"],
                                  filters=filters + [[self.based_on, ">=", start.isoformat()],
                                                     [self.based_on, "<", end.isoformat()]],
                                  limit_page_length=0, order_by=None, user=user)
            value = rows[0]["value"] if rows else None
            labels.append(start.isoformat())
            values.append(float(value or 0))
        return {"labels": labels, "values": values, "type": (self.type or "Line").lower(), "dates": True,
                "interval": self.time_interval or "Daily"}

    def _group_by(self, filters, user):
        value = f"sum({self.value_based_on}) as value" if self.value_based_on else "count(*) as value"
        rows = query.get_list(self.document_type, fields=[f"{self.group_by_based_on} as label", value],
                              filters=filters, group_by=self.group_by_based_on, order_by="value desc",
                              limit_page_length=MAX_GROUPS, user=user)
        return {"labels": [r["label"] for r in rows], "values": [float(r["value"] or 0) for r in rows],
                "type": (self.type or "Bar").lower(), "dates": False}
