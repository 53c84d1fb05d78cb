"""Attacks on the save that writes past the ORM's unit of work (issue 13, review 8): a
change that comes between the save's read and its write, a failure halfway, two
transactions that take the same locks in another order (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from meldroute.webapp import audit
from meldroute.webapp import dossiers as dossier_views
from meldroute.webapp.models import AuditEvent, Dossier, StepRecord, User

from .conftest import BASE, SIGNALEREN, TOKEN, Browser

CONSULTEREN = {"geconsulteerd": ["cjg"], "consultatie_datum": "2026-11-24",
               "uitkomst_consultatie": "Advies: een gesprek met de ouders voeren."}


def _form(browser: Browser, dossier: int, step: str, answers: dict[str, Any]) -> dict[str, Any]:
    html = browser.get(f"/dossiers/{dossier}/stap/{step}")
    base = BASE.search(html)
    assert base
    return {"action": "save", "csrf_token": TOKEN.search(html).group(1),  # type: ignore[union-attr]
            "base_version": base.group(1), **answers}


def _post(browser: Browser, url: str, data: dict[str, Any] | None = None) -> int:
    token = TOKEN.search(browser.get("/account")).group(1)  # type: ignore[union-attr]
    return browser.client.post(url, data={"csrf_token": token, **(data or {})}).status_code


def _stored(app: Flask, dossier: int) -> tuple[Any, ...]:
    with app.extensions["meldroute.db_sessions"]() as db:
        row = db.get(Dossier, dossier)
        assert row is not None
        versions = db.scalar(select(func.count()).select_from(StepRecord).where(
            StepRecord.dossier_id == dossier, StepRecord.step_id == "consulteren"))
        changes = db.scalars(select(AuditEvent.result).where(
            AuditEvent.dossier_id == dossier, AuditEvent.action == "dossier.change",
            AuditEvent.detail == "consulteren")).all()
        assert audit.verify(db)[1] is None
        return (row.current_step, row.stage, row.next_deadline, row.row_version, versions,
                list(changes))


def _in_between(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> None:
    """Run ``act`` (in another thread, with its own request) after the save read the
    dossier and before it writes."""
    real = dossier_views.save_step
    other = threading.Thread(target=act)

    def save_step(*args: Any, **kwargs: Any) -> Any:
        if other.ident is None:
            other.start()  # (once: the other request's own save goes straight through)
            other.join()
        return real(*args, **kwargs)

    monkeypatch.setattr(dossier_views, "save_step", save_step)


@pytest.mark.parametrize("meanwhile", ["acuut", "andere stap", "andere versie"])
def test_a_change_between_the_read_and_the_write_of_a_save_is_a_conflict_page(
        app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch, meanwhile: str) -> None:
    browser.login("ib")
    dossier = browser.new_dossier()
    assert browser.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    colleague = Browser(app, app.test_client())
    colleague.login("ib")
    if meanwhile == "acuut":
        def act() -> None:
            assert _post(colleague, f"/dossiers/{dossier}/acuut") == 302
    elif meanwhile == "andere versie":  # ``meldroute dossiers migrate`` moves it
        from .test_migrate import _old_version, _pin
        older = _old_version(app)

        def act() -> None:
            _pin(app, older, dossier)
    else:
        again = _form(colleague, dossier, "signaleren",
                      {**SIGNALEREN, "interpretatie": "Zorgen, na een tweede gesprek."})

        def act() -> None:
            assert colleague.client.post(f"/dossiers/{dossier}/stap/signaleren",
                                         data=again).status_code == 302
    form = _form(browser, dossier, "consulteren", CONSULTEREN)
    _in_between(monkeypatch, act)
    response = browser.client.post(f"/dossiers/{dossier}/stap/consulteren", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Advies: een gesprek met de ouders voeren." in page  # what they typed is there
    assert "is opgeslagen" not in page
    # not this step: the dossier changed otherwise, and the page says so
    assert "Iemand anders heeft dit dossier intussen gewijzigd" in page
    assert "deze stap intussen opgeslagen" not in page
    after = _stored(app, dossier)
    assert after[4:] == (0, ["conflict"])  # no version of the save, no "ok" entry
    assert "is opgeslagen" not in browser.get(f"/dossiers/{dossier}")


def test_a_failure_after_the_save_wrote_the_dossier_stores_nothing(
        app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    browser.login("ib")
    dossier = browser.new_dossier()
    assert browser.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    before = _stored(app, dossier)
    form = _form(browser, dossier, "consulteren", CONSULTEREN)

    def broken() -> None:  # the audit entry and the dossier's UPDATE are written by now
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(dossier_views, "stage_web_session", broken)
    response = browser.client.post(f"/dossiers/{dossier}/stap/consulteren", data=form)
    assert response.status_code == 500
    assert "Er is niets opgeslagen" in response.get_data(as_text=True)
    monkeypatch.undo()
    assert _stored(app, dossier) == before
    page = browser.get(f"/dossiers/{dossier}")  # the next request works
    assert "is opgeslagen" not in page
    assert browser.post_step(dossier, "consulteren", CONSULTEREN).status_code == 302
    assert _stored(app, dossier)[4] == 1


def test_a_clash_at_the_commit_after_the_message_was_written_says_not_saved(
        app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    """The web session's row was written with "opgeslagen" in the save's transaction; the
    commit then fails: the message must not come back."""
    browser.login("ib")
    dossier = browser.new_dossier()
    assert browser.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    before = _stored(app, dossier)
    form = _form(browser, dossier, "consulteren", CONSULTEREN)
    real = dossier_views.stage_web_session

    def then_a_clash() -> None:
        real()
        # a version of this step that another save wrote: the INSERT at the flush clashes
        taken = StepRecord(dossier_id=dossier, step_id="signaleren", version=1, data="{}",
                           author_id=dossier_views.g.user.id)
        dossier_views.db().add(taken)

    monkeypatch.setattr(dossier_views, "stage_web_session", then_a_clash)
    response = browser.client.post(f"/dossiers/{dossier}/stap/consulteren", data=form)
    assert response.status_code == 409
    monkeypatch.undo()
    after = _stored(app, dossier)
    assert after[:5] == before[:5] and after[5] == ["conflict"]
    assert "is opgeslagen" not in browser.get(f"/dossiers/{dossier}")


def test_the_saved_answers_are_encrypted_at_rest(app: Flask, browser: Browser) -> None:
    browser.login("ib")
    dossier = browser.new_dossier()
    assert browser.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    assert browser.post_step(dossier, "consulteren", CONSULTEREN).status_code == 302
    with app.extensions["meldroute.db_sessions"]() as db:
        raw = db.execute(text("SELECT data FROM step_records WHERE step_id = 'consulteren'")
                         ).scalar_one()
    assert "gesprek met de ouders" not in raw
    assert "gesprek met de ouders" in browser.get(f"/dossiers/{dossier}/stap/consulteren")


def _someone_waits_for_a_lock(url: str) -> None:
    """Until another transaction waits for a row lock (PostgreSQL)."""
    watcher = create_engine(url)
    try:
        with watcher.connect() as connection:
            for _ in range(200):
                if connection.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                )).scalar():
                    return
                connection.execute(text("SELECT pg_sleep(0.05)"))
    finally:
        watcher.dispose()


def test_a_save_and_taking_someone_off_the_dossier_at_once_both_go_through(
        app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    """The save holds the dossier's row, then wants the audit trail's head; taking someone
    off the dossier must not hold the head while it waits for the dossier's row (a
    deadlock: PostgreSQL ends one of the two, the user gets "niet bereikbaar")."""
    url = app.config["DATABASE_URL"]
    if not url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL (SQLite writes one at a time)")
    browser.login("ib")
    dossier = browser.new_dossier()
    assert browser.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    with app.extensions["meldroute.db_sessions"]() as db:
        zorg = db.scalar(select(User.id).where(User.username == "regenboog-zorgteam"))
    assert _post(browser, f"/dossiers/{dossier}/mensen",
                 {"kind": "staff", "user_id": zorg, "task": "zorgteam"}) == 302
    with app.extensions["meldroute.db_sessions"]() as db:
        assignment = db.execute(text("SELECT id FROM dossier_assignments WHERE dossier_id = :d"),
                                {"d": dossier}).scalar_one()
    colleague = Browser(app, app.test_client())
    colleague.login("ib")
    token = TOKEN.search(colleague.get("/account")).group(1)  # type: ignore[union-attr]
    form = _form(browser, dossier, "consulteren", CONSULTEREN)
    results: list[int] = []

    def take_off() -> None:
        results.append(colleague.client.post(
            f"/dossiers/{dossier}/mensen/{assignment}/verwijderen",
            data={"csrf_token": token}).status_code)

    real = dossier_views.record
    other = threading.Thread(target=take_off)

    def record(action: str, **kwargs: Any) -> None:
        if action == "dossier.change" and "result" not in kwargs and not other.is_alive():
            other.start()  # the save holds the dossier's row by now
            _someone_waits_for_a_lock(url)
        real(action, **kwargs)

    monkeypatch.setattr(dossier_views, "record", record)
    status = browser.client.post(f"/dossiers/{dossier}/stap/consulteren",
                                 data=form).status_code
    other.join()
    assert (status, results) == (302, [302])
    assert _stored(app, dossier)[4:] == (1, ["ok"])


def test_a_page_kept_by_one_process_shows_a_save_made_by_another(
        app: Flask, browser: Browser, tmp_path: Any) -> None:
    """Two app processes on one database: what one keeps, the other's save replaces (the
    step page, the dossier page and the overview's stage)."""
    from meldroute.webapp.app import create_app
    from meldroute.webapp.pagecache import PAGES

    other_app = create_app(dict(app.config))  # the same instance folder (its keys)
    browser.login("ib")
    dossier = browser.new_dossier()
    assert browser.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    step, show = f"/dossiers/{dossier}/stap/consulteren", f"/dossiers/{dossier}"
    for url in (step, show, step, show):
        browser.get(url)
    pages = app.extensions[PAGES]
    hits = pages.hits
    row = f'href="/dossiers/{dossier}"'
    listed = browser.get("/dossiers").split(row)[1][:600]
    elsewhere = Browser(other_app, other_app.test_client())
    elsewhere.client.set_cookie("meldroute", browser.client.get_cookie("meldroute").value,
                                domain="localhost")
    try:
        assert elsewhere.post_step(dossier, "consulteren", CONSULTEREN).status_code == 302
        assert "is opgeslagen" in browser.get(show)  # the message, written by the other
        assert "gesprek met de ouders" in browser.get(step)
        assert pages.hits == hits  # nothing served from what was kept before the save
        assert browser.get("/dossiers").split(row)[1][:600] != listed  # the new summary
    finally:
        other_app.extensions["meldroute.db_engine"].dispose()


