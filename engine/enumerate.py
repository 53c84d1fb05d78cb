"""Every combination of answers through the engine: gaps, conflicts and dead rules.

Each question is left unanswered or given one of its answers; a combination with no next
question and no outcome is a gap, two outcomes or open questions at once a conflict, and
a rule that fires for no combination is dead.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from .errors import Problem, RouteError
from .evaluate import evaluate
from .loader import neutral_school
from .model import Protocol, SchoolConfig

MAX_COMBINATIONS = 200_000


@dataclass
class Enumeration:
    combinations: int = 0
    fired: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


def _describe(answers: dict[str, str]) -> str:
    return "{" + ", ".join(f"{q}: {a}" for q, a in answers.items()) + "}"


def enumerate_combinations(protocol: Protocol, school: SchoolConfig | None = None
                           ) -> Enumeration:
    school = school or neutral_school(protocol)
    questions = list(protocol.questions.values())
    result = Enumeration()
    total = 1
    for q in questions:
        total *= len(q.answers) + 1
    if total > MAX_COMBINATIONS:
        result.problems.append(protocol.source.problem(
            ("questions",), f"te veel antwoordcombinaties om op te sommen ({total} > "
                            f"{MAX_COMBINATIONS})", check="enumeration"))
        return result
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    today = dt.date(2026, 1, 5)
    for combo in itertools.product(*[(None, *q.answers) for q in questions]):
        answers = {q.id: a for q, a in zip(questions, combo, strict=True) if a is not None}
        result.combinations += 1
        try:
            evaluation = evaluate(protocol, school, answers, today)
        except RouteError as err:
            result.fired.update(err.fired)
            key = (err.kind, tuple(err.answers.items()))
            if key in seen:
                continue
            seen.add(key)
            last = next(reversed(err.answers), None)
            where = protocol.where("questions", last) if last else ("rules",)
            what = "gat in de route" if err.kind == "gap" else "conflict in de route"
            result.problems.append(protocol.source.problem(
                where, f"{what} na {_describe(err.answers)}: {err}", check="enumeration"))
            continue
        result.fired.update(t.rule for t in evaluation.trace)
    for rule in protocol.rules:
        if rule.id not in result.fired:
            result.problems.append(protocol.source.problem(
                protocol.where("rules", rule.id),
                f"regel '{rule.id}' gaat bij geen enkele antwoordcombinatie af",
                check="enumeration"))
    return result
