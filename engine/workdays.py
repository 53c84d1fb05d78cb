"""Dutch working days: weekends and the holidays of the Algemene termijnenwet do not count.

The Algemene termijnenwet (art. 3) names Nieuwjaarsdag, tweede Paas- en Pinksterdag, beide
Kerstdagen, Hemelvaartsdag, Koningsdag and 5 mei (every year), and Goede Vrijdag is put on
a par with them. The ``holidays`` package has these as the Netherlands' public holidays
plus its optional category (Bevrijdingsdag in the years it is not a national day off).
"""

from __future__ import annotations

import datetime as dt
import functools

from . import cache


@functools.cache
def holidays_in(year: int) -> frozenset[dt.date]:
    """The year's holidays (kept in the command line's cache: ``holidays`` takes ~0.2 s to
    import and compute, and its version is in the cache's key)."""
    return cache.memo("holidays", (str(year),), lambda: _holidays(year))


def _holidays(year: int) -> frozenset[dt.date]:
    import holidays

    return frozenset(holidays.country_holidays(
        "NL", years=year, categories=(holidays.PUBLIC, holidays.OPTIONAL)))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in holidays_in(day.year)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself when ``days`` is 0)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day, counted = start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


_DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december")


def dutch_date(day: dt.date) -> str:
    """``dinsdag 22 december 2026``."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"
