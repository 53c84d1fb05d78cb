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

# What ``holidays`` 0.109 gives for these years (``written_out``): importing the package
# loads every country it knows (~0.3 s, a third of a first ``meldroute check``). Used only
# while that version is installed; ``tests/test_check_workdays.py`` compares the table
# with the installed package.
TABLE_VERSION = "0.109"
TABLE = {
    2024: "01-01 03-29 03-31 04-01 04-27 05-05 05-09 05-19 05-20 12-25 12-26",
    2025: "01-01 04-18 04-20 04-21 04-26 05-05 05-29 06-08 06-09 12-25 12-26",
    2026: "01-01 04-03 04-05 04-06 04-27 05-05 05-14 05-24 05-25 12-25 12-26",
    2027: "01-01 03-26 03-28 03-29 04-27 05-05 05-06 05-16 05-17 12-25 12-26",
    2028: "01-01 04-14 04-16 04-17 04-27 05-05 05-25 06-04 06-05 12-25 12-26",
    2029: "01-01 03-30 04-01 04-02 04-27 05-05 05-10 05-20 05-21 12-25 12-26",
    2030: "01-01 04-19 04-21 04-22 04-27 05-05 05-30 06-09 06-10 12-25 12-26",
    2031: "01-01 04-11 04-13 04-14 04-26 05-05 05-22 06-01 06-02 12-25 12-26",
    2032: "01-01 03-26 03-28 03-29 04-27 05-05 05-06 05-16 05-17 12-25 12-26",
    2033: "01-01 04-15 04-17 04-18 04-27 05-05 05-26 06-05 06-06 12-25 12-26",
    2034: "01-01 04-07 04-09 04-10 04-27 05-05 05-18 05-28 05-29 12-25 12-26",
    2035: "01-01 03-23 03-25 03-26 04-27 05-03 05-05 05-13 05-14 12-25 12-26",
    2036: "01-01 04-11 04-13 04-14 04-26 05-05 05-22 06-01 06-02 12-25 12-26",
    2037: "01-01 04-03 04-05 04-06 04-27 05-05 05-14 05-24 05-25 12-25 12-26",
    2038: "01-01 04-23 04-25 04-26 04-27 05-05 06-03 06-13 06-14 12-25 12-26",
    2039: "01-01 04-08 04-10 04-11 04-27 05-05 05-19 05-29 05-30 12-25 12-26",
    2040: "01-01 03-30 04-01 04-02 04-27 05-05 05-10 05-20 05-21 12-25 12-26",
}


@functools.cache
def holidays_in(year: int) -> frozenset[dt.date]:
    """The year's holidays (kept in the command line's cache: ``holidays`` takes ~0.3 s to
    import and compute, and its version is in the cache's key)."""
    if year in TABLE and cache.installed_version("holidays") == TABLE_VERSION:
        return frozenset(dt.date(year, int(d[:2]), int(d[3:])) for d in TABLE[year].split())
    return cache.memo("holidays", (str(year),), lambda: _holidays(year))


def written_out(years: range) -> dict[int, str]:
    """The holidays of ``years`` as ``TABLE`` holds them, from the installed package."""
    return {year: " ".join(d.strftime("%m-%d") for d in sorted(_holidays(year)))
            for year in years}


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
