"""``evaluate(protocol, school, answers, today, facts)``: where a dossier stands, and why.

The rules decide; this module feeds them the answers of the questions the route has
reached (durable_rules does the matching, see ``runtime.py``), lets the consequences of
the rules that fired apply themselves (``consequences.py``) and turns the result into an
immutable ``Evaluation``. It knows nothing of the Meldcode itself.

After the route, the stage rules (``stage_rules:``) get the routing facts (``facts.py``)
and the route's own position (the builtin facts ``outcome`` and ``question``): they give
the dossier's stage, the step at work, who acts now and what is still to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import runtime
from .consequences import (
    ALL_DONE,
    OUTCOME_DONE,
    SCHOOL_DAYS,
    Action,
    DeadlineSpec,
    Effects,
    RouteState,
)
from .errors import AnswerError, AnswerProblem, RouteError
from .facts import FactValue, Settled, check_facts, settle
from .model import (
    NONE,
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
from .workdays import add_working_days, dutch_date


@dataclass(frozen=True)
class QuestionRef:
    id: str
    label: str
    text: str
    step: str
    answers: tuple[str, ...]
    ref: str = ""  # how a sentence names it ("vraag 2"); the label if the protocol has none

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
    kind: str = "school"  # whose deadline: "school" or "veilig_thuis"
    overdue: bool = False  # today is after ``due``

    @property
    def due_text(self) -> str:
        """The due date in Dutch ("dinsdag 22 december 2026")."""
        return dutch_date(self.due)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "due": self.due.isoformat(), "due_text": self.due_text,
                "working_days": self.working_days, "kind": self.kind,
                "overdue": self.overdue}


@dataclass(frozen=True)
class TraceEntry:
    rule: str
    description: str
    answers: tuple[tuple[str, str], ...]  # the answers (or facts) that made it fire
    reason: str = ""  # the rule's reason, to follow "omdat" (the description if none)
    because: str = ""  # the answers in words: "vraag 2: ja"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "description": self.description,
                "answers": dict(self.answers), "reason": str(self)}

    def __str__(self) -> str:
        text = self.reason or self.description
        return text + (f" ({self.because})" if self.because else "")


@dataclass(frozen=True)
class Phone:
    name: str
    phone: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "phone": self.phone}


@dataclass(frozen=True)
class AcuteGuidance:
    """What to do in acute danger, with the numbers to call (the school's resolved)."""

    text: str
    phones: tuple[Phone, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "phones": [p.to_dict() for p in self.phones]}


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
    stage: str | None = None  # the dossier's stage (a protocol ``stages`` id)
    stage_label: str | None = None
    acute: AcuteGuidance | None = None
    facts: tuple[tuple[str, str], ...] = ()  # every routing fact's value, in the file's order
    facts_in_play: tuple[str, ...] = ()  # the facts that were reached (the others: default)
    stage_trace: tuple[TraceEntry, ...] = ()  # the stage rules that fired

    def explanation(self) -> str:
        """The decision in plain Dutch: what, because of what (``je``, no ids)."""
        if self.outcome is not None:
            head = self.outcome.text.rstrip(".")
        elif self.next_question is not None:
            head = f"Nu aan de beurt: {self.next_question.ref}"
        else:  # pragma: no cover - evaluate() raises on gaps
            head = "Geen uitkomst"
        stage = [str(t) for t in self.stage_trace if t.reason]
        lines = [f"{self.stage_label}, omdat {stage[-1]}."] if stage and self.stage_label else []
        reasons = [str(t) for t in self.trace if t.answers]
        lines.append(f"{head}, omdat {reasons[-1]}." if reasons else head + ".")
        if len(reasons) > 1:
            lines += ["Eerder op de route:", *(f"- {r}" for r in reasons[:-1])]
        return "\n".join(lines)

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
            "stage": self.stage,
            "stage_label": self.stage_label,
            "acute": self.acute.to_dict() if self.acute else None,
            "facts": dict(self.facts),
            "stage_trace": [t.to_dict() for t in self.stage_trace],
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
    stage_fired: list[Rule] = field(default_factory=list)  # stage rules, in order
    settled: Settled | None = None


def _builtins(protocol: Protocol, walk: _Walk) -> dict[str, str]:
    """The route's position as facts: its last outcome and its open question."""
    open_questions = _open_questions(walk)
    ordered = [ids[0] for _, ids in sorted(walk.route.outcomes_at.items())]
    return {"outcome": ordered[-1] if ordered else NONE,
            "question": open_questions[0] if open_questions else NONE}


def _route_walk(protocol: Protocol, answers: Mapping[str, str]) -> _Walk:
    """Feed the rules the answers of the questions the route reaches, breadth first."""
    rules = {r.id: r for r in protocol.rules}
    walk = _Walk()

    def take(rule_ids: list[str], depth: int) -> list[str]:
        walk.route.new_questions = []
        for rule_id in rule_ids:
            rule = rules[rule_id]  # route rules match answers only, never facts
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


def _stage_walk(protocol: Protocol, route: _Walk, given: Mapping[str, FactValue],
                today: dt.date) -> _Walk:
    """The route's walk with the routing facts fed to the stage rules. Stage rules match
    facts only and route rules answers only, so the facts get a rules session of their
    own: one walk of the route serves every set of facts (``fired_each``)."""
    walk = _Walk(route.fired, route.route, route.used)
    if not (protocol.stage_rules or protocol.facts):
        return walk
    stage_rules = {r.id: r for r in protocol.stage_rules}
    walk.settled = settle(protocol, given, _builtins(protocol, route), today)
    with runtime.rules_session(protocol) as rules_session:
        fired = rules_session.facts(walk.settled.values)
    walk.stage_fired += [stage_rules[r] for r in fired]
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


def _contacts(protocol: Protocol, school: SchoolConfig, at: _Position,
              actions: tuple[Action, ...]) -> tuple[ResolvedContact, ...]:
    action_keys = [a.contact for a in actions if a.contact]
    if at.outcome is not None and at.outcome_is_current:
        keys = action_keys
    else:
        keys = [*protocol.step(at.step).contacts, *action_keys]
    return tuple(resolve_contact(protocol, school, k) for k in dict.fromkeys(keys))


@dataclass(frozen=True)
class RoutePosition:
    """Where the answers alone lead: the answers used, the fired rules, and the route's
    position as builtin facts (``outcome``, ``question``). For walking the tree of
    reachable states (``enumerate.py``)."""

    used: tuple[tuple[str, str], ...]
    fired: tuple[str, ...]
    builtins: Mapping[str, str]
    walk: _Walk | None = field(default=None, compare=False, repr=False)  # for fired_each


def route_position(protocol: Protocol, answers: Mapping[str, str]) -> RoutePosition:
    """The route for ``answers`` without the stage rules; a ``RouteError`` on a gap or a
    conflict."""
    walk = _route_walk(protocol, answers)
    builtins = _builtins(protocol, walk)
    return RoutePosition(tuple(walk.used), tuple(f.rule.id for f in walk.fired), builtins,
                         walk)


@dataclass(frozen=True)
class _Now:
    """The dossier's present, after the stage rules: stage, step, who acts, what to do."""

    stage: str | None
    step: str
    roles: tuple[str, ...]
    actions: tuple[Action, ...]
    deadlines: tuple[DeadlineSpec, ...]
    fields: tuple[str, ...] = ()  # form fields the stage rules ask for


def _now(protocol: Protocol, walk: _Walk, at: _Position) -> _Now:
    effects = Effects()
    for rule in walk.stage_fired:
        for item in rule.then:
            item.on_current(effects)
    stages = list(dict.fromkeys(effects.stages))
    if protocol.stages and len(stages) != 1:
        kind = "gap" if not stages else "conflict"
        message = ("geen fase voor dit dossier" if not stages else
                   "meerdere fasen tegelijk: " + ", ".join(s for s, _ in stages))
        raise RouteError(kind, message, dict(walk.used),
                         [f.rule.id for f in walk.fired] + [r.id for r in walk.stage_fired])
    stage, step = stages[0] if stages else (None, None)
    current = at.outcome if at.outcome is not None and at.outcome_is_current else None
    all_done = OUTCOME_DONE in effects.done

    def done(item: Action | DeadlineSpec, of_outcome: tuple[Any, ...]) -> bool:
        if ALL_DONE in effects.done or (all_done and item in of_outcome):
            return True
        return isinstance(item, Action) and item.id is not None and item.id in effects.done

    actions = [a for a in at.actions if not done(a, current.actions if current else ())]
    deadlines = [d for d in at.deadlines if not done(d, current.deadlines if current else ())]
    if effects.roles is not None:
        roles = effects.roles
    else:
        roles = protocol.step(step).required_roles if step else at.roles
    return _Now(stage, step or at.step, roles, (*actions, *effects.actions),
                (*deadlines, *effects.deadlines), tuple(effects.fields))


def _deadline(spec: DeadlineSpec, school: SchoolConfig, dates: Mapping[str, dt.date],
              today: dt.date) -> Deadline:
    days = (school.report_within_working_days if spec.working_days == SCHOOL_DAYS
            else int(spec.working_days))
    start = dates.get(spec.start, today) if spec.start else today
    due = add_working_days(start, days)
    return Deadline(spec.label, due, days, spec.kind, today > due)


def acute_guidance(protocol: Protocol, school: SchoolConfig) -> AcuteGuidance | None:
    """The protocol's acute-danger guidance with this school's numbers (each number once)."""
    if protocol.acute is None:
        return None
    phones: dict[str, Phone] = {}
    for p in protocol.acute.phones:
        if p.contact is not None:
            contact = resolve_contact(protocol, school, p.contact)
            name, number = p.name or contact.name, contact.phone
        else:
            name, number = p.name or "", p.phone
        if number and number not in phones:
            phones[number] = Phone(name, number)
    return AcuteGuidance(protocol.acute.text, tuple(phones.values()))


def _because(protocol: Protocol, pairs: tuple[tuple[str, str], ...]) -> str:
    words = []
    for q, a in pairs:
        question = protocol.questions[q]
        name = question.ref or question.label
        words.append(f"{name}: {protocol.answer_labels.get(a, a).lower()}")
    return ", ".join(words)


def _trace(protocol: Protocol, walk: _Walk) -> tuple[TraceEntry, ...]:
    used_map = dict(walk.used)
    entries = []
    for f in walk.fired:
        pairs = tuple((q, used_map[q]) for q in f.rule.when)
        entries.append(TraceEntry(f.rule.id, f.rule.description, pairs,
                                  f.rule.reason or "", _because(protocol, pairs)))
    return tuple(entries)


def _stage_trace(walk: _Walk) -> tuple[TraceEntry, ...]:
    values = walk.settled.values if walk.settled else {}
    return tuple(TraceEntry(r.id, r.description, tuple((k, values[k]) for k in r.when),
                            r.reason or "") for r in walk.stage_fired)


def _question_ref(question: Question) -> QuestionRef:
    return QuestionRef(question.id, question.label, question.text, question.step,
                       question.answers, question.ref or question.label)


def evaluate(
    protocol: Protocol,
    school: SchoolConfig,
    answers: Mapping[str, str],
    today: dt.date | None = None,
    facts: Mapping[str, FactValue] | None = None,
) -> Evaluation:
    """Evaluate ``answers`` (question id -> answer id) and the routing ``facts`` (fact id
    -> value, date id -> date or ISO text; see ``dossier_facts``) against the protocol's
    rules. Facts left out have their default (the protocol's ``facts[].default``)."""
    check_answers(protocol, answers)
    given = check_facts(protocol, facts or {})
    today = today or dt.date.today()
    route = _route_walk(protocol, answers)
    _builtins(protocol, route)  # a gap or conflict in the route: RouteError
    return _evaluation(protocol, school, answers, today, _stage_walk(protocol, route, given,
                                                                     today))


def fired_each(
    protocol: Protocol,
    answers: Mapping[str, str],
    facts: Sequence[Mapping[str, FactValue] | None],
    today: dt.date,
    position: RoutePosition | None = None,
) -> list[tuple[str, ...] | RouteError]:
    """What ``evaluate`` decides about the route and the stage for one set of answers with
    each set of facts in turn (the route walked once), without putting the evaluation into
    words (for ``meldroute check``, which walks every reachable state): per set of facts
    the rules that fired, route rules first, or the RouteError (a gap or a conflict) that
    ``evaluate`` would raise. ``position``: the route's walk for
    these answers, already made (``route_position``)."""
    check_answers(protocol, answers)
    givens = [check_facts(protocol, given or {}) for given in facts]
    route = position.walk if position is not None and position.walk is not None else \
        _route_walk(protocol, answers)
    _builtins(protocol, route)
    route_rules = tuple(f.rule.id for f in route.fired)
    results: list[tuple[str, ...] | RouteError] = []
    for given in givens:
        walk = _stage_walk(protocol, route, given, today)
        try:
            _now(protocol, walk, _position(protocol, walk, _open_questions(walk)))
        except RouteError as err:
            results.append(err)
            continue
        results.append((*route_rules, *(r.id for r in walk.stage_fired)))
    return results


def _evaluation(protocol: Protocol, school: SchoolConfig, answers: Mapping[str, str],
                today: dt.date, walk: _Walk) -> Evaluation:
    at = _position(protocol, walk, _open_questions(walk))
    now = _now(protocol, walk, at)
    question, outcome, step = at.question, at.outcome, now.step
    settled = walk.settled
    return Evaluation(
        protocol=protocol.id,
        protocol_version=protocol.version,
        school=school.id,
        today=today,
        step=step,
        next_question=_question_ref(question) if question else None,
        outcome=OutcomeRef(outcome.id, outcome.text, outcome.step) if outcome else None,
        passed_outcomes=tuple(
            OutcomeRef(o, protocol.outcomes[o].text, protocol.outcomes[o].step)
            for o in at.ordered[:-1]),
        actions=tuple(
            ResolvedAction(
                a.text,
                resolve_contact(protocol, school, a.contact) if a.contact else None,
                resolve_role(protocol, school, a.role, step) if a.role else None)
            for a in now.actions),
        contacts=_contacts(protocol, school, at, now.actions),
        responsible=tuple(resolve_role(protocol, school, r, step)
                          for r in dict.fromkeys(now.roles)),
        deadlines=tuple(_deadline(d, school, settled.dates if settled else {}, today)
                        for d in now.deadlines),
        requested_fields=tuple(dict.fromkeys(
            [*(f for o in at.ordered for f in protocol.outcomes[o].fields), *now.fields])),
        trace=_trace(protocol, walk),
        used=tuple(walk.used),
        ignored=tuple(
            IgnoredAnswer(q, a, "de route komt door de eerdere antwoorden niet bij deze vraag")
            for q, a in answers.items() if q not in walk.route.asked),
        stage=now.stage,
        stage_label=protocol.stages[now.stage].label if now.stage else None,
        acute=acute_guidance(protocol, school),
        facts=tuple((k, v) for k, v in settled.values.items()
                    if k in protocol.facts) if settled else (),
        facts_in_play=settled.in_play if settled else (),
        stage_trace=_stage_trace(walk),
    )
