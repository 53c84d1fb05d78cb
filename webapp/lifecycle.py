"""The web app's one door to the engine's lifecycle: the facts a dossier passes to the
rules, the stage and the acute-danger guidance the rules return.

The web app never computes a stage, a task or a deadline itself: it hands the engine
what was recorded (field values, which steps were recorded, the dossier's flags) and
renders what comes back. Labels of the stages are words for the screen only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from meldroute import engine
from meldroute.engine import Evaluation, Protocol, SchoolConfig, evaluate

# the stable stage ids of the lifecycle (DESIGN.md), in Dutch for the screen
STAGE_LABELS = {
    "signaleren": "Signaleren",
    "afwegen": "Afwegen",
    "melden": "Melden bij Veilig Thuis",
    "wacht_op_veilig_thuis": "Wacht op Veilig Thuis",
    "hulp_loopt": "Hulp loopt",
    "nazorg": "Nazorg",
    "afgesloten": "Afgesloten",
}
DEADLINE_KINDS = {"school": "termijn van de school", "veilig_thuis": "termijn van Veilig Thuis"}


def flags(acute: bool, closed: bool) -> dict[str, bool]:
    """The dossier's own facts: flagged as acute danger, closed."""
    return {"acute": acute, "closed": closed}


def facts(protocol: Protocol, values: Mapping[str, Any], recorded_steps: frozenset[str],
          dossier_flags: Mapping[str, bool]) -> Mapping[str, Any] | None:
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


def acute_guidance(protocol: Protocol, school: SchoolConfig, today: dt.date) -> Any:
    """The protocol's acute-danger guidance for this school ({text, phones}), for pages
    without a dossier: asked through an evaluation without answers."""
    return getattr(evaluate(protocol, school, {}, today), "acute", None)


def stage_label(stage_id: str | None) -> str:
    return STAGE_LABELS.get(stage_id or "", stage_id or "")


def deadline_kind(kind: str | None) -> str:
    return DEADLINE_KINDS.get(kind or "", "")
