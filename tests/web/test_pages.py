"""Every page, every step's form, and bad input: a clear message and nothing stored."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from meldroute.webapp.models import Dossier, ProtocolVersion, StepRecord

from .conftest import (
    CONSULTEREN,
    GESPREK,
    SIGNALEREN,
    TODAY,
    dossiers,
    records,
    walk_to_afwegen,
)


def test_signed_out_users_go_to_the_sign_in_page(browser):
    for url in ("/", "/dossiers", "/dossiers/nieuw", "/contacten", "/dossiers/1"):
        response = browser.client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == "/inloggen"


def test_demo_sign_in_lists_one_user_per_role(browser):
    html = browser.get("/inloggen")
    for name in ("Demo leerkracht", "Demo intern begeleider", "Demo directeur",
                 "Demo aandachtsfunctionaris"):
        assert name in html
    assert "Demo-omgeving" in html


def test_sign_in_is_closed_outside_demo_mode(app, browser):
    token = browser.token("/inloggen")
    app.config["DEMO"] = False
    html = browser.get("/inloggen")
    assert "Demo leerkracht" not in html and 'name="password"' in html
    response = browser.client.post("/inloggen", data={"csrf_token": token, "user": "1"})
    assert response.status_code == 404


def test_every_page_renders(browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    assert "Nog geen dossiers" not in browser.get("/dossiers")
    assert "Nieuw dossier" in browser.get("/dossiers/nieuw")
    contacts = browser.get("/contacten")
    assert '<a href="tel:+31412673700">0412-673700</a>' in contacts
    page = browser.get(f"/dossiers/{dossier}")
    assert "Stap 4: Afwegen" in page and "Sterk vermoeden" in page
    for step in ("signaleren", "consulteren", "gesprek", "afwegen"):
        assert f'action="/dossiers/{dossier}/stap/{step}"' in browser.get(
            f"/dossiers/{dossier}/stap/{step}")
    version = browser.get(f"/dossiers/{dossier}/stap/signaleren/versie/1")
    assert "blauwe plek" in version and "Demo leerkracht" in version


def test_overview_shows_initials_and_group_not_the_full_name(browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier(initials="C.D.", group="7a", name="Verzonnen Kind")
    overview = browser.get("/dossiers")
    assert "C.D." in overview and "groep 7a" in overview
    assert "Verzonnen Kind" not in overview
    assert "1. Signaleren" in overview
    assert "Verzonnen Kind" in browser.get(f"/dossiers/{dossier}")


def test_new_dossier_with_bad_input_stores_nothing(app, browser):
    browser.login("leerkracht")
    token = browser.token()
    response = browser.client.post("/dossiers/nieuw", data={
        "csrf_token": token, "pupil_initials": "<script>", "pupil_group": "",
        "pupil_name": "x" * 201})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Alleen letters, punten en spaties." in html
    assert "Dit veld is vereist." in html
    assert "Veld mag niet langer zijn dan 200 karakters." in html
    assert "<script>" not in html  # escaped
    assert dossiers(app) == 0


@pytest.mark.parametrize(("step", "before", "data", "message"), [
    ("signaleren", [], {**SIGNALEREN, "observaties-0-feit": "x" * 4001},
     "Veld mag niet langer zijn dan 4000 karakters."),
    ("signaleren", [], {**SIGNALEREN, "observaties-0-datum": "20-11-2026"},
     "Ongeldige datum."),
    ("signaleren", [], {**SIGNALEREN, "observaties-0-datum": "2026-11-28"},
     "De datum mag niet in de toekomst liggen."),
    ("signaleren", [], {**SIGNALEREN, "observaties-0-feit": ""}, "Dit veld is vereist."),
    ("signaleren", [], {**SIGNALEREN, "observaties-0-waargenomen_door": ["schoonmaker"]},
     "is een ongeldige keuze voor dit veld."),
    ("consulteren", ["signaleren"], {**CONSULTEREN, "geconsulteerd": []},
     "Leg vast wie je hebt geconsulteerd, of waarom (nog) niemand."),
    ("gesprek", ["signaleren", "consulteren"], {**GESPREK, "gesprek_datum": "morgen"},
     "Ongeldige datum."),
    ("afwegen", ["signaleren", "consulteren", "gesprek"], {"sterk_vermoeden": "twijfel"},
     "Ongeldige keuze."),
    ("signaleren", [], {**SIGNALEREN, "is_admin": "1"},
     "Het formulier bevat een veld dat er niet in hoort: is_admin."),
    ("signaleren", [], {**SIGNALEREN, "observaties-0-extra": "1"},
     "Het formulier bevat een veld dat er niet in hoort: observaties-0-extra."),
])
def test_invalid_step_post_shows_the_message_and_stores_nothing(app, browser, step, before,
                                                                 data, message):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    walk = {"signaleren": SIGNALEREN, "consulteren": CONSULTEREN, "gesprek": GESPREK}
    for earlier in before:
        assert browser.post_step(dossier, earlier, walk[earlier]).status_code == 302
    stored = records(app)
    response = browser.post_step(dossier, step, data)
    assert response.status_code == 400
    assert message in browser.last
    assert "Niet opgeslagen" in browser.last or "hoort" in browser.last
    assert records(app) == stored


def test_errors_stand_next_to_their_field(browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    browser.post_step(dossier, "signaleren", {**SIGNALEREN, "observaties-0-datum": "gisteren"})
    match = re.search(r'id="observaties-0-datum".*?</div>', browser.last, re.S)
    assert match and 'class="errors"' in match.group(0) and "Ongeldige datum." in \
        match.group(0)


def test_missing_csrf_token_is_a_400_and_stores_nothing(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    response = browser.post_step(dossier, "signaleren", SIGNALEREN, csrf=False)
    assert response.status_code == 400
    assert "beveiligingscode" in browser.last
    assert records(app) == 0


def test_unknown_dossier_and_step_give_404(browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    assert "bestaat niet" in browser.get("/dossiers/999", status=404)
    browser.get(f"/dossiers/{dossier}/stap/bestaat_niet", status=404)
    browser.get(f"/dossiers/{dossier}/stap/signaleren/versie/9", status=404)
    browser.get("/nergens", status=404)


def test_another_schools_dossier_does_not_exist(browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    browser.client.post("/uitloggen", data={"csrf_token": browser.token()})
    browser.login("ib", school="zonnebloem")
    browser.get(f"/dossiers/{dossier}", status=404)
    assert "A.B." not in browser.get("/dossiers")


def test_a_step_not_yet_due_redirects_to_the_current_step(browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    response = browser.client.get(f"/dossiers/{dossier}/stap/beslissen")
    assert response.status_code == 302
    assert "nog niet aan de beurt" in browser.get(f"/dossiers/{dossier}")


def test_add_row_adds_an_observation_without_storing(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    html = browser.get(f"/dossiers/{dossier}/stap/signaleren")
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = browser.client.post(f"/dossiers/{dossier}/stap/signaleren", data={
        **SIGNALEREN, "csrf_token": token, "base_version": "0",
        "action": "add:observaties"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="observaties-1-feit"' in page and "blauwe plek" in page
    assert records(app) == 0


def test_a_change_is_a_new_version_and_the_old_one_is_kept(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    assert browser.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    changed = {**SIGNALEREN, "interpretatie": "Na overleg: zorgen blijven."}
    assert browser.post_step(dossier, "signaleren", changed).status_code == 302
    with app.extensions["meldroute.db_sessions"]() as db:
        rows = db.scalars(select(StepRecord).order_by(StepRecord.version)).all()
        assert [r.version for r in rows] == [1, 2]
        assert json.loads(rows[0].data)["interpretatie"] == "Zorgen over de thuissituatie."
        assert json.loads(rows[1].data)["interpretatie"] == "Na overleg: zorgen blijven."
    assert "Zorgen over de thuissituatie." in browser.get(
        f"/dossiers/{dossier}/stap/signaleren/versie/1")
    # what changed, field by field with the form's label: old → new
    for page in (browser.get(f"/dossiers/{dossier}/stap/signaleren/versies?a=1&b=2"),
                 browser.get(f"/dossiers/{dossier}/stap/signaleren/versie/2")):
        row = re.search(r'<th scope="row">Interpretatie en zorgen</th>.*?</tr>', page, re.S)
        assert row, page[-3000:]
        assert re.search(r"Zorgen over de thuissituatie\..*Na overleg: zorgen blijven\.",
                         row.group(0), re.S)
        assert "<th scope=\"row\">Feit" not in page  # unchanged fields are left out


def test_a_refused_form_has_a_summary_that_links_to_each_field(browser):
    browser.login("leerkracht")
    browser.get("/dossiers/nieuw")
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.last).group(1)
    response = browser.client.post("/dossiers/nieuw", data={"csrf_token": token,
                                                           "pupil_initials": "J" * 11})
    html = response.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary" id="inhoud".*?</div>', html, re.S)
    assert response.status_code == 400 and summary
    assert 'autofocus' in summary.group(0) and 'tabindex="-1"' in summary.group(0)
    assert '<a href="#pupil_initials">' in summary.group(0)
    assert '<a href="#pupil_group">' in summary.group(0)
    # help and error texts are linked to the field; nothing is cut off by maxlength
    field = re.search(r'<input[^>]*id="pupil_initials"[^>]*>', html).group(0)
    assert 'aria-describedby="pupil_initials-hulp pupil_initials-fout"' in field
    assert "maxlength" not in html


def test_a_stale_form_is_a_conflict_not_a_lost_write(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    assert browser.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    other = browser.post_step(dossier, "signaleren", {**SIGNALEREN, "interpretatie": "B"},
                              base=0)  # opened before the first save
    assert other.status_code == 409
    assert "Iemand anders heeft deze stap intussen opgeslagen" in browser.last
    assert records(app) == 1


def test_a_dossier_keeps_the_protocol_version_it_started_under(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    with app.extensions["meldroute.db_sessions"]() as db:
        row = db.get(Dossier, dossier)
        pinned = db.get(ProtocolVersion, row.protocol_digest)
        old_text = (pinned.source.replace("title: Signaleren", "title: Signaleren (oude versie)")
                    .replace('version: "2026.1"', 'version: "2025.9"'))
        from meldroute.engine.loader import protocol_from_document
        from meldroute.engine.source import parse_text
        old = protocol_from_document(parse_text(old_text, "oud.yaml"))
        db.add(ProtocolVersion(digest=old.digest, protocol_id=old.id, version="2025.9",
                               source=old_text))
        db.flush()
        row.protocol_digest = old.digest
        db.commit()
    page = browser.get(f"/dossiers/{dossier}")
    assert "Signaleren (oude versie)" in page and "versie 2025.9" in page
    assert "Signaleren (oude versie)" not in browser.get(
        f"/dossiers/{browser.new_dossier()}")


def test_overdue_deadlines_are_marked(app, browser, clock):
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    browser.post_step(dossier, "afwegen", {"sterk_vermoeden": "nee"})
    browser.post_step(dossier, "afwegen", {"sterk_vermoeden": "nee", "actie_nodig": "ja"})
    browser.post_step(dossier, "afwegen", {"sterk_vermoeden": "nee", "actie_nodig": "ja",
                                           "onveilig": "ja"})
    overview = browser.get("/dossiers")
    # the first deadline is the school's own: report within 1 working day
    assert 'maandag 30 november 2026 <span class="kind">(termijn van de school)</span>' in \
        overview and "verlopen" not in overview
    clock.today = TODAY.replace(day=TODAY.day + 1).replace(month=12, day=7)
    overview = browser.get("/dossiers")
    assert 'class="overdue"' in overview and "verlopen" in overview
