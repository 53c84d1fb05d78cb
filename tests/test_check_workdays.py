"""Issue 13: the Dutch holidays written out in ``workdays.TABLE`` (so that a first run
need not import the ``holidays`` package) are what the installed package gives."""

from __future__ import annotations

from meldroute.engine import cache, workdays


def test_the_written_out_holidays_are_those_of_the_installed_package():
    years = range(min(workdays.TABLE), max(workdays.TABLE) + 1)
    assert workdays.written_out(years) == workdays.TABLE, (
        "the holidays package gives other dates: write the table out again "
        "(workdays.written_out) with TABLE_VERSION set to its version")


def test_the_table_is_used_only_with_the_version_it_was_written_from(monkeypatch):
    workdays.holidays_in.cache_clear()
    monkeypatch.setattr(cache, "installed_version", lambda name: "0.0-other")
    try:
        from_package = workdays.holidays_in(2026)
    finally:
        workdays.holidays_in.cache_clear()
    assert from_package == workdays.holidays_in(2026)
    assert workdays.is_working_day(workdays.dt.date(2026, 5, 5)) is False  # Bevrijdingsdag
