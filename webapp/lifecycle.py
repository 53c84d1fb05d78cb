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