def test_a_save_in_a_web_session_due_a_touch_keeps_the_touch_and_the_message(
        app: Flask, browser: Browser, now: Any) -> None:
    browser.login("ib")
    dossier = browser.new_dossier()
    assert browser.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    form = _form(browser, dossier, "consulteren", CONSULTEREN)
    now.advance(minutes=5)  # the save's request moves the last-seen time
    response = browser.client.post(f"/dossiers/{dossier}/stap/consulteren", data=form,
                                   environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 302
    with app.extensions["meldroute.db_sessions"]() as db:
        row = db.execute(text("SELECT last_seen_at, address, data FROM web_sessions "
                              "WHERE user_id IS NOT NULL ORDER BY last_seen_at DESC")).first()
    assert row is not None and row.address == "192.0.2.7" and "opgeslagen" in row.data
    assert str(row.last_seen_at).startswith("2026-11-27 09:0")
    assert "is opgeslagen" in browser.get(f"/dossiers/{dossier}")
    assert _stored(app, dossier)[4:] == (1, ["ok"])


def test_a_web_session_ended_during_the_save(app: Flask, browser: Browser,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Signed out elsewhere while the save runs: the save, authorised when it began, is
    stored and audited once; the next page asks to sign in (no error)."""
    browser.login("ib")
    dossier = browser.new_dossier()
    assert browser.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    form = _form(browser, dossier, "consulteren", CONSULTEREN)

    def sign_out_elsewhere() -> None:
        with app.extensions["meldroute.db_sessions"]() as db:
            db.execute(text("DELETE FROM web_sessions"))
            db.commit()

    _in_between(monkeypatch, sign_out_elsewhere)
    response = browser.client.post(f"/dossiers/{dossier}/stap/consulteren", data=form)
    assert response.status_code == 302
    assert _stored(app, dossier)[4:] == (1, ["ok"])
    after = browser.client.get(f"/dossiers/{dossier}")
    assert after.status_code == 302 and "/inloggen" in after.headers["Location"]


def test_a_note_written_while_a_step_is_saved_leaves_both(
        app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    """A note is no change of the route: it does not make a save a conflict."""
    browser.login("ib")
    dossier = browser.new_dossier()
    assert browser.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    colleague = Browser(app, app.test_client())
    colleague.login("ib")

    def act() -> None:
        assert _post(colleague, f"/dossiers/{dossier}/notities",
                     {"text": "Moeder belde terug."}) == 302

    form = _form(browser, dossier, "consulteren", CONSULTEREN)
    _in_between(monkeypatch, act)
    assert browser.client.post(f"/dossiers/{dossier}/stap/consulteren",
                               data=form).status_code == 302
    assert _stored(app, dossier)[4:] == (1, ["ok"])
    assert "Moeder belde terug." in browser.get(f"/dossiers/{dossier}/tijdlijn")


def test_the_kept_page_of_a_linked_dossier_follows_a_save_of_the_other(
        app: Flask, browser: Browser) -> None:
    """A page of dossier B names dossier A (linked): it is kept under A's revision too, so a
    save of A, which renews A's revision in its UPDATE, lets B's kept page go."""
    from meldroute.webapp.pagecache import PAGES

    browser.login("ib")
    home = browser.new_dossier()
    token = browser.token()
    response = browser.client.post("/dossiers/nieuw", data={
        "csrf_token": token, "pupil_initials": "A.B.", "pupil_group": "5b",
        "pupil_name": "Fictieve Leerling", "linked": str(home)})
    assert response.status_code == 302, response.get_data(as_text=True)
    linked = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with app.extensions["meldroute.db_sessions"]() as db:
        row = db.get(Dossier, linked)
        assert row is not None and row.linked_dossier_id == home
    url = f"/dossiers/{linked}"
    browser.get(url)
    browser.get(url)
    pages = app.extensions[PAGES]
    hits = pages.hits
    assert f'href="/dossiers/{home}"' in browser.get(url)
    assert pages.hits == hits + 1  # kept
    assert browser.post_step(home, "signaleren", SIGNALEREN).status_code == 302
    browser.get(f"/dossiers/{home}")  # (the message)
    hits = pages.hits
    browser.get(url)
    assert pages.hits == hits  # rendered afresh: A's revision is in B's key
