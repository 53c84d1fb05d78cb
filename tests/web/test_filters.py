"""Dates and times as a Dutch school reads them: Europe/Amsterdam, whatever the server's
clock says (stored times are UTC)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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


def test_the_app_counts_days_by_the_dutch_calendar():
    from meldroute.webapp.app import defaults
    from meldroute.webapp.filters import SCHOOL_TIME

    clock = defaults(Path("/tmp"))["CLOCK"]
    assert clock() == dt.datetime.now(SCHOOL_TIME).date()


def test_the_logbook_speaks_dutch():
    from meldroute.webapp.filters import action_label, result_label

    assert result_label("rejected") == "geweigerd: niet volledig ingevuld"
    assert result_label("ok") == "gelukt" and "eerder" in result_label("conflict")
    assert action_label("dossier.change") == "gewijzigd"


def test_logbook_details_name_steps_by_their_title(protocol):
    from meldroute.webapp.filters import audit_detail

    assert audit_detail("afwegen", protocol) == "stap 4 (Afwegen)"
    assert audit_detail("signaleren versie 2", protocol) == "stap 1 (Signaleren), versie 2"
    assert audit_detail("signaleren versies", protocol) == (
        "stap 1 (Signaleren), alle versies bekeken")
    assert audit_detail("3 dossiers", protocol) == "3 dossiers"
