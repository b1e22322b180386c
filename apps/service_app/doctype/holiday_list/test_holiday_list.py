"""Holiday Lists: public holidays of Iran and Israel fill a list (the admin's own rows
stay), a date listed twice and a country without dates are refused by field."""
import pytest

import lowcode
from lowcode.exceptions import ValidationError

from service_app import sla
from service_app.sla import WEEKS, WorkingCalendar
from service_app.tests.helpers import tag
from service_app.tests.sla_helpers import H, at


def test_public_holidays_of_iran_and_israel_fill_a_list(ctx):
    nowruz = lowcode.get_doc({"doctype": "Holiday List", "holiday_list_name": f"Iran {tag()}", "country": "Iran",
                              "from_date": "2027-03-20", "to_date": "2027-03-25",
                              "holidays": [{"holiday_date": "2027-03-25", "description": "Company day"}]}).insert()
    assert [str(r.holiday_date) for r in nowruz.holidays] == [
        "2027-03-20", "2027-03-21", "2027-03-22", "2027-03-23", "2027-03-24", "2027-03-25"]
    assert "نوروز" in nowruz.holidays[1].description  # in Persian
    assert nowruz.holidays[-1].description == "Company day"  # the admin's own row stays

    israel = lowcode.get_doc({"doctype": "Holiday List", "holiday_list_name": f"Israel {tag()}",
                              "country": "Israel", "from_date": "2027-09-01", "to_date": "2027-10-31"}).insert()
    assert [str(r.holiday_date) for r in israel.holidays] == [
        "2027-10-02", "2027-10-03", "2027-10-11", "2027-10-16", "2027-10-23"]  # Rosh Hashanah .. Simchat Torah
    calendar = WorkingCalendar(WEEKS["Israel"], sla.holidays_of(israel.name))
    # Thursday 30 September 16:00 + 2h: Thursday 1h; Friday, Saturday, Sunday (Rosh Hashanah) off; Monday 1h
    assert calendar.add(at("2027-09-30 16:00"), 2 * H) == at("2027-10-04 10:00")

    with pytest.raises(ValidationError) as err:
        lowcode.get_doc({"doctype": "Holiday List", "holiday_list_name": f"Twice {tag()}",
                         "holidays": [{"holiday_date": "2027-01-01"}, {"holiday_date": "2027-01-01"}]}).insert()
    assert err.value.field == "holidays"
    with pytest.raises(ValidationError) as err:
        lowcode.get_doc({"doctype": "Holiday List", "holiday_list_name": f"No dates {tag()}",
                         "country": "Iran"}).insert()
    assert err.value.field == "from_date"
