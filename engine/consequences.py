"""Rule consequences (``then:``): one class per kind, found through one registry.

Each kind owns everything about itself:

- parse: ``from_data(value)`` builds it from the YAML value under its key;
- check: ``check(where, refs)`` reports the names it uses that the protocol lacks;
- apply: ``on_fire(route, depth)`` runs when its rule fires (the questions asked and kept
  open, the outcomes decided); ``on_current(effects)`` when its rule is among the last
  that fired (who acts now, the actions and deadlines);
- describe: ``routes`` (it moves the route on), ``targets()`` (the nodes of the route
  graph its rule leads to), ``drawn_edges()`` (extra edges in a flowchart) and
  ``describe()`` (one line of Dutch).

A new kind is a class here with ``@register`` and its key in
``schemas/protocol.schema.json`` (``$defs.then``); nothing else needs to change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Self, TypeVar

from .references import References

START = "start"


def question_node(question: str) -> str:
    """The route-graph node of a question."""
    return f"q:{question}"


def outcome_node(outcome: str) -> str:
    """The route-graph node of an outcome."""
    return f"o:{outcome}"


@dataclass(frozen=True)
class Action:
    """Something to do, with the contact to call or the role that does it."""

    text: str
    contact: str | None = None
    role: str | None = None
    id: str | None = None  # lets a later rule mark it as done (``done:``)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Action:
        return cls(data["text"], data.get("contact"), data.get("role"), data.get("id"))

    def check(self, where: tuple[Any, ...], refs: References) -> None:
        if self.contact is not None:
            refs.check((*where, "contact"), self.contact, "contact")
        if self.role is not None:
            refs.check((*where, "role"), self.role, "rol")


SCHOOL_DAYS = "school"  # ``working_days: school``: the school's own setting (see SchoolConfig)


@dataclass(frozen=True)
class DeadlineSpec:
    """A deadline ``working_days`` after a start: the date fact ``start`` (when the
    dossier has it) or today. ``working_days: school`` is the school's own setting for
    reporting (``melden_binnen_werkdagen``). ``kind``: whose deadline (``school`` or
    ``veilig_thuis``)."""

    label: str
    working_days: int | str
    kind: str = "school"
    start: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> DeadlineSpec:
        days = data["working_days"]
        return cls(data["label"], days if days == SCHOOL_DAYS else int(days),
                   data.get("kind", "school"), data.get("from"))

    def check(self, where: tuple[Any, ...], refs: References) -> None:
        if self.start is not None:
            refs.check((*where, "from"), self.start, "datum")

    def describe(self) -> str:
        days = ("de termijn van de school" if self.working_days == SCHOOL_DAYS
                else f"{self.working_days} werkdagen")
        return f"{self.label} ({days}" + (f" na {self.start})" if self.start else ")")


@dataclass
class RouteState:
    """What the fired rules decided about the route, filled in while an evaluation runs."""

    asked: list[str] = field(default_factory=list)  # in the order the route reached them
    new_questions: list[str] = field(default_factory=list)  # asked by the last batch of rules
    kept_open: list[str] = field(default_factory=list)
    outcomes_at: dict[int, list[str]] = field(default_factory=dict)  # depth -> outcome ids


@dataclass
class Effects:
    """What the rules that fired last add to the dossier's present position."""

    roles: tuple[str, ...] | None = None  # None: the question's or outcome's own roles
    actions: list[Action] = field(default_factory=list)
    deadlines: list[DeadlineSpec] = field(default_factory=list)
    stages: list[tuple[str, str | None]] = field(default_factory=list)  # (stage, step)
    done: list[str] = field(default_factory=list)  # action ids done; OUTCOME_DONE: all


