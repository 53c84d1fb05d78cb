"""Scenario files: named answers (and routing facts) with what they should give, and the
branches they cover.

Branch coverage counts the question/answer pairs the scenarios' routes used and the
fact/value pairs of the facts in play.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import AnswerError, ConfigError, Problem, RouteError
from .evaluate import Evaluation, evaluate
from .loader import (
    DEFAULT_PROTOCOL,
    followed_protocols,
    protocol_from_document,
    school_from_document,
)
from .model import Protocol
from .source import Document, read_document, schema_problems


@dataclass
class ScenarioRun:
    protocol: Protocol | None
    count: int = 0
    covered: set[tuple[str, str]] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


def _compare(doc: Document, i: int, name: str, expect: dict[str, Any], e: Evaluation
             ) -> Iterator[Problem]:
    def mismatch(key: str, wanted: Any, got: Any) -> Problem:
        return doc.problem(("scenarios", i, "expect", key),
                           f"scenario '{name}': verwacht {key} {wanted}, kreeg {got}",
                           check="scenario")

    if "next_question" in expect:
        got = e.next_question.id if e.next_question else None
        if got != expect["next_question"]:
            yield mismatch("next_question", expect["next_question"], got)
    if "outcome" in expect:
        got = e.outcome.id if e.outcome else None
        if got != expect["outcome"]:
            yield mismatch("outcome", expect["outcome"], got)
    if "step" in expect and e.step != expect["step"]:
        yield mismatch("step", expect["step"], e.step)
    if "stage" in expect and e.stage != expect["stage"]:
        yield mismatch("stage", expect["stage"], e.stage)
    if "responsible" in expect:
        got_roles = [r.assigned for r in e.responsible]
        if sorted(got_roles) != sorted(expect["responsible"]):
            yield mismatch("responsible", expect["responsible"], got_roles)
    if "contacts" in expect:
        phones = {c.key: c.phone for c in e.contacts}
        for key, phone in expect["contacts"].items():
            if phones.get(key, "(geen)") != phone:
                yield mismatch("contacts", f"{key} {phone}", f"{key} {phones.get(key, '(geen)')}")
    if "deadlines" in expect:
        yield from _compare_deadlines(expect["deadlines"], e, mismatch)
    if "ignored" in expect:
        got_i = sorted(x.question for x in e.ignored)
        if got_i != sorted(expect["ignored"]):
            yield mismatch("ignored", expect["ignored"], got_i)
    if "actions" in expect:
        texts = [a.text for a in e.actions]
        for text in expect["actions"]:
            if text not in texts:
                yield mismatch("actions", repr(text), texts)
    for text in expect.get("not_actions", ()):
        if text in [a.text for a in e.actions]:
            yield mismatch("not_actions", f"niet {text!r}", [a.text for a in e.actions])


def _compare_deadlines(wanted: list[dict[str, Any]], e: Evaluation,
                       mismatch: Callable[[str, Any, Any], Problem]) -> Iterator[Problem]:
    """Label and due date in order; kind and overdue where the scenario names them."""
    keys = ("label", "due", "kind", "overdue")
    want = [tuple(d.get(k) for k in keys if k in d) for d in wanted]
    got = [tuple({"label": d.label, "due": d.due.isoformat(), "kind": d.kind,
                  "overdue": d.overdue}[k] for k in keys if k in w)
           for d, w in zip(e.deadlines, wanted, strict=False)]
    if len(e.deadlines) != len(wanted) or want != got:
        yield mismatch("deadlines", want, [(d.label, d.due.isoformat(), d.kind, d.overdue)
                                           for d in e.deadlines])


def run_scenarios(doc: Document, protocols: dict[str, Protocol]) -> ScenarioRun:
    problems = schema_problems(doc, "scenarios")
    if problems:
        return ScenarioRun(None, problems=problems)
    base = Path(doc.path).parent
    try:
        school_doc = read_document(base / doc.data["school"])
        wanted = followed_protocols(school_doc.data)[0] if isinstance(
            school_doc.data, dict) else DEFAULT_PROTOCOL
        if "protocol" in doc.data:
            protocol = protocol_from_document(read_document(base / doc.data["protocol"]))
        elif wanted in protocols:
            protocol = protocols[wanted]
        else:
            return ScenarioRun(None, problems=[doc.problem(
                ("school",), f"onbekend protocol '{wanted}' voor deze school", check="scenario")])
        problems = schema_problems(school_doc, "school")
        if problems:
            raise ConfigError(problems)
        school = school_from_document(school_doc, {**protocols, protocol.id: protocol})
    except ConfigError as err:
        return ScenarioRun(None, problems=list(err.problems))
    run = ScenarioRun(protocol)
    for i, sc in enumerate(doc.data["scenarios"]):
        run.count += 1
        today = dt.date.fromisoformat(sc["today"]) if "today" in sc else dt.date.today()
        if "deadlines" in sc["expect"] and "today" not in sc:
            run.problems.append(doc.problem(("scenarios", i), f"scenario '{sc['name']}': "
                                            "termijnen verwachten vraagt om 'today'",
                                            check="scenario"))
            continue
        try:
            e = evaluate(protocol, school, sc["answers"], today, sc.get("facts"))
        except AnswerError as err:
            for p in err.problems:
                section = "answers" if p.question in protocol.questions else "facts"
                run.problems.append(doc.problem(("scenarios", i, section, p.question),
                                                f"scenario '{sc['name']}': {p.message}",
                                                key=p.answer is None, check="scenario"))
            continue
        except RouteError as err:
            run.problems.append(doc.problem(("scenarios", i, "answers"),
                                            f"scenario '{sc['name']}': {err}", check="scenario"))
            continue
        run.covered.update(e.used)
        facts = dict(e.facts)
        run.covered.update((f, facts[f]) for f in e.facts_in_play)
        run.problems += _compare(doc, i, sc["name"], sc["expect"], e)
    return run


def all_branches(protocol: Protocol) -> list[tuple[str, str]]:
    """Every question/answer pair and every fact/value pair."""
    return ([(q.id, a) for q in protocol.questions.values() for a in q.answers]
            + [(f.id, v) for f in protocol.facts.values() for v in f.values])
