"""What the dossier page does: an empty or incomplete step is refused next to its field
and stores nothing; the weighing on one form; closing only where the rules allow it, with
a confirmation and a reason, and reopening; a closed dossier is read-only; every page
that shows dossier content is audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from meldroute.webapp.models import AuditEvent, Dossier

from .conftest import BASE, CONSULTEREN, GESPREK, SIGNALEREN, TOKEN, records, walk_to_afwegen

MELDEN = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "ja"}
GEEN_ACTIE = {"sterk_vermoeden": "nee", "actie_nodig": "nee"}
REASON = "Geen zorgen meer na evaluatie."


def audit(app, dossier, action=None):
    with app.extensions["meldroute.db_sessions"]() as db:
        query = select(AuditEvent).where(AuditEvent.dossier_id == dossier)
        if action:
            query = query.where(AuditEvent.action == action)
        return [(e.action, e.result, e.detail) for e in db.scalars(query.order_by(
            AuditEvent.seq))]


def post_empty(browser, dossier, step):
    html = browser.get(f"/dossiers/{dossier}/stap/{step}")
    response = browser.client.post(f"/dossiers/{dossier}/stap/{step}", data={
        "csrf_token": TOKEN.search(html).group(1), "action": "save",
        "base_version": BASE.search(html).group(1)})
    browser.last = response.get_data(as_text=True)
    return response


def post(browser, dossier, path, data):
    html = browser.get(f"/dossiers/{dossier}")
    response = browser.client.post(f"/dossiers/{dossier}/{path}", data={
        "csrf_token": TOKEN.search(html).group(1), **data})
    browser.last = response.get_data(as_text=True)
    return response


# step -> what comes before it, and the field whose error shows next to it
EMPTY = [
    ("signaleren", [], "observaties-0-feit", "Dit veld is vereist."),
    ("consulteren", [("signaleren", SIGNALEREN)], "geconsulteerd",
     "Leg vast wie je hebt geconsulteerd, of waarom (nog) niemand."),
    ("gesprek", [("signaleren", SIGNALEREN), ("consulteren", CONSULTEREN)],
     "gesprek_niet_gevoerd_reden",
     "Vink aan dat het gesprek is gevoerd, of leg vast waarom (nog) niet."),
    ("afwegen", [("signaleren", SIGNALEREN), ("consulteren", CONSULTEREN),
                 ("gesprek", GESPREK)], "sterk_vermoeden", "Kies een antwoord."),
    ("beslissen", [("signaleren", SIGNALEREN), ("consulteren", CONSULTEREN),
                   ("gesprek", GESPREK), ("afwegen", MELDEN)], "melding_datum",
     "Dit veld is vereist."),
    ("nazorg", [("signaleren", SIGNALEREN), ("consulteren", CONSULTEREN),
                ("gesprek", GESPREK), ("afwegen", MELDEN)], "evaluatie",
     "Leg de evaluatie of de nazorg van betrokkenen vast."),
]


@pytest.mark.parametrize(("step", "before", "field", "message"), EMPTY,
                         ids=[e[0] for e in EMPTY])
def test_an_empty_save_of_every_step_stores_nothing(app, browser, step, before, field,
                                                    message):
    browser.login("ib")
    dossier = browser.new_dossier()
    for earlier, data in before:
        assert browser.post_step(dossier, earlier, data).status_code == 302, browser.last
    stored = records(app)
    response = post_empty(browser, dossier, step)
    assert response.status_code == 400
    assert records(app) == stored
    # the message stands next to the field (the field's own error list)
    assert f'<ul class="errors" id="{field}-fout"><li>{message}</li></ul>' in browser.last
    assert ("dossier.change", "rejected", step) in audit(app, dossier)
    assert "is opgeslagen" not in browser.get(f"/dossiers/{dossier}")


def test_the_conversation_or_why_not(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    for step, data in (("signaleren", SIGNALEREN), ("consulteren", CONSULTEREN)):
        assert browser.post_step(dossier, step, data).status_code == 302
    assert browser.post_step(dossier, "gesprek", {"gesprek_gevoerd": "y"}).status_code == 400
    assert '<ul class="errors" id="gesprek_datum-fout">' in browser.last
    response = browser.post_step(dossier, "gesprek", {
        "gesprek_niet_gevoerd_reden": "Het gesprek brengt de leerling in gevaar."})
    assert response.status_code == 302


def test_the_weighing_is_one_form_and_melden_takes_five_saves(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)  # saves 1-3
    page = browser.get(f"/dossiers/{dossier}/stap/afwegen")
    for name in ("sterk_vermoeden", "bevoegd_gezag_ingelicht", "actie_nodig", "onveilig"):
        assert f'name="{name}"' in page
    # when the rules ask each question is on the page, for the script to use
    assert 'data-question="bevoegd_gezag_ingelicht" data-asked-when=\'[{"sterk_vermoeden": ' \
           '["ja"]}]\'' in page
    assert "Alleen nodig als &#39;Sterk vermoeden&#39; ja is." in page
    assert 'src="/static/weighing.js"' in page
    # an answer off the path is stored, and shown as not used, with why
    answers = {**MELDEN, "bevoegd_gezag_ingelicht": "ja"}
    assert browser.post_step(dossier, "afwegen", answers).status_code == 302  # save 4
    page = browser.get(f"/dossiers/{dossier}/stap/afwegen")
    assert "Niet gebruikt, omdat de route komt door de eerdere antwoorden niet bij deze " \
           "vraag." in page
    response = browser.post_step(dossier, "beslissen", {
        "melding_datum": "2026-11-27", "melding_besproken_met_ouder": "y"})  # save 5
    assert response.status_code == 302
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.get(Dossier, dossier).stage == "wacht_op_veilig_thuis"
    script = browser.client.get("/static/weighing.js")
    assert script.status_code == 200 and "data-asked-when" in script.get_data(as_text=True)
    script.close()


def test_closing_is_offered_only_where_the_rules_allow_it(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    assert browser.post_step(dossier, "afwegen", MELDEN).status_code == 302
    page = browser.get(f"/dossiers/{dossier}")
    assert "Uitkomst van de afweging" in page and "Dossier afsluiten" not in page
    response = browser.client.get(f"/dossiers/{dossier}/afsluiten")
    assert response.status_code == 302
    assert post(browser, dossier, "afsluiten", {"reason": REASON}).status_code == 302
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.get(Dossier, dossier).closed_at is None
    assert ("dossier.close", "refused", "") in audit(app, dossier, "dossier.close")
    # no action needed: the stage where the rules allow closing
    assert browser.post_step(dossier, "afwegen", GEEN_ACTIE).status_code == 302
    page = browser.get(f"/dossiers/{dossier}")
    assert "Klaar om af te sluiten" in page and "Dossier afsluiten" in page


def test_a_teacher_is_not_offered_closing(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    assert browser.post_step(dossier, "afwegen", GEEN_ACTIE).status_code == 302
    assert "Dossier afsluiten" not in browser.get(f"/dossiers/{dossier}")
    assert browser.client.get(f"/dossiers/{dossier}/afsluiten").status_code == 302


def test_close_reopen_close(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    assert browser.post_step(dossier, "afwegen", GEEN_ACTIE).status_code == 302
    confirm = browser.get(f"/dossiers/{dossier}/afsluiten")
    assert "Wat dit betekent" in confirm and "alleen nog te lezen" in confirm
    assert 'name="reason"' in confirm
    # without a reason: refused, still open
    assert post(browser, dossier, "afsluiten", {"reason": "  "}).status_code == 400
    assert "Dit veld is vereist." in browser.last
    assert post(browser, dossier, "afsluiten", {"reason": REASON}).status_code == 302
    page = browser.get(f"/dossiers/{dossier}")
    assert f'<form method="post" action="/dossiers/{dossier}/stap' not in page
    assert "opslaan</button>" not in page and "Dossier afsluiten" not in page
    assert "Dossier weer openen" in page and REASON in page
    assert "Wij maken ons zorgen." in page  # the recorded answers stay readable
    step_page = browser.get(f"/dossiers/{dossier}/stap/gesprek")
    assert "opslaan</button>" not in step_page
    assert browser.post_step(dossier, "gesprek", GESPREK, base=1).status_code == 409
    # reopen, with a reason
    assert "Wat dit betekent" in browser.get(f"/dossiers/{dossier}/heropenen")
    assert post(browser, dossier, "heropenen", {"reason": "Nieuwe signalen."}
                ).status_code == 302
    page = browser.get(f"/dossiers/{dossier}")
    assert "opslaan</button>" in page and "Dossier afsluiten" in page
    assert post(browser, dossier, "afsluiten", {"reason": "Opnieuw gewogen."}
                ).status_code == 302
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.get(Dossier, dossier).closed_at is not None
        raw = db.execute(text("SELECT reason FROM dossier_decisions")).scalars().all()
    assert len(raw) == 3 and not any(REASON in r or "signalen" in r for r in raw)
    done = [a for a in audit(app, dossier) if a[0] in ("dossier.close", "dossier.reopen")
            and a[1] == "ok"]
    assert [a[0] for a in done] == ["dossier.close", "dossier.reopen", "dossier.close"]
    assert ("dossier.close", "rejected", "") in audit(app, dossier, "dossier.close")


def test_an_acute_dossier_shows_the_melding_not_the_next_question(app, browser):
    browser.login("leerkracht")
    token = browser.token()
    response = browser.client.post("/dossiers/nieuw", data={
        "csrf_token": token, "pupil_initials": "A.C.", "pupil_group": "3",
        "pupil_name": "Fictief Kind", "acute": "y"})
    dossier = int(response.headers["Location"].rstrip("/").split("/")[-1])
    page = browser.get(f"/dossiers/{dossier}")
    assert "Volgende vraag" not in page
    # the melding is recorded in the director's step: the teacher reads it, the
    # director or a coordinating role records it
    assert 'name="melding_datum"' not in page and "je kunt hem lezen" in page
    assert "Markering opheffen" not in page  # not a coordinating role
    assert browser.client.get(f"/dossiers/{dossier}/acuut-opheffen").status_code == 302
    browser.login("ib")
    page = browser.get(f"/dossiers/{dossier}")
    assert "Volgende vraag" not in page and 'name="melding_datum"' in page
    assert "Markering opheffen" in page
    assert post(browser, dossier, "acuut-opheffen", {"reason": "Ten onrechte aangevinkt."}
                ).status_code == 302
    page = browser.get(f"/dossiers/{dossier}")
    assert "gemarkeerd als acuut gevaar</strong>" not in page
    assert ("dossier.acute_off", "ok", "") in audit(app, dossier, "dossier.acute_off")


def test_finding4_add_row_is_audited(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    html = browser.get(f"/dossiers/{dossier}/stap/signaleren")
    before = len(audit(app, dossier))
    response = browser.client.post(f"/dossiers/{dossier}/stap/signaleren", data={
        "csrf_token": TOKEN.search(html).group(1), "base_version": "0",
        "action": "add:observaties"})
    assert response.status_code == 200 and "observaties-1-feit" in response.get_data(
        as_text=True)
    events = audit(app, dossier)
    assert len(events) == before + 1
    assert events[-1] == ("dossier.read", "ok", "signaleren regel toevoegen")
    assert records(app) == 0


def test_a_saved_step_opens_with_its_choices_ticked(browser):
    """Reopening a recorded step shows every recorded choice (observed by, consulted), so
    that saving it again without changes is not refused as empty."""
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    for step, name, value in (("signaleren", "observaties-0-waargenomen_door", "leerkracht"),
                              ("consulteren", "geconsulteerd", "cjg")):
        html = browser.get(f"/dossiers/{dossier}/stap/{step}")
        boxes = re.findall(rf'<input[^>]*name="{name}"[^>]*>', html)
        assert any("checked" in b and f'value="{value}"' in b for b in boxes), boxes
