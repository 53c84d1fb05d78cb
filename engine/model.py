"""The protocol and a school's configuration as immutable objects.

Everything here is built from files that have passed their JSON Schema; the semantic
checks (references, duplicates, phone numbers) are in ``loader.py``. A rule's
consequences (``then:``) are in ``consequences.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .consequences import Action, Consequence, DeadlineSpec
from .source import Document

# --- protocol -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    access: str = "own"  # "all": a coordinating role, sees every dossier of its school
    # its holders confirm a role grant that waits for a second person (besides admins)
    confirms_grants: bool = False


@dataclass(frozen=True)
class ContactKey:
    key: str
    name: str
    required: bool = False
    fallback_name: str | None = None
    fallback_phone: str | None = None


@dataclass(frozen=True)
class Actor:
    role: str
    optional: bool = False


@dataclass(frozen=True)
class FieldDef:
    id: str
    type: str
    label: str
    help: str | None = None
    required: bool = False
    max_length: int | None = None
    not_future: bool = False
    not_past: bool = False
    # required once one of these other fields of the step has a value
    required_with: tuple[str, ...] = ()
    conditional: bool = False
    multiple: bool = True
    question: str | None = None
    fields: tuple[FieldDef, ...] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any], questions: Mapping[str, Any]) -> FieldDef:
        label = data.get("label")
        if label is None and data.get("question") in questions:
            label = questions[data["question"]]["label"]
        return cls(
            id=data["id"],
            type=data["type"],
            label=label or data["id"],
            help=data.get("help"),
            required=bool(data.get("required", False)),
            max_length=data.get("max_length"),
            not_future=bool(data.get("not_future", False)),
            not_past=bool(data.get("not_past", False)),
            required_with=_ids(data.get("required_with")),
            conditional=bool(data.get("conditional", False)),
            multiple=bool(data.get("multiple", True)),
            question=data.get("question"),
            fields=tuple(cls.from_data(f, questions) for f in data.get("fields", ())),
        )


def _ids(value: Any) -> tuple[str, ...]:
    """One id or a list of ids, as a tuple."""
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


@dataclass(frozen=True)
class AtLeastOne:
    """A step is saved only with at least one of these fields filled in (``at_least_one``):
    e.g. the conversation, or the reason why it did not take place."""

    fields: tuple[str, ...]
    message: str | None = None


@dataclass(frozen=True)
class Step:
    id: str
    number: int
    title: str
    actors: tuple[Actor, ...]
    guidance: tuple[str, ...]
    fields: tuple[FieldDef, ...]
    contacts: tuple[str, ...] = ()
    subtitle: str | None = None
    at_least_one: tuple[AtLeastOne, ...] = ()
    # where the step's record goes in Veilig Thuis's melding form (the summary page)
    report_section: str | None = None

    @property
    def required_roles(self) -> tuple[str, ...]:
        return tuple(a.role for a in self.actors if not a.optional)


@dataclass(frozen=True)
class Question:
    id: str
    step: str
    label: str
    text: str
    answers: tuple[str, ...]
    responsible: tuple[str, ...] = ()
    ref: str | None = None  # how an explanation names it, e.g. "vraag 2"


@dataclass(frozen=True)
class Outcome:
    id: str
    step: str
    text: str
    actions: tuple[Action, ...] = ()
    deadlines: tuple[DeadlineSpec, ...] = ()
    responsible: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class FactSource:
    """Where a dossier records a fact: a field with a value, a recorded step, a flag, or
    (``passed``) a date fact plus ``working_days`` that lies before today.

    A field or step source gives ``value`` when the field has a value (the step is
    recorded) and ``otherwise`` when not (None: no value, the next source is asked);
    a flag source gives the flag's value; a ``passed`` source gives ``ja`` or ``nee``."""

    kind: str  # "field" | "step" | "flag" | "passed"
    name: str
    value: str = "ja"
    otherwise: str | None = None
    working_days: int = 0

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> FactSource:
        kind = next(k for k in SOURCE_KINDS if k in data)
        return cls(kind, data[kind], data.get("value", "ja"), data.get("otherwise"),
                   int(data.get("working_days", 0)))


SOURCE_KINDS = ("field", "step", "flag", "passed")

# Facts the engine itself provides to the stage rules: the route's last outcome and its
# open question (NONE when there is none).
BUILTIN_FACTS = ("outcome", "question")
NONE = "geen"

Condition = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class FactDef:
    """A routing fact beside the answers: few discrete values, a default, where a dossier
    records it (``sources``, first that gives a value wins) and when it is in play
    (``when``: any of these conditions; empty: always). A fact not in play has its
    default."""

    id: str
    label: str
    values: tuple[str, ...]
    default: str
    sources: tuple[FactSource, ...] = ()
    when: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class DateDef:
    """A date a dossier records (only for deadlines and ``passed`` facts)."""

    id: str
    label: str
    field: str | None = None


@dataclass(frozen=True)
class StageDef:
    id: str
    label: str
    may_close: bool = False  # a coordinating role may close the dossier in this stage


@dataclass(frozen=True)
class Phone:
    """A number in the acute guidance: a fixed one, or a contact of the school by key."""

    name: str | None = None
    phone: str | None = None
    contact: str | None = None


