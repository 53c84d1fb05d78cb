"""Every reachable state through the engine: gaps, conflicts and dead rules.

A state is the answers the route reaches and the routing facts in play. The states are
walked as a tree: from no answers, each open question is given each of its answers (only
reached answers are fed to the engine); for each reachable set of answers, each fact in
play (its ``when`` holds, see ``facts.py``) is given each of its values, the others keep
their default. ``tests/test_enumerate.py`` proves once that this tree gives the same
states as the full product of every answer and fact. A state with no next question and no
outcome (or no stage) is a gap, two outcomes, open questions or stages at once a
conflict, and a rule that fires in no state is dead.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from .errors import Problem, RouteError
from .evaluate import RoutePosition, fired_each, route_position
from .facts import matches
from .model import Protocol, SchoolConfig

MAX_COMBINATIONS = 200_000
TODAY = dt.date(2026, 1, 5)


@dataclass
class Enumeration:
    combinations: int = 0  # the states evaluated
    fired: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class AnswerState:
    """A reachable set of answers, or the route error it ends in."""

    answers: Mapping[str, str]
    position: RoutePosition | None
    error: RouteError | None = None


def _describe(answers: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{q}: {a}" for q, a in answers.items()) + "}"


def answer_states(protocol: Protocol) -> Iterator[AnswerState]:
    """Every reachable set of answers: the open question gets each of its answers."""
    stack: list[dict[str, str]] = [{}]
    while stack:
        answers = stack.pop()
        try:
            position = route_position(protocol, answers)
        except RouteError as err:
            yield AnswerState(answers, None, err)
            continue
        yield AnswerState(answers, position)
        question = position.builtins["question"]
        if question in protocol.questions and question not in answers:
            for answer in reversed(protocol.questions[question].answers):
                stack.append({**answers, question: answer})


def fact_states(protocol: Protocol, builtins: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """Every assignment of the facts in play (in the protocol's order), given the route's
    position; facts not in play are left out (they keep their default)."""
    facts = list(protocol.facts.values())

    def walk(i: int, env: dict[str, str], given: dict[str, str]) -> Iterator[dict[str, str]]:
        if i == len(facts):
            yield given
            return
        f = facts[i]
        if not matches(f.when, env):
            yield from walk(i + 1, {**env, f.id: f.default}, given)
            return
        for value in f.values:
            yield from walk(i + 1, {**env, f.id: value}, {**given, f.id: value})

    yield from walk(0, dict(builtins), {})


def reachable_states(protocol: Protocol
                     ) -> Iterator[tuple[AnswerState, dict[str, str] | None]]:
    """(answer state, facts) for every reachable state; facts None for a route error."""
    for state in answer_states(protocol):
        if state.position is None:
            yield state, None
            continue
        for facts in fact_states(protocol, state.position.builtins):
            yield state, facts


def _problem(protocol: Protocol, err: RouteError, facts: Mapping[str, str] | None
             ) -> Problem:
    last = next(reversed(err.answers), None)
    where = protocol.where("questions", last) if last else ("rules",)
    what = "gat in de route" if err.kind == "gap" else "conflict in de route"
    after = _describe(err.answers) + (f" met feiten {_describe(facts)}" if facts else "")
    return protocol.source.problem(where, f"{what} na {after}: {err}", check="enumeration")


@dataclass(frozen=True)
class _Outcome:
    """What one state gave: the rules that fired, and the problem if it ends in an error."""

    fired: tuple[str, ...]
    kind: str = ""  # "gap" or "conflict" for a route error
    problem: Problem | None = None


def _error(protocol: Protocol, err: RouteError, facts: Mapping[str, str] | None) -> _Outcome:
    return _Outcome(tuple(err.fired), err.kind, _problem(protocol, err, facts))


def _outcomes(protocol: Protocol, state: AnswerState, limit: int) -> list[_Outcome]:
    """Every state of a reachable set of answers (at most ``limit``): the route is walked
    once, each set of facts in play goes through the stage rules (``fired_each``)."""
    if state.position is None:
        assert state.error is not None
        return [_error(protocol, state.error, None)]
    facts = list(itertools.islice(fact_states(protocol, state.position.builtins), limit))
    try:
        results = fired_each(protocol, state.answers, facts, TODAY, state.position)
    except RouteError as err:  # pragma: no cover - answer_states found the route's errors
        return [_error(protocol, err, f) for f in facts]
    return [_error(protocol, r, f) if isinstance(r, RouteError) else _Outcome(r)
            for f, r in zip(facts, results, strict=True)]


def enumerate_combinations(protocol: Protocol, school: SchoolConfig | None = None
                           ) -> Enumeration:
    """Every reachable state through the rules (``school`` is accepted for callers that
    have one: a school's configuration changes what a decision says, never which rules
    fire, so gaps, conflicts and dead rules are the protocol's)."""
    return tally(protocol, (_outcomes(protocol, state, MAX_COMBINATIONS + 1)
                            for state in answer_states(protocol)))


def states_of(protocol: Protocol) -> list[AnswerState]:
    """The reachable sets of answers, as many as can stay under ``MAX_COMBINATIONS``."""
    return list(itertools.islice(answer_states(protocol), MAX_COMBINATIONS + 1))


def outcomes_of(protocol: Protocol, states: list[AnswerState], indices: Iterable[int]
                ) -> dict[int, list[_Outcome]]:
    """What the states of the sets of answers ``states[i]`` give, for each ``i`` in
    ``indices`` (for sharing the states between processes, ``checkparallel.py``)."""
    return {i: _outcomes(protocol, states[i], MAX_COMBINATIONS + 1) for i in indices}


def tally(protocol: Protocol, outcomes: Iterable[list[_Outcome]]) -> Enumeration:
    """The enumeration from the outcomes of each reachable set of answers, in order: the
    states counted (at most ``MAX_COMBINATIONS``), the rules fired, each problem once,
    then the rules that fire in no state."""
    result = Enumeration()
    seen: set[tuple[str, str]] = set()
    for outcome in itertools.chain.from_iterable(outcomes):
        result.combinations += 1
        if result.combinations > MAX_COMBINATIONS:
            result.problems.append(protocol.source.problem(
                ("questions",), f"te veel toestanden om op te sommen "
                                f"(> {MAX_COMBINATIONS})", check="enumeration"))
            return result
        result.fired.update(outcome.fired)
        problem = outcome.problem
        if problem is not None and (outcome.kind, problem.message) not in seen:
            seen.add((outcome.kind, problem.message))
            result.problems.append(problem)
    for section, rules in (("rules", protocol.rules), ("stage_rules", protocol.stage_rules)):
        for rule in rules:
            if rule.id not in result.fired:
                result.problems.append(protocol.source.problem(
                    protocol.where(section, rule.id),
                    f"regel '{rule.id}' gaat bij geen enkele bereikbare toestand af",
                    check="enumeration"))
    return result
