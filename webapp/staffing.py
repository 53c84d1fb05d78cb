"""The staffing rule: a role remapping must not leave a step without anyone to do it
(when the school has accounts at all)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meldroute.engine import Problem, Protocol

from .models import Membership


def role_holders(db: Session, school_id: str, leave_out: Set[int] = frozenset()) -> set[str]:
    """The roles someone at the school holds (leaving out the given users)."""
    return {m.role for m in db.scalars(select(Membership).where(
        Membership.school_id == school_id)) if m.user_id not in leave_out}


def unstaffed_steps(protocol: Protocol, school_id: str, merged: Mapping[str, Any],
                    holders: Set[str]) -> list[Problem]:
    """A problem per remapping (of the merged configuration) to a role nobody holds."""
    problems = []
    for i, rule in enumerate(merged.get("remap", [])):
        if rule["to"] not in holders:
            steps = rule.get("steps") or [s.id for s in protocol.steps]
            titles = ", ".join(f"{protocol.step(s).number} ({protocol.step(s).title})"
                               for s in steps if s in protocol.steps_by_id)
            problems.append(Problem(
                f"{school_id}.yaml", 1, 1,
                f"Niemand op school heeft de rol '{rule['to']}': stap {titles} zou dan "
                "zonder verantwoordelijke zijn.", "references", where=("remap", i, "to")))
    return problems


def unheld_remap_targets(remap: Iterable[Mapping[str, Any]], holders: Set[str]) -> list[str]:
    """A message per remapping whose role nobody would hold after a change of people."""
    return [f"Niemand zou dan de rol '{rule['to']}' hebben, die in de route "
            f"de rol '{rule['role']}' overneemt." for rule in remap if rule["to"] not in holders]