@dataclass(frozen=True)
class AcuteGuidance:
    text: str
    phones: tuple[Phone, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    when: Mapping[str, tuple[str, ...]]
    then: tuple[Consequence, ...]
    reason: str | None = None  # why, as the end of "..., omdat <reason>" (uses je)
    on_facts: bool = False  # a stage rule: its ``when`` is over facts, not answers

    @property
    def is_start(self) -> bool:
        return not self.when and not self.on_facts


@dataclass(frozen=True, eq=False)
class Protocol:
    id: str
    version: str
    title: str
    roles: Mapping[str, Role]
    contacts: Mapping[str, ContactKey]
    answer_labels: Mapping[str, str]
    steps: tuple[Step, ...]
    questions: Mapping[str, Question]
    outcomes: Mapping[str, Outcome]
    rules: tuple[Rule, ...]
    digest: str
    source: Document = field(repr=False)
    facts: Mapping[str, FactDef] = field(default_factory=dict)
    dates: Mapping[str, DateDef] = field(default_factory=dict)
    stages: Mapping[str, StageDef] = field(default_factory=dict)
    acute: AcuteGuidance | None = None
    stage_rules: tuple[Rule, ...] = ()  # ``when`` over facts: the dossier's stage and tasks
    # how "Waar gaat je zorg over?" names this route when a school follows several
    choice: str | None = None
    # a route about a person (a staff member): the question naming them when a dossier is
    # opened. Such a dossier is seen only by its opener and the ``access: all`` roles,
    # never by the person it is about.
    subject: str | None = None
    # how a dossier's page names the route's outcome (the weighing's, unless the route says)
    outcome_label: str = "Uitkomst van de afweging"

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    @property
    def steps_by_id(self) -> Mapping[str, Step]:
        return {s.id: s for s in self.steps}

    @property
    def reports_to_veilig_thuis(self) -> bool:
        """The route's steps feed the sections of Veilig Thuis's melding form (a step's
        ``report_section``): the route knows a melding there, and a dossier on it has the
        summary for that melding. (The staff route reports elsewhere: to the
        vertrouwensinspecteur and, with an aangifte, the police.)"""
        return any(s.report_section for s in self.steps)

    def asked_when(self, question: str) -> tuple[Condition, ...]:
        """The conditions (answers to other questions) under which the rules ask
        ``question``: any one of them; an empty condition is always."""
        return tuple(r.when for r in self.rules
                     if any(getattr(t, "kind", "") == "ask" and
                            getattr(t, "question", None) == question for t in r.then))

    def where(self, section: str, item_id: str) -> tuple[str, int]:
        """The path (section, index) of an element with this id, for locating problems."""
        key = "key" if section == "contacts" else "id"
        for i, item in enumerate(self.source.data.get(section, ())):
            if isinstance(item, dict) and item.get(key) == item_id:
                return section, i
        return section, 0


# --- school ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolContact:
    name: str
    phone: str | None = None
    email: str | None = None
    when: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class Remap:
    role: str
    to: str
    steps: tuple[str, ...] = ()  # empty: every step
    protocol: str | None = None  # the protocol whose role it is (None: every protocol)


@dataclass(frozen=True, eq=False)
class SchoolConfig:
    id: str
    name: str
    protocol: str
    contacts: Mapping[str, SchoolContact]
    roles: Mapping[str, str]  # role id -> the school's name for it
    remap: tuple[Remap, ...]
    source: Document | None = field(default=None, repr=False)
    digest: str = ""
    retention_years: int = 2
    board: str | None = None  # of the configuration's content: a cache key for forms
    report_within_working_days: int = 1  # melden_binnen_werkdagen: after the weighing
    protocols: tuple[str, ...] = ()  # every protocol it follows; the first is ``protocol``

    @property
    def follows(self) -> tuple[str, ...]:
        """The ids of the protocols (routes) this school follows, its main one first."""
        return self.protocols or (self.protocol,)

    def remaps_of(self, protocol: str | None = None) -> tuple[Remap, ...]:
        """The remappings of one protocol's roles (default: the school's main protocol)."""
        wanted = protocol or self.protocol
        return tuple(r for r in self.remap if r.protocol in (None, wanted))

    def assigned_role(self, role: str, step: str | None, protocol: str | None = None) -> str:
        """The school's role that plays ``role`` of ``protocol`` (default: the main one) in
        ``step`` (itself unless remapped)."""
        for r in self.remaps_of(protocol):
            if r.role == role and (not r.steps or step in r.steps):
                return r.to
        return role


@dataclass(frozen=True)
class ResolvedContact:
    key: str
    name: str
    phone: str | None
    email: str | None = None
    when: str | None = None
    fallback: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "phone": self.phone, "email": self.email,
                "when": self.when, "fallback": self.fallback}


@dataclass(frozen=True)
class ResolvedRole:
    role: str  # the protocol's role
    assigned: str  # the school's role that plays it here
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "assigned": self.assigned, "name": self.name}


def resolve_contact(protocol: Protocol, school: SchoolConfig, key: str) -> ResolvedContact:
    """This school's contact for ``key``; Veilig Thuis falls back to the national number."""
    spec = protocol.contacts.get(key)
    own = school.contacts.get(key)
    if own is not None and own.phone:
        return ResolvedContact(key, own.name, own.phone, own.email, own.when)
    if spec is not None and spec.fallback_phone:
        return ResolvedContact(key, spec.fallback_name or spec.name, spec.fallback_phone,
                               fallback=True)
    if own is not None:
        return ResolvedContact(key, own.name, None, own.email, own.when)
    return ResolvedContact(key, spec.name if spec else key, None)


def resolve_role(protocol: Protocol, school: SchoolConfig, role: str, step: str | None
                 ) -> ResolvedRole:
    assigned = school.assigned_role(role, step, protocol.id)
    name = school.roles.get(assigned)
    if name is None:
        spec = protocol.roles.get(assigned)
        name = spec.name if spec else assigned
    return ResolvedRole(role, assigned, name)