class Consequence(ABC):
    """One item of a rule's ``then``; subclasses are frozen dataclasses."""

    kind: ClassVar[str]  # the key in the rule file
    routes: ClassVar[bool] = False  # gives a next question or an outcome (or keeps one open)

    @classmethod
    @abstractmethod
    def from_data(cls, value: Any) -> Self:
        """Build it from the (schema-valid) YAML value under its key."""

    @abstractmethod
    def check(self, where: tuple[Any, ...], refs: References) -> None:
        """Report (to ``refs``) the names it uses that the protocol does not define."""

    @abstractmethod
    def describe(self) -> str:
        """One line of Dutch saying what it does."""

    def on_fire(self, route: RouteState, depth: int) -> None:
        """Its rule fired at ``depth`` (0: the start)."""
        return None

    def on_current(self, effects: Effects) -> None:
        """Its rule is among the rules that fired last."""
        return None

    def targets(self) -> tuple[str, ...]:
        """The route-graph nodes its rule leads to."""
        return ()

    def drawn_edges(self, label: str) -> tuple[tuple[str, str], ...]:
        """(target, label) edges a flowchart shows besides the route graph's own."""
        return ()


_KINDS: dict[str, type[Consequence]] = {}
KINDS: Mapping[str, type[Consequence]] = MappingProxyType(_KINDS)


_Kind = TypeVar("_Kind", bound=type[Consequence])


def register(cls: _Kind) -> _Kind:
    """Make a consequence kind known under its ``kind`` (the order of registration counts:
    it is the order in which a rule's route-graph edges are added)."""
    if cls.kind in _KINDS:
        raise ValueError(f"consequence kind {cls.kind!r} registered twice")
    _KINDS[cls.kind] = cls
    return cls


def consequence_from_data(item: Mapping[str, Any]) -> Consequence:
    """A rule's ``then`` item (``{kind: value}``) as its consequence object."""
    ((kind, value),) = item.items()
    return KINDS[kind].from_data(value)


def in_registry_order(consequences: Iterable[Consequence]) -> list[Consequence]:
    """The consequences sorted by kind, in the order the kinds were registered."""
    rank = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(consequences, key=lambda c: rank[c.kind])


@register
@dataclass(frozen=True)
class Ask(Consequence):
    """The route goes on with this question."""

    kind: ClassVar[str] = "ask"
    routes: ClassVar[bool] = True
    question: str

    @classmethod
    def from_data(cls, value: Any) -> Self:
        return cls(value)

    def check(self, where: tuple[Any, ...], refs: References) -> None:
        refs.check(where, self.question, "vraag")

    def describe(self) -> str:
        return f"volgende vraag: {self.question}"

    def on_fire(self, route: RouteState, depth: int) -> None:
        if self.question not in route.asked:
            route.asked.append(self.question)
            route.new_questions.append(self.question)

    def targets(self) -> tuple[str, ...]:
        return (question_node(self.question),)


@register
@dataclass(frozen=True)
class KeepOpen(Consequence):
    """This question stays open (is asked again) although it has an answer."""

    kind: ClassVar[str] = "keep_open"
    routes: ClassVar[bool] = True
    question: str

    @classmethod
    def from_data(cls, value: Any) -> Self:
        return cls(value)

    def check(self, where: tuple[Any, ...], refs: References) -> None:
        refs.check(where, self.question, "vraag")

    def describe(self) -> str:
        return "vraag blijft open"

    def on_fire(self, route: RouteState, depth: int) -> None:
        if self.question not in route.kept_open:
            route.kept_open.append(self.question)

    def drawn_edges(self, label: str) -> tuple[tuple[str, str], ...]:
        return ((question_node(self.question), f"{label}: {self.describe()}"),)


@register
@dataclass(frozen=True)
class SetOutcome(Consequence):
    """The route reaches this outcome."""

    kind: ClassVar[str] = "outcome"
    routes: ClassVar[bool] = True
    outcome: str

    @classmethod
    def from_data(cls, value: Any) -> Self:
        return cls(value)

    def check(self, where: tuple[Any, ...], refs: References) -> None:
        refs.check(where, self.outcome, "uitkomst")

    def describe(self) -> str:
        return f"uitkomst: {self.outcome}"

    def on_fire(self, route: RouteState, depth: int) -> None:
        decided = route.outcomes_at.setdefault(depth, [])
        if self.outcome not in decided:
            decided.append(self.outcome)

    def targets(self) -> tuple[str, ...]:
        return (outcome_node(self.outcome),)


