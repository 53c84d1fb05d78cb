"""A write that PostgreSQL ends because a colleague's write clashed with it at the same
moment (a deadlock, a serialization failure) is not an outage: the person gets the page
that says so ("Tegelijk gewijzigd", 409) with what they typed, and nothing of it is stored.
A step's save has its own conflict page (test_save_guard.py)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from meldroute.webapp.models import AuditEvent, DossierNote

from .conftest import Browser
from .test_timeline import add_note

NOTE = "Moeder belde terug; afspraak op school gemaakt."


class _Ended(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("ended")
        self.sqlstate = sqlstate  # as psycopg names PostgreSQL's error code


def _note_refused(app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch,
                  sqlstate: str | None) -> tuple[Any, int]:
    """The leerkracht's note whose INSERT the database ends with ``sqlstate``: the
    response, and the dossier."""
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    real_flush = Session.flush

    def flush(self: Session, *args: Any, **kwargs: Any) -> None:
        if any(isinstance(added, DossierNote) for added in self.new):
            raise OperationalError("INSERT INTO dossier_notes ...", {}, _Ended(sqlstate))
        real_flush(self, *args, **kwargs)

    monkeypatch.setattr(Session, "flush", flush)
    response = add_note(browser, dossier, NOTE)
    monkeypatch.undo()
    return response, dossier


def _nothing_stored(app: Flask, dossier: int) -> None:
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.scalar(select(func.count()).select_from(DossierNote)) == 0
        assert db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "dossier.note", AuditEvent.dossier_id == dossier)) == 0


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_note_ended_by_a_clash_says_so_keeps_the_text_and_stores_nothing(
        app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch, sqlstate: str,
        caplog: pytest.LogCaptureFixture) -> None:
    response, dossier = _note_refused(app, browser, monkeypatch, sqlstate)
    assert response.status_code == 409, browser.last[:300]
    assert "Tegelijk gewijzigd" in browser.last
    assert "Er is niets opgeslagen" in browser.last
    assert "niet bereikbaar" not in browser.last
    assert NOTE in browser.last  # as typed, to copy
    assert '<label for="typed-1">Notitie</label>' in browser.last  # the page's own label
    assert NOTE not in caplog.text  # actions are logged, never content
    _nothing_stored(app, dossier)
    # the web session goes on: the dossier's page still opens, and a new try is stored
    assert add_note(browser, dossier, NOTE).status_code == 302
    assert NOTE in browser.get(f"/dossiers/{dossier}/tijdlijn")


def test_a_note_that_the_database_ends_otherwise_is_still_an_outage(
        app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    response, dossier = _note_refused(app, browser, monkeypatch, None)
    assert response.status_code == 503, browser.last[:300]
    assert "Tegelijk gewijzigd" not in browser.last
    assert NOTE in browser.last
    _nothing_stored(app, dossier)
