"""A save writes past the ORM's unit of work (issue 13): the dossier's row is updated only
while it still has the version the save read, so a change someone committed in between
is a conflict, not overwritten, and nothing of the save is stored."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import OperationalError

from meldroute.webapp.models import Dossier, StepRecord, User
from meldroute.webapp.services import Conflict, dossier_state, flag_acute, save_step

from .conftest import SIGNALEREN, Browser

CONSULTEREN = {"geconsulteerd": ["cjg"], "consultatie_datum": "2026-11-24",
               "uitkomst_consultatie": "Advies: gesprek met ouders voeren."}


def _first_step_saved(app: Flask, browser: Browser) -> tuple[int, Any, Any, dt.date]:
    """A dossier of the IB-er's with step 1 saved; the registry, the database sessions and
    the day."""
    browser.login("ib")
    dossier_id = browser.new_dossier()
    assert browser.post_step(dossier_id, "signaleren", SIGNALEREN).status_code == 302
    return (dossier_id, app.extensions["meldroute.registry"],
            app.extensions["meldroute.db_sessions"], app.config["CLOCK"]())


def test_a_change_committed_after_the_save_read_the_dossier_makes_it_a_conflict(
        app: Flask, browser: Browser) -> None:
    dossier_id, registry, sessions, today = _first_step_saved(app, browser)
    audited: list[str] = []
    with app.app_context(), sessions() as saver, sessions() as other:
        dossier = saver.get(Dossier, dossier_id)
        author = saver.get(User, dossier.created_by_id)
        state = dossier_state(saver, registry, dossier, today)
        step = state.protocol.step("consulteren")
        # meanwhile a colleague flags acute danger (a change of the dossier's own row)
        flagged = other.get(Dossier, dossier_id)
        assert flag_acute(other, registry, flagged, other.get(User, dossier.created_by_id),
                          dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC), today)
        other.commit()
        with pytest.raises(Conflict):
            save_step(saver, registry, dossier, step, CONSULTEREN, author,
                      state.version(step.id), today, before=state,
                      before_commit=lambda: audited.append("change"))
    assert audited == []  # the save's audit entry is not written either
    with sessions() as db:
        stored = db.get(Dossier, dossier_id)
        assert stored.acute_at is not None  # the colleague's change stays
        assert db.scalar(select(func.count()).select_from(StepRecord).where(
            StepRecord.dossier_id == dossier_id, StepRecord.step_id == "consulteren")) == 0


def test_a_save_leaves_the_dossier_as_stored(app: Flask, browser: Browser) -> None:
    """The dossier object a save was given holds what the database now holds (its
    summary, version and revision), as a fresh read shows it."""
    dossier_id, registry, sessions, today = _first_step_saved(app, browser)
    columns = ("current_step", "stage", "next_question", "outcome", "responsible",
               "next_deadline", "row_version", "revision", "decided_on")
    with app.app_context(), sessions() as saver:
        dossier = saver.get(Dossier, dossier_id)
        before = {c: getattr(dossier, c) for c in columns}
        state = dossier_state(saver, registry, dossier, today)
        step = state.protocol.step("consulteren")
        record = save_step(saver, registry, dossier, step, CONSULTEREN,
                           saver.get(User, dossier.created_by_id), 0, today, before=state)
        held = {c: getattr(dossier, c) for c in columns}
        assert not saver.dirty
    with sessions() as db:
        stored = db.get(Dossier, dossier_id)
        assert {c: getattr(stored, c) for c in columns} == held
        assert db.get(StepRecord, record.id).version == 1
    assert held["row_version"] == before["row_version"] + 1
    assert held["revision"] != before["revision"]
    assert held["current_step"] != before["current_step"]


def test_a_refused_save_shows_who_saved_each_version(app: Flask, browser: Browser) -> None:
    """A save reads no authors; the page it shows when it refuses the form reads them
    as the step page does."""
    browser.login("ib")
    dossier_id = browser.new_dossier()
    assert browser.post_step(dossier_id, "signaleren", SIGNALEREN).status_code == 302
    shown = VERSIONS.search(browser.get(f"/dossiers/{dossier_id}/stap/signaleren"))
    assert shown and "Versie" in shown.group(0)
    refused = browser.post_step(dossier_id, "signaleren",
                                {**SIGNALEREN, "observaties-0-datum": "geen datum"}, base=1)
    assert refused.status_code == 400
    again = VERSIONS.search(browser.last)
    assert again and again.group(0) == shown.group(0)


VERSIONS = re.compile(r'<p class="versions">.*?</p>')


class _Deadlock(Exception):
    sqlstate = "40P01"  # as psycopg names PostgreSQL's deadlock_detected


def test_a_save_that_postgresql_ends_in_a_deadlock_is_a_conflict_that_stores_nothing(
        app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writes of one dossier at the same moment can deadlock on PostgreSQL, which then
    ends one of them: that save shows the conflict page with the answers as typed, not
    the page that says the database cannot be reached; nothing of it is stored."""
    dossier_id, *_ = _first_step_saved(app, browser)
    real_execute = Connection.execute

    def execute(self: Connection, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(getattr(statement, "table", None), "name", None) == "step_records":
            raise OperationalError("INSERT INTO step_records ...", {}, _Deadlock())
        return real_execute(self, statement, *args, **kwargs)

    browser.get(f"/dossiers/{dossier_id}/stap/consulteren")
    monkeypatch.setattr(Connection, "execute", execute)
    response = browser.post_step(dossier_id, "consulteren", {
        "geconsulteerd": ["cjg"], "consultatie_datum": "2026-11-24",
        "uitkomst_consultatie": "Advies: een gesprek met de ouders."})
    monkeypatch.undo()
    assert response.status_code == 409, browser.last[:300]
    assert "Je wijzigingen zijn niet opgeslagen" in browser.last
    assert "Advies: een gesprek met de ouders." in browser.last  # as typed
    assert "is opgeslagen" not in browser.get(f"/dossiers/{dossier_id}")  # no message
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.scalar(select(func.count()).select_from(StepRecord).where(
            StepRecord.dossier_id == dossier_id, StepRecord.step_id == "consulteren")) == 0