@register
@dataclass(frozen=True)
class AddAction(Consequence):
    """An action for now, besides those of the outcome."""

    kind: ClassVar[str] = "action"
    action: Action

    @classmethod
    def from_data(cls, value: Any) -> Self:
        return cls(Action.from_data(value))

    def check(self, where: tuple[Any, ...], refs: References) -> None:
        self.action.check(where, refs)

    def describe(self) -> str:
        return f"actie: {self.action.text}"

    def on_current(self, effects: Effects) -> None:
        effects.actions.append(self.action)


@register
@dataclass(frozen=True)
class AddDeadline(Consequence):
    """A deadline in working days from today."""

    kind: ClassVar[str] = "deadline"
    deadline: DeadlineSpec

    @classmethod
    def from_data(cls, value: Any) -> Self:
        return cls(DeadlineSpec.from_data(value))

    def check(self, where: tuple[Any, ...], refs: References) -> None:
        self.deadline.check(where, refs)

    def describe(self) -> str:
        return f"termijn: {self.deadline.describe()}"

    def on_current(self, effects: Effects) -> None:
        effects.deadlines.append(self.deadline)


@register
@dataclass(frozen=True)
class AssignResponsible(Consequence):
    """These roles act now (instead of the question's, outcome's or step's)."""

    kind: ClassVar[str] = "responsible"
    roles: tuple[str, ...]

    @classmethod
    def from_data(cls, value: Any) -> Self:
        return cls(tuple(value))

    def check(self, where: tuple[Any, ...], refs: References) -> None:
        for i, role in enumerate(self.roles):
            refs.check((*where, i), role, "rol")

    def describe(self) -> str:
        return "verantwoordelijk: " + ", ".join(self.roles)

    def on_current(self, effects: Effects) -> None:
        effects.roles = self.roles


OUTCOME_DONE = "outcome"  # ``done: outcome``: the current outcome's actions and deadlines
ALL_DONE = "all"  # ``done: all``: every action and deadline the route gives now


@register
@dataclass(frozen=True)
class SetStage(Consequence):
    """The dossier is in this stage of its life (``stage: id`` or ``stage: {id, step}``);
    ``step`` names the step of the six that is at work now (default: the route's)."""

    kind: ClassVar[str] = "stage"
    stage: str
    step: str | None = None

    @classmethod
    def from_data(cls, value: Any) -> Self:
        if isinstance(value, str):
            return cls(value)
        return cls(value["id"], value.get("step"))

    def check(self, where: tuple[Any, ...], refs: References) -> None:
        refs.check(where, self.stage, "fase")
        if self.step is not None:
            refs.check(where, self.step, "stap")

    def describe(self) -> str:
        return f"fase: {self.stage}" + (f" (stap {self.step})" if self.step else "")

    def on_current(self, effects: Effects) -> None:
        effects.stages.append((self.stage, self.step))


@register
@dataclass(frozen=True)
class MarkDone(Consequence):
    """A task is done: ``done: all`` (every action and deadline the route gives now),
    ``done: outcome`` (those of the current outcome) or ``done: <action id>``; it is no
    longer shown as to do."""

    kind: ClassVar[str] = "done"
    action: str

    @classmethod
    def from_data(cls, value: Any) -> Self:
        return cls(value)

    def check(self, where: tuple[Any, ...], refs: References) -> None:
        if self.action not in (OUTCOME_DONE, ALL_DONE):
            refs.check(where, self.action, "actie")

    def describe(self) -> str:
        words = {OUTCOME_DONE: "de acties van de uitkomst", ALL_DONE: "alle acties van de route"}
        return "gedaan: " + words.get(self.action, self.action)

    def on_current(self, effects: Effects) -> None:
        effects.done.append(self.action)
