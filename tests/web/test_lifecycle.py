"""A dossier's life as the rules compute it: stage, who acts, what is due (and whose
deadline), from signaleren through a melding, Veilig Thuis's response and nazorg to
afgesloten. The web app passes what was recorded and renders what comes back."""

from __future__ import annotations

import re

from sqlalchemy import select

from meldroute.webapp.models import AuditEvent, Dossier

from .conftest import CONSULTEREN, GESPREK, SIGNALEREN, TOKEN

MELDEN = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "ja"}
MELDING = {"melding_datum": "2026-11-27", "melding_besproken_met_ouder": "y"}


def row(app, dossier_id):
    with app.extensions["meldroute.db_sessions"]() as db:
        return db.scalar(select(Dossier).where(Dossier.id == dossier_id))


def stage_shown(html):
    found = re.search(r'<p class="stage">Fase: <strong>(.*?)</strong>', html)
    return found.group(1) if found else None


def status(html):
    return html[html.index('id="status-kop"'):html.index('id="stap-kop"')]


def post(browser, dossier, url, data):
    html = browser.get(f"/dossiers/{dossier}")
    return browser.client.post(f"/dossiers/{dossier}/{url}", data={
        "csrf_token": TOKEN.search(html).group(1), **data})


def weigh(browser, dossier, answers):
    """Answer the weighing questions: all of the step on one form, one save."""
    response = browser.post_step(dossier, "afwegen", answers)
    assert response.status_code == 302, browser.last


def test_a_dossier_moves_through_every_stage_to_afgesloten(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    seen = [(row(app, dossier).stage, stage_shown(browser.get(f"/dossiers/{dossier}")))]
    for step, data in (("signaleren", SIGNALEREN), ("consulteren", CONSULTEREN),
                       ("gesprek", GESPREK), ("afwegen", MELDEN)):
        if step == "afwegen":
            weigh(browser, dossier, data)
        else:
            assert browser.post_step(dossier, step, data).status_code == 302, browser.last
        seen.append((row(app, dossier).stage, stage_shown(browser.get(f"/dossiers/{dossier}"))))
    assert [s for s, _ in seen] == ["signaleren", "signaleren", "signaleren", "afwegen",
                                    "melden"]
    assert seen[-1][1] == "Melden bij Veilig Thuis"

    # the melding is recorded: Veilig Thuis's 5 working days, marked as theirs
    assert browser.post_step(dossier, "beslissen", MELDING).status_code == 302, browser.last
    page = browser.get(f"/dossiers/{dossier}")
    assert row(app, dossier).stage == "wacht_op_veilig_thuis"
    assert "termijn van Veilig Thuis" in status(page)
    assert "uiterlijk vrijdag 4 december 2026" in status(page)
    assert "Meld bij Veilig Thuis" not in status(page)  # done: no longer to do
    assert "Reactie van Veilig Thuis" in status(page)
    overview = browser.get("/dossiers")
    assert "Wachten op het besluit van Veilig Thuis" in overview
    assert "vrijdag 4 december 2026 <span class=\"kind\">(termijn van Veilig Thuis)</span>" \
        in overview

    # Veilig Thuis takes over: nazorg, by the school
    response = post(browser, dossier, "feit", {"flag": "reactie_veilig_thuis",
                                               "value": "neemt_over"})
    assert response.status_code == 302
    assert row(app, dossier).stage == "nazorg"
    assert "Zorg voor nazorg" in status(browser.get(f"/dossiers/{dossier}"))

    # nazorg recorded: closing is what is left to do
    assert browser.post_step(dossier, "nazorg", {
        "evaluatie": "Samen met Veilig Thuis geëvalueerd.",
        "nazorg_betrokkenen": "Gesprek met de leerkracht."}).status_code == 302, browser.last
    page = browser.get(f"/dossiers/{dossier}")
    assert "Sluit het dossier." in status(page) and "Dossier afsluiten" in page

    assert "Wat dit betekent" in browser.get(f"/dossiers/{dossier}/afsluiten")
    response = post(browser, dossier, "afsluiten", {"reason": "Nazorg gedaan, niets meer."})
    assert response.status_code == 302
    closed = row(app, dossier)
    assert closed.stage == "afgesloten" and closed.closed_at is not None
    page = browser.get(f"/dossiers/{dossier}")
    assert stage_shown(page) == "Afgesloten" and "Dossier afsluiten" not in page
    assert "Nu aan zet" not in page and "Markeer dit dossier als acuut" not in page
    assert 'href="tel:112"' in page  # the guidance stays
    assert ">Afgesloten</td>" in browser.get("/dossiers?archief=1")  # the archive tab


def test_veilig_thuis_response_is_audited_without_its_value(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    for step, data in (("signaleren", SIGNALEREN), ("consulteren", CONSULTEREN),
                       ("gesprek", GESPREK)):
        assert browser.post_step(dossier, step, data).status_code == 302, browser.last
    weigh(browser, dossier, MELDEN)
    assert browser.post_step(dossier, "beslissen", MELDING).status_code == 302, browser.last
    assert post(browser, dossier, "feit", {"flag": "reactie_veilig_thuis",
                                           "value": "bestaat_niet"}).status_code == 400
    assert post(browser, dossier, "feit", {"flag": "gesloten", "value": "ja"}
                ).status_code == 400  # closing has its own button
    assert row(app, dossier).stage == "wacht_op_veilig_thuis"
    assert post(browser, dossier, "feit", {"flag": "reactie_veilig_thuis",
                                           "value": "hulp_samen"}).status_code == 302
    assert row(app, dossier).stage == "hulp_loopt"
    with app.extensions["meldroute.db_sessions"]() as db:
        details = [(e.result, e.detail) for e in db.scalars(select(AuditEvent).where(
            AuditEvent.dossier_id == dossier, AuditEvent.action == "dossier.change"))]
    assert ("refused", "reactie_veilig_thuis") in details
    assert ("ok", "reactie_veilig_thuis") in details
    assert not any("hulp_samen" in d for _, d in details)


def test_acute_flag_makes_the_melding_the_task_now(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    assert row(app, dossier).stage == "signaleren"
    post(browser, dossier, "acuut", {})
    assert row(app, dossier).stage == "melden"
    page = browser.get(f"/dossiers/{dossier}")
    assert "Bel direct 112" in status(page)
    assert "termijn van de school" in status(page)


def test_an_acute_dossier_records_its_melding_and_waits_for_veilig_thuis(app, browser):
    """Flagged acute before any step: the melding form is there at once (the rules ask
    for its date), and recording it moves the dossier on, with no weighing first."""
    browser.login("directeur")
    dossier = browser.new_dossier()
    post(browser, dossier, "acuut", {})
    page = browser.get(f"/dossiers/{dossier}/stap/beslissen")
    assert 'name="melding_datum"' in page
    response = browser.post_step(dossier, "beslissen", MELDING)
    assert response.status_code == 302, browser.last
    assert row(app, dossier).stage == "wacht_op_veilig_thuis"
    assert "Bel direct 112" not in status(browser.get(f"/dossiers/{dossier}"))
