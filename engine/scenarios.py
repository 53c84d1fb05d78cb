"""Scenario files: named answers with what they should give, and the branches they cover.

Branch coverage counts the question/answer pairs the scenarios' routes used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import AnswerError, ConfigError, Problem, RouteError
from .evaluate import Evaluation, evaluate
from .loader import DEFAULT_PROTOCOL, protocol_from_document, school_from_document
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
        want = [(d["label"], d["due"]) for d in expect["deadlines"]]
        got_d = [(d.label, d.due.isoformat()) for d in e.deadlines]
        if want != got_d:
            yield mismatch("deadlines", want, got_d)
    if "ignored" in expect:
        got_i = sorted(x.question for x in e.ignored)
        if got_i != sorted(expect["ignored"]):
            yield mismatch("ignored", expect["ignored"], got_i)
    if "actions" in expect:
        texts = [a.text for a in e.actions]
        for text in expect["actions"]:
            if text not in texts:
                yield mismatch("actions", repr(text), texts)


def run_scenarios(doc: Document, protocols: dict[str, Protocol]) -> ScenarioRun:
    problems = schema_problems(doc, "scenarios")
    if problems:
        return ScenarioRun(None, problems=problems)
    base = Path(doc.path).parent
    try:
        school_doc = read_document(base / doc.data["school"])
        wanted = school_doc.data.get("protocol", DEFAULT_PROTOCOL) if isinstance(
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
        school = school_from_document(school_doc, protocol)
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
            e = evaluate(protocol, school, sc["answers"], today)
        except AnswerError as err:
            for p in err.problems:
                run.problems.append(doc.problem(("scenarios", i, "answers", p.question),
                                                f"scenario '{sc['name']}': {p.message}",
                                                key=p.answer is None, check="scenario"))
            continue
        except RouteError as err:
            run.problems.append(doc.problem(("scenarios", i, "answers"),
                                            f"scenario '{sc['name']}': {err}", check="scenario"))
            continue
        run.covered.update(e.used)
        run.problems += _compare(doc, i, sc["name"], sc["expect"], e)
    return run


def all_branches(protocol: Protocol) -> list[tuple[str, str]]:
    return [(q.id, a) for q in protocol.questions.values() for a in q.answers]
