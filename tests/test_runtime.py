"""The durable_rules runtime: thread safety, no state left behind, failures raised."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from pathlib import Path

import pytest

from meldroute.engine import EngineError, evaluate, runtime

TODAY = dt.date(2026, 11, 27)


def all_combinations(protocol):
    questions = list(protocol.questions.values())
    for combo in itertools.product(*[(None, *q.answers) for q in questions]):
        yield {q.id: a for q, a in zip(questions, combo, strict=True) if a is not None}


def test_four_threads_give_the_single_threaded_results(protocol, demo):
    combos = list(all_combinations(protocol))
    expected = [evaluate(protocol, demo, a, TODAY).to_dict() for a in combos]
    mismatches: list[int] = []
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(offset, len(combos), 1):
                j = (i + offset * 700) % len(combos)
                if evaluate(protocol, demo, combos[j], TODAY).to_dict() != expected[j]:
                    mismatches.append(j)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and mismatches == []
    assert runtime.live_rules_sessions() == 0


def _rss_kb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_memory_stays_flat_over_many_evaluations(protocol, demo):
    combos = list(all_combinations(protocol))
    for a in combos[:2000]:  # warm up caches
        evaluate(protocol, demo, a, TODAY)
    before = _rss_kb()
    for a in itertools.islice(itertools.cycle(combos), 20_000):
        evaluate(protocol, demo, a, TODAY)
    grown = _rss_kb() - before
    # 20,000 sessions left behind would be ~4 GB in durable_rules (and crash at 1,025).
    assert grown < 4_000, f"RSS grew by {grown} kB"
    assert runtime.live_rules_sessions() == 0


def test_an_exception_inside_the_engine_is_raised_not_read_as_no_outcome(protocol):
    with pytest.raises(EngineError, match="the rules engine failed"):
        with runtime.rules_session(protocol) as s:
            runtime._host().fired.pop(s.sid)  # the action will fail with a KeyError
            s.start()
    assert runtime.live_rules_sessions() == 0


def test_a_missing_result_is_an_engine_error(protocol, monkeypatch):
    monkeypatch.setattr(runtime._QuietHost, "assert_fact", lambda self, name, fact: None)
    with pytest.raises(EngineError, match="no result"):
        evaluate(protocol, __import__("meldroute.engine", fromlist=["x"]).neutral_school(
            protocol), {})
    assert runtime.live_rules_sessions() == 0


def test_ruleset_is_compiled_once_per_protocol_version(protocol):
    from meldroute.engine import load_protocol
    again = load_protocol()
    assert runtime.prepare(protocol) == runtime.prepare(again)
    assert runtime.ruleset_name(protocol).startswith("meldroute.meldcode-onderwijs.2026.1.")
