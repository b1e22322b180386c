"""Holiday List (ERPNext's shape): the dates no working time is counted on. Public
holidays of Iran and Israel can be added from the ``holidays`` library (as ERPNext's
"Add Local Holidays" does): Iran's lunar holidays are estimates there, so an admin checks
them against the official calendar; Israel's are the Yom Tov rest days."""
import holidays

from lowcode import _
from lowcode.document import Document
from lowcode.exceptions import ValidationError

# Our choice -> (the library's country code, the language of the descriptions)
COUNTRIES = {"Iran": ("IR", "fa_IR"), "Israel": ("IL", "he")}


class HolidayList(Document):
    def validate(self):
        if self.from_date and self.to_date and str(self.to_date) < str(self.from_date):
            raise ValidationError(_("To Date is before From Date"), field="to_date")
        previous = self._doc_before_save
        wanted = (self.country, self.from_date, self.to_date)
        if self.country and (previous is None or (previous.country, previous.from_date, previous.to_date) != wanted):
            self.add_public_holidays()
        dates = [str(row.holiday_date) for row in self.holidays]
        twice = sorted({d for d in dates if dates.count(d) > 1})
        if twice:
            raise ValidationError(_("{0}: listed more than once", ", ".join(twice)), field="holidays")

    def add_public_holidays(self):
        if not (self.from_date and self.to_date):
            raise ValidationError(_("Set From Date and To Date to add public holidays"), field="from_date")
        start, end = str(self.from_date), str(self.to_date)
        code, language = COUNTRIES[self.country]
        years = range(int(start[:4]), int(end[:4]) + 1)
        known = {str(row.holiday_date) for row in self.holidays}
        for day, name in sorted(holidays.country_holidays(code, years=years, language=language).items()):
            if start <= day.isoformat() <= end and day.isoformat() not in known:
                self.append("holidays", {"holiday_date": day.isoformat(), "description": name})
        self.holidays.sort(key=lambda row: str(row.holiday_date))
