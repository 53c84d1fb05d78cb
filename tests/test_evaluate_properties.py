"""Property tests: any answers give one consistent state, never an exception."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meldroute.engine import evaluate, load_protocol, load_school
from meldroute.engine.workdays import holidays_in

PROTOCOL = load_protocol()
DEMO = load_school(protocol=PROTOCOL)
QUESTIONS = list(PROTOCOL.questions.values())
# The first deadline computed loads the holiday tables (about 0.5 s, once per process); done
# here, it does not count against an example's deadline when this file runs on its own.
holidays_in(2024)

answer_sets = st.fixed_dictionaries(
    {}, optional={q.id: st.sampled_from(q.answers) for q in QUESTIONS})
dates = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2035, 12, 31))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(answers=answer_sets, today=dates)
def test_any_answers_give_one_consistent_state(answers, today):
    e = evaluate(PROTOCOL, DEMO, answers, today)
    assert e.next_question is not None or e.outcome is not None
    used = dict(e.used)
    assert used.keys() | {i.question for i in e.ignored} == answers.keys()
    assert not used.keys() & {i.question for i in e.ignored}
    assert all(answers[q] == a for q, a in used.items())
    for entry in e.trace:  # every rule fired on answers the route reached
        assert all(used[q] == a for q, a in entry.answers)
    for d in e.deadlines:
        assert d.due >= today
    if e.next_question is not None:
        assert e.next_question.id not in used or e.outcome is None
    assert e.responsible, "someone is always responsible"


@settings(max_examples=300)
@given(data=st.data(), today=dates)
def test_walking_the_route_ends_in_an_outcome(data, today):
    answers: dict[str, str] = {}
    for _ in range(len(QUESTIONS) + 3):
        e = evaluate(PROTOCOL, DEMO, answers, today)
        if e.next_question is None:
            break
        q = e.next_question
        answer = data.draw(st.sampled_from(q.answers), label=q.id)
        if q.id in answers and answers[q.id] == answer:
            answer = q.answers[0]  # a question kept open: the situation changed
        answers[q.id] = answer
    final = evaluate(PROTOCOL, DEMO, answers, today)
    if final.next_question is not None:  # only the bevoegd gezag question stays open
        assert final.next_question.id == "bevoegd_gezag_ingelicht"
    else:
        assert final.outcome is not None
        assert final.ignored == ()
