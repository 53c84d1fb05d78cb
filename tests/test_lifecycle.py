"""Issue 9: the life of a dossier — stages, routing facts, deadlines, acute guidance.

Also the proof that walking the tree of reachable states gives the same states as the
full product of answers and facts, and that every answer combination keeps the outcome it
had before the lifecycle was added (``data/decide_baseline.json``, recorded with the engine
before this change).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest

from meldroute.engine import (
    AnswerError,
    RouteError,
    dossier_facts,
    dutch_date,
    evaluate,
    is_dutch_phone,
    load_school,
)
from meldroute.engine.enumerate import answer_states, fact_states, reachable_states
from meldroute.engine.evaluate import route_position
from meldroute.engine.facts import settle

BASELINE = Path(__file__).parent / "data" / "decide_baseline.json"
MELDEN = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "ja"}
TUESDAY = dt.date(2026, 12, 22)


def _product(protocol):
    questions = list(protocol.questions.values())
    for combo in itertools.product(*[(None, *q.answers) for q in questions]):
        yield {q.id: a for q, a in zip(questions, combo, strict=True) if a is not None}


@pytest.fixture(scope="module")
def every_combination(protocol, demo):
    """(answers, evaluation or RouteError) for the full product of answers."""
    results = []
    for answers in _product(protocol):
        try:
            results.append((answers, evaluate(protocol, demo, answers, dt.date(2026, 1, 5))))
        except RouteError as err:
            results.append((answers, err))
    return results


def _key(answers):
    return ",".join(f"{q}={a}" for q, a in answers.items())


def test_every_answer_combination_keeps_its_outcome(every_combination):
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert len(baseline) == len(every_combination)
    for answers, e in every_combination:
        before = baseline[_key(answers)]
        if isinstance(e, RouteError):
            assert before == {"error": e.kind}, answers
            continue
        now = {"outcome": e.outcome.id if e.outcome else None,
               "next_question": e.next_question.id if e.next_question else None,
               "passed": [o.id for o in e.passed_outcomes]}
        assert now == before, answers


def test_the_tree_of_answers_is_the_full_product(protocol, every_combination):
    """Every combination of answers reaches (uses) exactly a state of the tree walk."""
    from_product = {tuple(e.used) for _, e in every_combination if not isinstance(e, RouteError)}
    from_tree = {tuple(s.position.used) for s in answer_states(protocol) if s.position}
    assert from_product == from_tree


def test_the_tree_of_facts_is_the_full_product(protocol):
    """For every reachable set of answers, every combination of fact values settles into
    the same values as one leaf of the tree walk (the stage rules see only settled values,
    so the evaluations agree too)."""
    facts = list(protocol.facts.values())
    for state in answer_states(protocol):
        builtins = state.position.builtins
        leaves = {tuple(settle(protocol, leaf, builtins, TUESDAY).values.items())
                  for leaf in fact_states(protocol, builtins)}
        product = {tuple(settle(protocol, dict(zip([f.id for f in facts], combo, strict=True)),
                                builtins, TUESDAY).values.items())
                   for combo in itertools.product(*[f.values for f in facts])}
        assert product == leaves, state.answers


def test_every_reachable_state_has_one_stage_and_a_consistent_actor(protocol, demo):
    count = 0
    for state, facts in reachable_states(protocol):
        e = evaluate(protocol, demo, state.answers, TUESDAY, facts)
        count += 1
        assert e.stage in protocol.stages
        actors = {a.role for a in protocol.step(e.step).actors}
        owners = {a.role.role for a in e.actions if a.role}
        assert {r.role for r in e.responsible} <= actors | owners, (state.answers, facts)
    assert count == 602


def test_a_new_dossier_with_nothing_recorded_is_the_teachers(protocol, demo):
    facts = dossier_facts(protocol, {}, recorded_steps=(), flags={})
    e = evaluate(protocol, demo, {}, TUESDAY, facts)
    assert (e.stage, e.step, [r.assigned for r in e.responsible]) == (
        "signaleren", "signaleren", ["leerkracht"])
    assert e.stage_label == "Signaleren, consulteren en het gesprek"


def test_without_facts_the_weighing_is_as_before(protocol, demo):
    e = evaluate(protocol, demo, {}, TUESDAY)
    assert (e.stage, e.step, [r.assigned for r in e.responsible]) == (
        "afwegen", "afwegen", ["aandachtsfunctionaris"])


def test_dossier_facts_maps_fields_steps_and_flags(protocol):
    facts = dossier_facts(
        protocol,
        {"melding_datum": "2026-12-10", "melding_besproken_met_ouder": True,
         "hulp_termijn": dt.date(2026, 12, 24)},
        recorded_steps={"signaleren", "consulteren"},
        flags={"acuut": "ja", "reactie_veilig_thuis": "neemt_over", "gesloten": "misschien"})
    assert facts == {
        "melding_datum": dt.date(2026, 12, 10), "hulp_termijn": dt.date(2026, 12, 24),
        "acuut": "ja", "stap_signaleren": "ja", "stap_consulteren": "ja",
        "stap_gesprek": "nee", "melding_gedaan": "ja", "oudergesprek": "gevoerd",
        "reactie_veilig_thuis": "neemt_over", "nazorg_gedaan": "nee"}


def test_skipping_the_parent_talk_counts_only_with_a_reason(protocol):
    blank = dossier_facts(protocol, {"melding_niet_besproken_reden": "  "})
    assert "oudergesprek" not in blank
    reason = dossier_facts(protocol, {"melding_niet_besproken_reden": "Gevaar voor de leerling"})
    assert reason["oudergesprek"] == "overgeslagen"


def test_facts_are_checked(protocol, demo):
    with pytest.raises(AnswerError) as err:
        evaluate(protocol, demo, {}, TUESDAY, {"melding_gedaan": "misschien", "onbekend": "ja",
                                               "melding_datum": "gisteren"})
    assert len(err.value.problems) == 3


def test_melden_with_the_schools_own_term(protocol, tmp_path):
    text = Path(protocol.source.path).parent.parent.joinpath("schools", "demo.yaml").read_text(
        encoding="utf-8")
    path = tmp_path / "school.yaml"
    path.write_text(text + "\nmelden_binnen_werkdagen: 3\n", encoding="utf-8")
    school = load_school(path, protocol)
    e = evaluate(protocol, school, MELDEN, TUESDAY)
    assert [(d.label, d.due) for d in e.deadlines if d.kind == "school"] == [
        ("Melding bij Veilig Thuis", dt.date(2026, 12, 28))]  # Christmas does not count


def test_after_the_melding_the_melding_is_not_a_task(protocol, demo):
    e = evaluate(protocol, demo, MELDEN, TUESDAY,
                 {"melding_gedaan": "ja", "melding_datum": "2026-12-21"})
    assert e.stage == "wacht_op_veilig_thuis"
    assert "Meld bij Veilig Thuis." not in [a.text for a in e.actions]
    (deadline,) = e.deadlines
    assert (deadline.kind, deadline.due, deadline.overdue) == (
        "veilig_thuis", dt.date(2026, 12, 29), False)
    assert deadline.due_text == "dinsdag 29 december 2026"


def test_acute_guidance_has_112_the_schools_number_and_the_national_one(protocol, demo):
    e = evaluate(protocol, demo, {})
    assert "112" in e.acute.text
    assert [(p.phone) for p in e.acute.phones] == ["112", "0412-673700", "0800-2000"]
    flagged = evaluate(protocol, demo, {}, TUESDAY, {"acuut": "ja"})
    assert flagged.stage == "melden"
    assert [d.due for d in flagged.deadlines] == [TUESDAY]


def test_explanations_read_as_reasons(protocol, demo):
    text = evaluate(protocol, demo, MELDEN, TUESDAY).explanation()
    assert text.startswith("Melden bij Veilig Thuis, omdat je inschat dat de leerling niet "
                           "veilig is (vraag 2: ja).")
    for answers in ({}, {"sterk_vermoeden": "ja"}, {**MELDEN, "onveilig": "nee"}):
        text = evaluate(protocol, demo, answers, TUESDAY).explanation()
        assert "::" not in text and "_" not in text and " u " not in f" {text} "


def test_direct_melden_is_by_phone_under_your_own_name(protocol, demo):
    e = evaluate(protocol, demo, {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "ja"})
    assert e.outcome.text == "Meld direct telefonisch bij Veilig Thuis."
    assert not any("anoniem" in a.text for a in e.actions)


def test_question_two_explains_acute_and_structural_unsafety(protocol):
    text = protocol.questions["onveilig"].text
    assert "Acuut onveilig" in text and "Structureel onveilig" in text
    assert "verplicht" in text and "meldnorm 2019" in text


@pytest.mark.parametrize(("number", "ok"), [
    ("112", True), ("0800-2000", True), ("0900-111 3111", True), ("0900-8844", True),
    ("0412-673700", True), ("113", False), ("0800-12", False), ("0900-12345678901", False),
])
def test_national_service_numbers_are_dutch_phones(number, ok):
    assert is_dutch_phone(number) is ok


def test_dutch_dates():
    assert dutch_date(TUESDAY) == "dinsdag 22 december 2026"


def test_route_position_gives_the_builtin_facts(protocol):
    assert route_position(protocol, MELDEN).builtins == {"outcome": "melden",
                                                         "question": "geen"}
