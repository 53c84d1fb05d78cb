"""A dossier through every branch of the afwegingskader, as staff would fill it in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from meldroute.webapp.models import Dossier

from .conftest import walk_to_afwegen

# question 5 before the agreed term (2027-01-15): allowed with the reason recorded
EARLY = {"hulp_resultaat_eerder_reden": "De hulp is eerder afgerond dan afgesproken."}
HULP_PLAN = {"hulp_termijn": "2027-01-15", "hulp_casemanager": "ib",
             "hulp_rollen": "IB-er: casemanager; leerkracht: volgt de leerling.",
             "hulp_taken": "Wekelijks contact met ouders; verwijzing naar CJG."}

# (the saves, per step: every question of a step on one form) -> outcome, next question,
# what shows
SV_NEE = {"sterk_vermoeden": "nee"}
BRANCHES = [
    ([("afwegen", {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "ja"})],
     "direct_melden", None, "Meld direct telefonisch bij Veilig Thuis."),
    ([("afwegen", {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "nee"})],
     None, "bevoegd_gezag_ingelicht", "Informeer het bevoegd gezag"),
    ([("afwegen", {**SV_NEE, "actie_nodig": "nee"})],
     "dossier_sluiten", None, "Geen actie nodig: dossier vastleggen en sluiten."),
    ([("afwegen", {**SV_NEE, "actie_nodig": "twijfel", "onveilig": "ja"})],
     "melden", None, "Melden bij Veilig Thuis"),
    ([("afwegen", {**SV_NEE, "actie_nodig": "ja", "onveilig": "nee"}),
      ("beslissen", {"hulp_mogelijk": "nee"})],
     "melden", None, "Melden bij Veilig Thuis"),
    ([("afwegen", {**SV_NEE, "actie_nodig": "ja", "onveilig": "nee"}),
      ("beslissen", {"hulp_mogelijk": "ja", "hulp_aanvaard": "nee"})],
     "melden", None, "Melden bij Veilig Thuis"),
    ([("afwegen", {**SV_NEE, "actie_nodig": "ja", "onveilig": "nee"}),
      ("beslissen", {"hulp_mogelijk": "ja", "hulp_aanvaard": "ja"}), ("beslissen", HULP_PLAN),
      ("beslissen", {"hulp_resultaat": "nee", **EARLY})],
     "melden", None, "Melden bij Veilig Thuis"),
    ([("afwegen", {**SV_NEE, "actie_nodig": "ja", "onveilig": "nee"}),
      ("beslissen", {"hulp_mogelijk": "ja", "hulp_aanvaard": "ja"}), ("beslissen", HULP_PLAN),
      ("beslissen", {"hulp_resultaat": "ja", **EARLY}),
      ("nazorg", {"afspraken_monitoring": "Maandelijks overleg IB-er en ouders."})],
     "hulp_afsluiten", None, "Hulp afsluiten met vastgelegde afspraken"),
]


@pytest.mark.parametrize(("steps", "outcome", "next_question", "shown"), BRANCHES)
def test_every_branch_in_the_browser(app, browser, steps, outcome, next_question, shown):
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    given: dict[str, dict[str, str]] = {}
    for step, answers in steps:
        given[step] = {**given.get(step, {}), **answers}
        response = browser.post_step(dossier, step, given[step])
        assert response.status_code == 302, browser.last
    page = browser.get(f"/dossiers/{dossier}")
    assert shown in page
    with app.extensions["meldroute.db_sessions"]() as db:
        row = db.scalar(select(Dossier).where(Dossier.id == dossier))
        assert (row.outcome, row.next_question) == (outcome, next_question)
    if outcome in ("melden", "direct_melden"):
        assert '<a href="tel:+31412673700">0412-673700</a>' in page
        assert "Veilig Thuis, omdat " in page


def test_help_plan_fields_appear_only_after_hulp_aanvaard_ja(browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    afwegen = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "nee"}
    assert browser.post_step(dossier, "afwegen", afwegen).status_code == 302
    response = browser.post_step(dossier, "beslissen", {"hulp_mogelijk": "ja"})
    assert response.status_code == 400  # question 4 is reached: it needs its answer
    page = browser.get(f"/dossiers/{dossier}/stap/beslissen")
    assert 'name="hulp_aanvaard"' in page and 'name="hulp_termijn"' not in page
    browser.post_step(dossier, "beslissen", {"hulp_mogelijk": "ja", "hulp_aanvaard": "ja"})
    page = browser.get(f"/dossiers/{dossier}/stap/beslissen")
    for name in ("hulp_termijn", "hulp_casemanager", "hulp_rollen", "hulp_taken",
                 "hulp_resultaat"):
        assert f'name="{name}"' in page
    # the plan is required; question 5 may wait until the term has passed
    response = browser.post_step(dossier, "beslissen", {"hulp_mogelijk": "ja",
                                                        "hulp_aanvaard": "ja"})
    assert response.status_code == 400 and "Dit veld is vereist." in browser.last
    response = browser.post_step(dossier, "beslissen", {
        "hulp_mogelijk": "ja", "hulp_aanvaard": "ja", **HULP_PLAN})
    assert response.status_code == 302
    page = browser.get(f"/dossiers/{dossier}")
    assert "Hulp in gang zetten." in page and "Afweging 5: resultaat" in page


def test_the_explanation_and_deadline_of_melden(browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    answers = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "ja"}
    assert browser.post_step(dossier, "afwegen", answers).status_code == 302
    page = browser.get(f"/dossiers/{dossier}")
    assert "Melden bij Veilig Thuis, omdat je inschat dat de leerling niet veilig is " \
           "(vraag 2: ja)." in page
    assert "uiterlijk vrijdag 4 december 2026" in page
    assert "Nu aan zet: <strong>directeur</strong>" in page


def test_changing_an_earlier_answer_reroutes_and_lists_ignored_answers(browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    browser.post_step(dossier, "afwegen", {"sterk_vermoeden": "nee", "actie_nodig": "nee"})
    assert "Geen actie nodig" in browser.get(f"/dossiers/{dossier}")
    # the new answer leads to a question of this step: the save needs its answer
    response = browser.post_step(dossier, "afwegen", {"sterk_vermoeden": "ja",
                                                      "actie_nodig": "nee"})
    assert response.status_code == 400 and "Kies een antwoord." in browser.last
    response = browser.post_step(dossier, "afwegen", {
        "sterk_vermoeden": "ja", "actie_nodig": "nee", "bevoegd_gezag_ingelicht": "nee"})
    assert response.status_code == 302
    page = browser.get(f"/dossiers/{dossier}")
    assert "Volgende vraag (Bevoegd gezag op de hoogte)" in page
    assert "Niet meegewogen" in page and "Afweging 1: vermoeden wegen" in page


def test_nazorg_rejects_an_over_long_agreement_and_stores_nothing(app, browser):
    from .conftest import records
    steps, *_ = BRANCHES[-1]
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    given: dict[str, dict[str, str]] = {}
    for step, answers in steps[:-1]:
        given[step] = {**given.get(step, {}), **answers}
        assert browser.post_step(dossier, step, given[step]).status_code == 302
    stored = records(app)
    response = browser.post_step(dossier, "nazorg", {"afspraken_monitoring": "x" * 4001})
    assert response.status_code == 400
    assert "Veld mag niet langer zijn dan 4000 karakters." in browser.last
    assert records(app) == stored


def test_question_5_before_the_term_needs_a_reason(app, browser):
    """The result of the help is weighed after the agreed term; earlier only with the
    reason recorded: without it the save is refused next to the field, nothing stored."""
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    afwegen = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "nee"}
    assert browser.post_step(dossier, "afwegen", afwegen).status_code == 302
    plan = {"hulp_mogelijk": "ja", "hulp_aanvaard": "ja", **HULP_PLAN}
    browser.post_step(dossier, "beslissen", {"hulp_mogelijk": "ja", "hulp_aanvaard": "ja"})
    assert browser.post_step(dossier, "beslissen", plan).status_code == 302
    page = browser.get(f"/dossiers/{dossier}/stap/beslissen")
    assert 'name="hulp_resultaat_eerder_reden"' in page
    response = browser.post_step(dossier, "beslissen", {**plan, "hulp_resultaat": "ja"})
    assert response.status_code == 400
    assert "Vul dit in: je hebt ook" in browser.last
    assert "Hulp in gang zetten." in browser.get(f"/dossiers/{dossier}")
    response = browser.post_step(dossier, "beslissen", {**plan, "hulp_resultaat": "ja", **EARLY})
    assert response.status_code == 302
    assert "Hulp afsluiten" in browser.get(f"/dossiers/{dossier}")
