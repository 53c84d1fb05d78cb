import datetime as dt

import pytest

from meldroute.engine.workdays import add_working_days, holidays_in, is_working_day

D = dt.date

# The days of the Algemene termijnenwet that fall on weekdays, 2026 and 2027.
ATW_2026 = {D(2026, 1, 1), D(2026, 4, 3), D(2026, 4, 6), D(2026, 4, 27), D(2026, 5, 5),
            D(2026, 5, 14), D(2026, 5, 25), D(2026, 12, 25)}
ATW_2027 = {D(2027, 1, 1), D(2027, 3, 26), D(2027, 3, 29), D(2027, 4, 27), D(2027, 5, 5),
            D(2027, 5, 6), D(2027, 5, 17)}


@pytest.mark.parametrize(("year", "expected"), [(2026, ATW_2026), (2027, ATW_2027)])
def test_holidays_of_the_algemene_termijnenwet(year, expected):
    weekdays = {d for d in holidays_in(year) if d.weekday() < 5}
    assert weekdays == expected


@pytest.mark.parametrize(("start", "days", "due"), [
    (D(2026, 11, 27), 5, D(2026, 12, 4)),   # Friday: next Friday
    (D(2026, 11, 28), 5, D(2026, 12, 4)),   # Saturday counts from Monday
    (D(2026, 12, 22), 5, D(2026, 12, 30)),  # Christmas on Friday
    (D(2027, 3, 25), 5, D(2027, 4, 5)),     # Good Friday and Easter Monday
    (D(2026, 5, 4), 1, D(2026, 5, 6)),      # 5 mei counts as a holiday every year
    (D(2026, 11, 27), 0, D(2026, 11, 27)),
])
def test_add_working_days(start, days, due):
    assert add_working_days(start, days) == due


def test_weekend_is_no_working_day():
    assert not is_working_day(D(2026, 11, 28))
    assert is_working_day(D(2026, 11, 30))
