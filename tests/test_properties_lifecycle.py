"""Property tests for the life of a dossier: for any answers, routing facts, dates and
day, there is one stage, the step fits it, and whoever is "aan zet" is an actor of the
current step or the owner of an open task; a closed dossier has nothing to do."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meldroute.engine import evaluate, load_protocol, load_school

PROTOCOL = load_protocol()
DEMO = load_school(protocol=PROTOCOL)

answer_sets = st.fixed_dictionaries(
    {}, optional={q.id: st.sampled_from(q.answers) for q in PROTOCOL.questions.values()})
days = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2028, 12, 31))
fact_sets = st.fixed_dictionaries(
    {}, optional={**{f.id: st.sampled_from(f.values) for f in PROTOCOL.facts.values()},
                  **{d: days.map(dt.date.isoformat) for d in PROTOCOL.dates}})

# The steps a stage can be at (the acute stage and a closed dossier may be anywhere).
STEPS = {
    "signaleren": {"signaleren", "consulteren", "gesprek"},
    "afwegen": {"afwegen", "beslissen"},
    "melden": {"afwegen", "beslissen"},
    "wacht_op_veilig_thuis": {"beslissen"},
    "hulp_loopt": {"beslissen"},
    "nazorg": {"nazorg"},
}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(answers=answer_sets, facts=fact_sets, today=days)
def test_stage_step_and_responsible_are_consistent(answers, facts, today):
    e = evaluate(PROTOCOL, DEMO, answers, today, facts)
    assert e.stage in PROTOCOL.stages
    assert e.stage_label == PROTOCOL.stages[e.stage].label
    if e.stage in STEPS:
        assert e.step in STEPS[e.stage], (e.stage, e.step)
    actors = {a.role for a in PROTOCOL.step(e.step).actors}
    owners = {a.role.role for a in e.actions if a.role}
    assert e.responsible
    assert {r.role for r in e.responsible} <= actors | owners
    if e.stage == "afgesloten":
        assert e.actions == () and e.deadlines == ()
    if e.stage in ("wacht_op_veilig_thuis", "nazorg", "afgesloten"):
        assert "Meld bij Veilig Thuis." not in [a.text for a in e.actions]
    for d in e.deadlines:
        assert d.kind in ("school", "veilig_thuis")
        assert d.overdue == (today > d.due)
    assert e.acute is not None and e.acute.phones[0].phone == "112"
