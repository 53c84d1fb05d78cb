"""evaluate(): the outcomes of MELDCODE.md's table, with the demo school's contacts."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from meldroute.engine import AnswerError, evaluate, neutral_school
from meldroute.engine.loader import school_from_document
from meldroute.engine.source import parse_text

from .conftest import FRIDAY

HULP = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "nee",
        "hulp_mogelijk": "ja"}

# (answers, next question, outcome): every path of the afwegingskader
TABLE = [
    ({}, "sterk_vermoeden", None),
    ({"sterk_vermoeden": "ja"}, "bevoegd_gezag_ingelicht", None),
    ({"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "ja"}, None, "direct_melden"),
    ({"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "nee"}, "bevoegd_gezag_ingelicht",
     None),
    ({"sterk_vermoeden": "nee"}, "actie_nodig", None),
    ({"sterk_vermoeden": "nee", "actie_nodig": "nee"}, None, "dossier_sluiten"),
    ({"sterk_vermoeden": "nee", "actie_nodig": "ja"}, "onveilig", None),
    ({"sterk_vermoeden": "nee", "actie_nodig": "twijfel"}, "onveilig", None),
    ({"sterk_vermoeden": "nee", "actie_nodig": "twijfel", "onveilig": "ja"}, None, "melden"),
    ({"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "ja"}, None, "melden"),
    ({**HULP, "hulp_mogelijk": "nee"}, None, "melden"),
    ({**HULP, "hulp_aanvaard": "nee"}, None, "melden"),
    ({**HULP, "hulp_aanvaard": "ja"}, "hulp_resultaat", "hulp_inzetten"),
    ({**HULP, "hulp_aanvaard": "ja", "hulp_resultaat": "nee"}, None, "melden"),
    ({**HULP, "hulp_aanvaard": "ja", "hulp_resultaat": "ja"}, None, "hulp_afsluiten"),
]


@pytest.mark.parametrize(("answers", "next_question", "outcome"), TABLE)
def test_route_of_the_leaflet(protocol, demo, answers, next_question, outcome):
    e = evaluate(protocol, demo, answers, FRIDAY)
    assert (e.next_question.id if e.next_question else None) == next_question
    assert (e.outcome.id if e.outcome else None) == outcome
    assert e.ignored == ()


def test_melden_calls_the_schools_veilig_thuis_and_gives_five_working_days(protocol, demo):
    e = evaluate(protocol, demo, {"sterk_vermoeden": "nee", "actie_nodig": "ja",
                                  "onveilig": "ja"}, FRIDAY)
    assert [(c.key, c.phone) for c in e.contacts] == [("veilig_thuis", "0412-673700")]
    melden = [a for a in e.actions if a.contact]
    assert melden[0].text == "Meld bij Veilig Thuis." and melden[0].contact.phone == "0412-673700"
    assert [(d.due, d.working_days, d.kind) for d in e.deadlines] == [
        (dt.date(2026, 12, 4), 5, "veilig_thuis"),  # Veilig Thuis decides (from today)
        (dt.date(2026, 11, 30), 1, "school")]  # the school reports within 1 working day
    assert [r.name for r in e.responsible] == ["directeur"]
    assert e.explanation().startswith(
        "Melden bij Veilig Thuis, omdat je inschat dat de leerling niet veilig is "
        "(vraag 2: ja).\n")
    assert "::" not in e.explanation() and "onveilig" not in e.explanation()


def test_bevoegd_gezag_not_informed_gives_the_action_and_keeps_the_question(protocol, demo):
    e = evaluate(protocol, demo, {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "nee"})
    assert e.next_question.id == "bevoegd_gezag_ingelicht"
    (action,) = e.actions
    assert "Informeer het bevoegd gezag" in action.text
    assert action.role.name == "directeur"


def test_hulp_inzetten_asks_for_the_help_plan_and_then_question_five(protocol, demo):
    e = evaluate(protocol, demo, {**HULP, "hulp_aanvaard": "ja"})
    # while the help runs, answering question 5 early asks for the reason too
    assert e.requested_fields == ("hulp_termijn", "hulp_casemanager", "hulp_rollen",
                                  "hulp_taken", "hulp_resultaat_eerder_reden")
    assert e.next_question.id == "hulp_resultaat"
    done = evaluate(protocol, demo, {**HULP, "hulp_aanvaard": "ja", "hulp_resultaat": "ja"})
    assert [o.id for o in done.passed_outcomes] == ["hulp_inzetten"]
    assert done.requested_fields == ("hulp_termijn", "hulp_casemanager", "hulp_rollen",
                                     "hulp_taken", "afspraken_monitoring")


def test_remapped_role_is_responsible_in_its_step_only(protocol, demo):
    afwegen = evaluate(protocol, demo, {})
    assert [(r.role, r.assigned, r.name) for r in afwegen.responsible] == [
        ("ib", "aandachtsfunctionaris", "aandachtsfunctionaris")]
    nazorg = evaluate(protocol, demo, {**HULP, "hulp_aanvaard": "ja", "hulp_resultaat": "ja"})
    assert ("ib", "ib", "intern begeleider") in [(r.role, r.assigned, r.name)
                                                 for r in nazorg.responsible]


def test_school_without_veilig_thuis_number_gets_the_national_number(protocol):
    doc = parse_text("id: zonder\nname: School zonder nummer\n", "zonder.yaml")
    school = school_from_document(doc, protocol)
    e = evaluate(protocol, school, {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "ja"})
    (vt,) = e.contacts
    assert (vt.phone, vt.fallback) == ("0800-2000", True)
    assert evaluate(protocol, neutral_school(protocol), {}).contacts[0].phone == "0800-2000"


def test_answers_beyond_the_route_are_ignored_and_listed(protocol, demo):
    e = evaluate(protocol, demo, {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "ja",
                                  "actie_nodig": "nee", "hulp_resultaat": "ja"})
    assert e.outcome.id == "direct_melden"
    assert [(i.question, i.answer) for i in e.ignored] == [("actie_nodig", "nee"),
                                                           ("hulp_resultaat", "ja")]
    assert dict(e.used) == {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "ja"}


def test_unknown_question_and_disallowed_answer_are_errors(protocol, demo):
    with pytest.raises(AnswerError) as err:
        evaluate(protocol, demo, {"sterk_vermoeden": "twijfel", "bestaat_niet": "ja"})
    messages = [p.message for p in err.value.problems]
    assert messages[0] == ("antwoord 'twijfel' is niet toegestaan bij vraag 'sterk_vermoeden' "
                           "(toegestaan: ja, nee)")
    assert messages[1].startswith("onbekende vraag 'bestaat_niet'")


def test_trace_names_every_rule_with_the_answers_that_made_it_fire(protocol, demo):
    e = evaluate(protocol, demo, {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "ja"})
    assert [(t.rule, dict(t.answers)) for t in e.trace] == [
        ("begin", {}),
        ("sterk_vermoeden", {"sterk_vermoeden": "ja"}),
        ("direct_melden", {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "ja"}),
    ]


def test_evaluation_is_immutable(protocol, demo):
    e = evaluate(protocol, demo, {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.outcome = None  # type: ignore[misc]


def test_to_dict_has_the_documented_keys(protocol, demo):
    d = evaluate(protocol, demo, {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "ja"},
                 FRIDAY).to_dict()
    assert d["next_question"] is None
    assert d["outcome"]["id"] == "direct_melden"
    assert d["contacts"] == [{"key": "veilig_thuis", "name": "Veilig Thuis (regio)",
                              "phone": "0412-673700"}]
    assert d["deadlines"] == [{"label": "Melding bij Veilig Thuis", "due": "2026-11-27",
                               "due_text": "vrijdag 27 november 2026", "working_days": 0,
                               "kind": "school", "overdue": False}]
    assert d["stage"] == "melden"
    assert [p["phone"] for p in d["acute"]["phones"]] == ["112", "0412-673700", "0800-2000"]
    assert {"actions", "responsible", "trace"} <= d.keys()
