"""The web app's one door to the engine's lifecycle: the facts a dossier passes to the
rules, and the choices among the protocol's flags that the rules have in play.

The web app never computes a stage, a task or a deadline itself: it hands the engine
what was recorded (field values, which steps were recorded, the dossier's flags) and
renders what comes back (``Evaluation.stage``, ``responsible``, ``actions``,
``deadlines``, ``acute``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from meldroute.engine import (
    AcuteGuidance,
    Evaluation,
    FactValue,
    Protocol,
    SchoolConfig,
    acute_guidance,
    dossier_facts,
)

DEADLINE_KINDS = {"school": "termijn van de school", "veilig_thuis": "termijn van Veilig Thuis"}
# what the dossier records besides its steps, as the protocol's ``flag:`` facts name it
ACUTE_FLAG, CLOSED_FLAG = "acuut", "gesloten"
OWN_BUTTONS = (ACUTE_FLAG, CLOSED_FLAG)  # flags with a button of their own


def flags(acute: bool, closed: bool, recorded: Mapping[str, str]) -> dict[str, str]:
    """What the dossier records besides its steps: flagged as acute danger, closed, and
    the protocol's other flags as recorded (e.g. Veilig Thuis's response)."""
    return {**recorded, ACUTE_FLAG: "ja" if acute else "nee",
            CLOSED_FLAG: "ja" if closed else "nee"}


def facts(protocol: Protocol, values: Mapping[str, object], recorded_steps: frozenset[str],
          dossier_flags: Mapping[str, str]) -> dict[str, FactValue]:
    """What the rules route on, made by the engine from what the dossier recorded."""
    return dossier_facts(protocol, values, recorded_steps, dossier_flags)


@dataclass(frozen=True)
class FlagChoice:
    """A fact the protocol lets a dossier record as a flag, in play now: a choice."""

    name: str  # the flag's name (what is stored)
    label: str
    values: tuple[tuple[str, str], ...]  # (value, words)
    current: str | None


def flag_choices(protocol: Protocol, evaluation: Evaluation, recorded: Mapping[str, str]
                 ) -> list[FlagChoice]:
    """The protocol's flag facts that the rules have in play now (acute and closed have
    their own buttons), with the value recorded so far."""
    found = []
    for fact in protocol.facts.values():
        names = [s.name for s in fact.sources if s.kind == "flag" and s.name not in OWN_BUTTONS]
        if fact.id not in evaluation.facts_in_play or not names:
            continue
        values = tuple((v, v.replace("_", " ").capitalize())
                       for v in fact.values if v != fact.default)
        found.append(FlagChoice(names[0], fact.label, values, recorded.get(names[0])))
    return found


def stage_label(protocol: Protocol, stage_id: str | None) -> str:
    """The protocol's words for a stage (the id when the protocol has none)."""
    found = protocol.stages.get(stage_id or "")
    return found.label if found is not None else (stage_id or "")


def acute(protocol: Protocol, school: SchoolConfig) -> AcuteGuidance | None:
    """The protocol's acute-danger guidance with this school's numbers ({text, phones})."""
    return acute_guidance(protocol, school)


def deadline_kind(kind: str | None) -> str:
    return DEADLINE_KINDS.get(kind or "", "")


@dataclass(frozen=True)
class QuestionView:
    """How the dossier page shows one question of the step's form (the weighing on one
    page): when the rules ask it, whether the route uses its answer, and why not."""

    question: str
    field: str
    asked_when: tuple[dict[str, list[str]], ...]  # any of these (answers); empty: always
    status: str  # "route": the route uses it or asks it now; "ignored"; "maybe"; "never"
    note: str  # plain Dutch, empty for "route"


def question_views(protocol: Protocol, fields: list[tuple[str, str]],
                   evaluation: Evaluation) -> dict[str, QuestionView]:
    """Per answer field (field id, question id) of a form: when the rules ask it, from the
    rules (``Protocol.asked_when``), and what the route does with it now."""
    on_page = {q for _, q in fields}
    used = dict(evaluation.used)
    elsewhere = {q: a for q, a in used.items() if q not in on_page}
    open_question = evaluation.next_question.id if evaluation.next_question else None
    ignored = {i.question: i.reason for i in evaluation.ignored}
    views = {}
    for field_id, q in fields:
        conditions = protocol.asked_when(q)
        possible = [c for c in conditions if all(
            k in on_page or elsewhere.get(k) in v for k, v in c.items())]
        if q in used or q == open_question:
            status, note = "route", ""
        elif q in ignored:
            status, note = "ignored", f"Niet gebruikt, omdat {ignored[q]}."
        elif possible:
            status, note = "maybe", "Alleen nodig als " + " of ".join(
                _condition_text(protocol, c) for c in possible) + "."
        else:
            status, note = "never", "Niet aan de orde: de route komt hier niet langs."
        views[field_id] = QuestionView(q, field_id, tuple(
            {k: list(v) for k, v in c.items()} for c in conditions), status, note)
    return views


def _condition_text(protocol: Protocol, condition: Mapping[str, tuple[str, ...]]) -> str:
    parts = []
    for q, answers in condition.items():
        label = protocol.questions[q].label if q in protocol.questions else q
        words = " of ".join(protocol.answer_labels.get(a, a).lower() for a in answers)
        parts.append(f"'{label}' {words} is")
    return " en ".join(parts)
