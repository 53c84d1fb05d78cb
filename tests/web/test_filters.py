"""Dates and times as a Dutch school reads them: Europe/Amsterdam, whatever the server's
clock says (stored times are UTC)."""

from __future__ import annotations

import datetime as dt

import pytest

from meldroute.webapp.filters import dutch_date, tel_uri


@pytest.mark.parametrize(("stored", "shown"), [
    (dt.datetime(2026, 11, 29, 4, 18, tzinfo=dt.UTC), "29 november 2026 05:18"),  # winter
    (dt.datetime(2026, 11, 29, 4, 18), "29 november 2026 05:18"),  # naive = UTC (SQLite)
    (dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC), "1 juli 2026 12:00"),  # summer time
    (dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), "1 januari 2027 00:30"),  # next day
    (dt.date(2026, 12, 22), "dinsdag 22 december 2026"),
    ("2026-12-22", "dinsdag 22 december 2026"),
])
def test_times_are_shown_in_dutch_school_time(stored, shown):
    assert dutch_date(stored) == shown


def test_short_national_numbers_are_dialled_as_they_are():
    assert tel_uri("112") == "tel:112"
    assert tel_uri("0800-2000") == "tel:+318002000"
