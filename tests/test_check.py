"""`run_check` over the shipped files and over files that are not there."""

from __future__ import annotations

from meldroute.engine import run_check


def test_shipped_files_pass():
    report = run_check()
    assert report.ok, [str(p) for p in report.problems]
    assert report.combinations == 618  # reachable states (answers and facts), not the product
    assert [(c.protocol, c.percent) for c in report.coverage] == [
        ("meldcode-onderwijs", 100.0), ("meldplicht-medewerker", 100.0)]


def test_missing_file_is_a_problem_not_a_traceback(messages, tmp_path):
    path = tmp_path / "nergens.yaml"
    assert messages(path) == [f"{path}:1:1: bestand niet gevonden"]


def test_the_check_decides_every_state_as_evaluate_does():
    """``meldroute check`` walks each set of answers once and does not put the states into
    words (``fired_each``); for every reachable state of the shipped routes it must find
    the rules and the errors that ``evaluate`` finds."""
    from meldroute.engine import RouteError, evaluate, load_protocol, shipped_protocol_files
    from meldroute.engine.enumerate import TODAY, answer_states, fact_states
    from meldroute.engine.evaluate import fired_each
    from meldroute.engine.loader import neutral_school

    for path in shipped_protocol_files():
        protocol = load_protocol(path)
        school = neutral_school(protocol)
        for state in answer_states(protocol):
            assert state.position is not None, state.error
            facts = list(fact_states(protocol, state.position.builtins))
            got = fired_each(protocol, state.answers, facts, TODAY, state.position)
            for given, fired in zip(facts, got, strict=True):
                try:
                    e = evaluate(protocol, school, state.answers, TODAY, given)
                except RouteError as err:
                    assert isinstance(fired, RouteError) and str(fired) == str(err)
                    continue
                assert fired == tuple(t.rule for t in (*e.trace, *e.stage_trace))
