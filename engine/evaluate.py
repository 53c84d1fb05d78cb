"""``evaluate(protocol, school, answers, today)``: where a dossier stands, and why.

The rules decide; this module feeds them the answers of the questions the route has
reached (durable_rules does the matching, see ``runtime.py``), lets the consequences of
the rules that fired apply themselves (``consequences.py``) and turns the result into an
immutable ``Evaluation``. It knows nothing of the Meldcode itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import runtime
from .consequences import Action, DeadlineSpec, Effects, RouteState
from .errors import AnswerError, AnswerProblem, RouteError
from .model import (
    Outcome,
    Protocol,
    Question,
    ResolvedContact,
    ResolvedRole,
    Rule,
    SchoolConfig,
    resolve_contact,
    resolve_role,
)
from .workdays import add_working_days


@dataclass(frozen=True)
class QuestionRef:
    id: str
    label: str
    text: str
    step: str
    answers: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "text": self.text, "step": self.step,
                "answers": list(self.answers)}


@dataclass(frozen=True)
class OutcomeRef:
    id: str
    text: str
    step: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "step": self.step}


@dataclass(frozen=True)
class ResolvedAction:
    text: str
    contact: ResolvedContact | None = None
    role: ResolvedRole | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text,
                "contact": self.contact.to_dict() if self.contact else None,
                "role": self.role.to_dict() if self.role else None}


@dataclass(frozen=True)
class Deadline:
    label: str
    due: dt.date
    working_days: int

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "due": self.due.isoformat(),
                "working_days": self.working_days}


@dataclass(frozen=True)
class TraceEntry:
    rule: str
    description: str
    answers: tuple[tuple[str, str], ...]  # the answers that made it fire

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "description": self.description,
                "answers": dict(self.answers)}

    def __str__(self) -> str:
        why = ", ".join(f"{q}: {a}" for q, a in self.answers)
        return f"{self.description}" + (f" ({why})" if why else "")


@dataclass(frozen=True)
class IgnoredAnswer:
    question: str
    answer: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.answer, "reason": self.reason}


@dataclass(frozen=True)
class Evaluation:
    protocol: str
    protocol_version: str
    school: str
    today: dt.date
    step: str
    next_question: QuestionRef | None
    outcome: OutcomeRef | None
    passed_outcomes: tuple[OutcomeRef, ...]
    actions: tuple[ResolvedAction, ...]
    contacts: tuple[ResolvedContact, ...]
    responsible: tuple[ResolvedRole, ...]
    deadlines: tuple[Deadline, ...]
    requested_fields: tuple[str, ...]  # form fields the outcomes on the route ask for
    trace: tuple[TraceEntry, ...]
    used: tuple[tuple[str, str], ...]  # answers the route reached, in order
    ignored: tuple[IgnoredAnswer, ...] = field(default=())

    def explanation(self) -> str:
        """The decision in plain Dutch: what, and because of which rules."""
        if self.outcome is not None:
            head = self.outcome.text.rstrip(".")
        elif self.next_question is not None:
            head = f"Volgende vraag: {self.next_question.label}"
        else:  # pragma: no cover - evaluate() raises on gaps
            head = "Geen uitkomst"
        reasons = [str(t) for t in self.trace if t.answers]
        if not reasons:
            return head + "."
        return head + ", omdat:\n" + "\n".join(f"- {r}" for r in reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": {"id": self.protocol, "version": self.protocol_version},
            "school": self.school,
            "today": self.today.isoformat(),
            "step": self.step,
            "next_question": self.next_question.to_dict() if self.next_question else None,
            "outcome": self.outcome.to_dict() if self.outcome else None,
            "passed_outcomes": [o.to_dict() for o in self.passed_outcomes],
            "actions": [a.to_dict() for a in self.actions],
            "contacts": [{"key": c.key, "name": c.name, "phone": c.phone}
                         for c in self.contacts],
            "responsible": [r.to_dict() for r in self.responsible],
            "deadlines": [d.to_dict() for d in self.deadlines],
            "requested_fields": list(self.requested_fields),
            "trace": [t.to_dict() for t in self.trace],
            "explanation": self.explanation(),
            "used": dict(self.used),
            "ignored": [i.to_dict() for i in self.ignored],
        }


def check_answers(protocol: Protocol, answers: Mapping[str, Any]) -> None:
    """Unknown questions and answers a question does not allow are errors (all at once)."""
    problems = []
    for question, answer in answers.items():
        spec = protocol.questions.get(question)
        if spec is None:
            problems.append(AnswerProblem(
                question, None, f"onbekende vraag '{question}' "
                                f"(bekend: {', '.join(protocol.questions)})"))
        elif answer not in spec.answers:
            problems.append(AnswerProblem(
                question, answer if isinstance(answer, str) else None,
                f"antwoord {answer!r} is niet toegestaan bij vraag '{question}' "
                f"(toegestaan: {', '.join(spec.answers)})"))
    if problems:
        raise AnswerError(problems)


@dataclass
class _Fired:
    rule: Rule
    depth: int


@dataclass
class _Walk:
    """The rules that fired, in order, and what they decided about the route."""

    fired: list[_Fired] = field(default_factory=list)
    route: RouteState = field(default_factory=RouteState)
    used: list[tuple[str, str]] = field(default_factory=list)  # answers reached, in order


def _walk(protocol: Protocol, answers: Mapping[str, str]) -> _Walk:
    """Feed the rules the answers of the questions the route reaches, breadth first."""
    rules = {r.id: r for r in protocol.rules}
    walk = _Walk()

    def take(rule_ids: list[str], depth: int) -> list[str]:
        walk.route.new_questions = []
        for rule_id in rule_ids:
            rule = rules[rule_id]
            walk.fired.append(_Fired(rule, depth))
            for item in rule.then:
                item.on_fire(walk.route, depth)
        return walk.route.new_questions

    with runtime.rules_session(protocol) as rules_session:
        frontier = [(q, 1) for q in take(rules_session.start(), 0)]
        while frontier:
            question, depth = frontier.pop(0)
            if question not in answers:
                continue
            walk.used.append((question, answers[question]))
            fired = rules_session.answer(question, answers[question])
            frontier += [(q, depth + 1) for q in take(fired, depth)]
    return walk


def _open_questions(walk: _Walk) -> list[str]:
    """The questions now open; a conflict or a gap in the route is a ``RouteError``."""
    used_map = dict(walk.used)
    fired_ids = [f.rule.id for f in walk.fired]
    route = walk.route
    open_questions = [q for q in route.asked if q not in used_map or q in route.kept_open]
    if len(open_questions) > 1:
        raise RouteError("conflict", "meerdere open vragen tegelijk: "
                                     + ", ".join(open_questions), used_map, fired_ids)
    for ids in route.outcomes_at.values():
        if len(ids) > 1:
            raise RouteError("conflict", "tegenstrijdige uitkomsten: " + ", ".join(ids),
                             used_map, fired_ids)
    if not open_questions and not route.outcomes_at:
        raise RouteError("gap", "geen volgende vraag en geen uitkomst", used_map, fired_ids)
    return open_questions


@dataclass(frozen=True)
class _Position:
    """Where the dossier stands: the step, the open question, the outcome (current or
    passed), and what is to be done now."""

    step: str
    question: Question | None
    outcome: Outcome | None
    outcome_is_current: bool
    ordered: tuple[str, ...]  # the outcomes on the route, in order
    roles: tuple[str, ...]
    actions: tuple[Action, ...]
    deadlines: tuple[DeadlineSpec, ...]


def _position(protocol: Protocol, walk: _Walk, open_questions: list[str]) -> _Position:
    outcomes_at = walk.route.outcomes_at
    last_depth = max(f.depth for f in walk.fired)
    ordered = [ids[0] for _, ids in sorted(outcomes_at.items())]
    outcome = protocol.outcomes[ordered[-1]] if ordered else None
    outcome_is_current = outcome is not None and max(outcomes_at) == last_depth
    question = protocol.questions[open_questions[0]] if open_questions else None

    effects = Effects()
    if outcome is not None and outcome_is_current:
        effects.actions += outcome.actions
        effects.deadlines += outcome.deadlines
    for f in walk.fired:
        if f.depth == last_depth:
            for item in f.rule.then:
                item.on_current(effects)
    if outcome is not None and (outcome_is_current or question is None):
        step = outcome.step
        roles = outcome.responsible or protocol.step(step).required_roles
    else:
        assert question is not None
        step = question.step
        roles = question.responsible or protocol.step(step).required_roles
    return _Position(step, question, outcome, outcome_is_current, tuple(ordered),
                     roles if effects.roles is None else effects.roles,
                     tuple(effects.actions), tuple(effects.deadlines))


def _contacts(protocol: Protocol, school: SchoolConfig, at: _Position
              ) -> tuple[ResolvedContact, ...]:
    action_keys = [a.contact for a in at.actions if a.contact]
    if at.outcome is not None and at.outcome_is_current:
        keys = action_keys
    else:
        keys = [*protocol.step(at.step).contacts, *action_keys]
    return tuple(resolve_contact(protocol, school, k) for k in dict.fromkeys(keys))


def evaluate(
    protocol: Protocol,
    school: SchoolConfig,
    answers: Mapping[str, str],
    today: dt.date | None = None,
) -> Evaluation:
    """Evaluate ``answers`` (question id -> answer id) against the protocol's rules."""
    check_answers(protocol, answers)
    today = today or dt.date.today()
    walk = _walk(protocol, answers)
    at = _position(protocol, walk, _open_questions(walk))
    used_map = dict(walk.used)
    question, outcome, step = at.question, at.outcome, at.step
    return Evaluation(
        protocol=protocol.id,
        protocol_version=protocol.version,
        school=school.id,
        today=today,
        step=step,
        next_question=QuestionRef(question.id, question.label, question.text, question.step,
                                  question.answers) if question else None,
        outcome=OutcomeRef(outcome.id, outcome.text, outcome.step) if outcome else None,
        passed_outcomes=tuple(
            OutcomeRef(o, protocol.outcomes[o].text, protocol.outcomes[o].step)
            for o in at.ordered[:-1]),
        actions=tuple(
            ResolvedAction(
                a.text,
                resolve_contact(protocol, school, a.contact) if a.contact else None,
                resolve_role(protocol, school, a.role, step) if a.role else None)
            for a in at.actions),
        contacts=_contacts(protocol, school, at),
        responsible=tuple(resolve_role(protocol, school, r, step)
                          for r in dict.fromkeys(at.roles)),
        deadlines=tuple(Deadline(d.label, add_working_days(today, d.working_days),
                                 d.working_days) for d in at.deadlines),
        requested_fields=tuple(dict.fromkeys(
            f for o in at.ordered for f in protocol.outcomes[o].fields)),
        trace=tuple(TraceEntry(f.rule.id, f.rule.description,
                               tuple((q, used_map[q]) for q in f.rule.when))
                    for f in walk.fired),
        used=tuple(walk.used),
        ignored=tuple(
            IgnoredAnswer(q, a, "de route komt door de eerdere antwoorden niet bij deze vraag")
            for q, a in answers.items() if q not in walk.route.asked),
    )
