"""The timeline of a dossier: one chronology of steps saved (with their answers and a
link to each version), decisions, deadlines, assignments and notes; notes are added by
anyone who may see the dossier, never changed (a correction is a new note), encrypted and
audited without their text."""

from __future__ import annotations

from sqlalchemy import select, text

from meldroute.webapp import audit
from meldroute.webapp.models import AuditEvent, DossierNote

from .conftest import TOKEN, count, walk_to_afwegen

NOTE = "Veilig Thuis gebeld, teruggebeld op maandag."


def add_note(browser, dossier, body, corrects=None):
    """As the page posts it: no "corrects" field while the dossier has no note yet."""
    token = TOKEN.search(browser.get(f"/dossiers/{dossier}/tijdlijn")).group(1)
    extra = {} if corrects is None else {"corrects": corrects}
    response = browser.client.post(f"/dossiers/{dossier}/notities", data={
        "csrf_token": token, "text": body, **extra})
    browser.last = response.get_data(as_text=True)
    return response


def test_a_teacher_adds_a_note_stored_encrypted_and_audited_without_its_text(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    response = add_note(browser, dossier, NOTE)
    assert response.status_code == 302
    page = browser.get(response.headers["Location"])
    assert "Notitie 1 is toegevoegd." in page
    assert NOTE in page and "Dossier gestart" in page
    with app.extensions["meldroute.db_sessions"]() as db:
        raw = db.execute(text("SELECT text FROM dossier_notes")).scalars().all()
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "dossier.note")).all()
    assert len(raw) == 1 and "Veilig Thuis" not in raw[0]
    assert [(e.result, e.detail) for e in events] == [("ok", "notitie 1")]


def test_a_correction_is_a_new_note_and_the_first_stays(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    add_note(browser, dossier, NOTE)
    with app.extensions["meldroute.db_sessions"]() as db:
        first = db.scalar(select(DossierNote.id))
    assert add_note(browser, dossier, "Niet maandag maar dinsdag teruggebeld.",
                    str(first)).status_code == 302
    page = browser.get(f"/dossiers/{dossier}/tijdlijn")
    assert NOTE in page and "Niet maandag maar dinsdag" in page
    assert "Verbetert notitie 1" in page
    assert count(app, DossierNote) == 2


def test_an_empty_note_or_a_foreign_correction_is_refused_and_nothing_stored(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    response = add_note(browser, dossier, "   ")
    assert response.status_code == 400
    assert "Schrijf eerst wat er gebeurde." in browser.last
    assert add_note(browser, dossier, NOTE, "999").status_code == 400
    assert "Traceback" not in browser.last
    assert count(app, DossierNote) == 0


def test_the_timeline_holds_steps_answers_deadlines_and_assignments(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    assert browser.post_step(dossier, "afwegen", {
        "sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "ja"}).status_code == 302
    with app.app_context(), app.extensions["meldroute.db_sessions"]() as db:
        # the other helper's assignment is audited as dossier.assign: shown generically
        audit.append(db, action="dossier.assign", actor="regenboog-ib", actor_id=None,
                     address="-", now=app.config["NOW"](), school_id="regenboog",
                     dossier_id=dossier, detail="zorgteam")
        db.commit()
    page = browser.get(f"/dossiers/{dossier}/tijdlijn")
    assert "Stap 1 (Signaleren) opgeslagen, versie 1" in page
    assert f"/dossiers/{dossier}/stap/signaleren/versie/1" in page
    assert "Afweging 2: veiligheid: ja" in page  # the answers of that version
    assert "Termijn: " in page and "loopt nog" in page
    assert "Persoon aan het dossier toegewezen" in page
    assert "Termijn gehaald" not in page
    # recording the melding meets the deadline to report: the timeline says so, in time
    assert browser.post_step(dossier, "beslissen", {
        "melding_datum": "2026-11-27", "melding_besproken_met_ouder": "y"}).status_code == 302
    page = browser.get(f"/dossiers/{dossier}/tijdlijn")
    assert "Termijn gehaald: " in page and "te laat" not in page
    assert page.index("Stap 5 (Beslissen) opgeslagen") < page.index("Termijn gehaald")
    # oldest first: the start, then step 1, the deadline last
    assert page.index("Dossier gestart") < page.index("Stap 1 (Signaleren)") \
        < page.index("Termijn: ")


def test_a_closed_dossier_takes_no_note(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    with app.extensions["meldroute.db_sessions"]() as db:
        from meldroute.webapp.models import Dossier

        found = db.get(Dossier, dossier)
        found.closed_at = app.config["NOW"]()
        db.commit()
    token = TOKEN.search(browser.get(f"/dossiers/{dossier}")).group(1)
    response = browser.client.post(f"/dossiers/{dossier}/notities",
                                   data={"csrf_token": token, "text": NOTE})
    assert response.status_code == 409
    assert "afgesloten" in response.get_data(as_text=True)
    assert count(app, DossierNote) == 0
