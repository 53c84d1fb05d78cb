"""The web app's one door to the engine's lifecycle: the facts a dossier passes to the
rules, the stage and the acute-danger guidance the rules return.

The web app never computes a stage, a task or a deadline itself: it hands the engine
what was recorded (field values, which steps were recorded, the dossier's flags) and
renders what comes back. Labels of the stages are words for the screen only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meldroute import engine
from meldroute.engine import Evaluation, Protocol, SchoolConfig, evaluate

DEADLINE_KINDS = {"school": "termijn van de school", "veilig_thuis": "termijn van Veilig Thuis"}
# what the dossier records besides its steps, as the protocol's ``flag:`` facts name it
ACUTE_FLAG, CLOSED_FLAG = "acuut", "gesloten"


def flags(acute: bool, closed: bool, recorded: Mapping[str, str]) -> dict[str, str]:
    """What the dossier records besides its steps: flagged as acute danger, closed, and
    the protocol's other flags as recorded (e.g. Veilig Thuis's response)."""
    return {**recorded, ACUTE_FLAG: "ja" if acute else "nee",
            CLOSED_FLAG: "ja" if closed else "nee"}


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
    in_play = set(getattr(evaluation, "facts_in_play", ()))
    found = []
    for fact in getattr(protocol, "facts", {}).values():
        names = [s.name for s in fact.sources if s.kind == "flag"
                 and s.name not in (ACUTE_FLAG, CLOSED_FLAG)]
        if fact.id not in in_play or not names:
            continue
        words = getattr(fact, "value_labels", None) or {}
        values = tuple((v, str(words.get(v) or v.replace("_", " ").capitalize()))
                       for v in fact.values if v != fact.default)
        found.append(FlagChoice(names[0], fact.label, values, recorded.get(names[0])))
    return found


def facts(protocol: Protocol, values: Mapping[str, Any], recorded_steps: frozenset[str],
          dossier_flags: Mapping[str, str]) -> Mapping[str, Any] | None:
    """What the rules route on, made by the engine from what the dossier recorded."""
    make = getattr(engine, "dossier_facts", None)
    if make is None:  # an engine without a lifecycle: answers only
        return None
    found: Mapping[str, Any] = make(protocol, values, recorded_steps, dossier_flags)
    return found


def evaluate_with(protocol: Protocol, school: SchoolConfig, answers: Mapping[str, str],
                  today: dt.date, dossier_facts: Mapping[str, Any] | None) -> Evaluation:
    if dossier_facts is None:
        return evaluate(protocol, school, answers, today)
    return evaluate(protocol, school, answers, today,  # type: ignore[call-arg,unused-ignore]
                    facts=dossier_facts)


def stage(evaluation: Evaluation) -> str | None:
    found = getattr(evaluation, "stage", None)
    return str(found) if found else None


def stage_label(protocol: Protocol, stage_id: str | None) -> str:
    """The protocol's words for a stage (the id when the protocol has none)."""
    found = getattr(protocol, "stages", {}).get(stage_id or "")
    return str(found.label) if found is not None else (stage_id or "")


def acute_guidance(protocol: Protocol, school: SchoolConfig, today: dt.date) -> Any:
    """The protocol's acute-danger guidance for this school ({text, phones}), for pages
    without a dossier: asked through an evaluation without answers."""
    return getattr(evaluate(protocol, school, {}, today), "acute", None)


def deadline_kind(kind: str | None) -> str:
    return DEADLINE_KINDS.get(kind or "", "")
