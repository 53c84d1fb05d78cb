"""Need to know: which dossiers a user may see, and who may act in a step. Deny by default.

A user sees a dossier of a school they belong to when they started it, or when one of
their roles there is a coordinating one (``access: all`` in the protocol: the IB-er and
the director), or takes such a role's part in *every* step through the school's
remapping (e.g. an aandachtsfunctionaris who is the IB-er throughout). A remapping limited
to some steps gives the mapped role's part in those steps only, never access to every
dossier: such a person reaches a dossier as its opener. Never another school's dossier;
never another teacher's.

Who may save a step: its actors as the rules name them (optional ones included), each
after the school's remapping for that step, or a coordinating role.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import object_session

from meldroute.engine import Protocol, SchoolConfig, Step

from .models import Dossier, DossierAssignment, User


def coordinating_roles(protocol: Protocol, school: SchoolConfig) -> frozenset[str]:
    """The roles that open every dossier of the school (the dossier-opening roles)."""
    roles = {r.id for r in protocol.roles.values() if r.access == "all"}
    roles |= {m.to for m in school.remap if m.role in roles and not m.steps}
    return frozenset(roles)


def is_coordinator(user: User, school_id: str, protocol: Protocol, school: SchoolConfig
                   ) -> bool:
    return bool(set(user.roles_at(school_id)) & coordinating_roles(protocol, school))


def can_see(user: User, school_id: str, dossier: Dossier, protocol: Protocol,
            school: SchoolConfig) -> bool:
    if dossier.school_id != school_id or school_id not in user.schools:
        return False
    if dossier.created_by_id == user.id:
        return True
    return is_coordinator(user, school_id, protocol, school) or is_assigned(user, dossier)


def step_actors(step: Step, school: SchoolConfig) -> frozenset[str]:
    """The school's roles that act in ``step`` (optional actors included)."""
    return frozenset(school.assigned_role(a.role, step.id) for a in step.actors)


def may_act(user: User, school_id: str, step: Step, protocol: Protocol,
            school: SchoolConfig) -> bool:
    """May ``user`` save ``step`` (of a dossier they may see) at this school?"""
    if school_id not in user.schools:
        return False
    held = set(user.roles_at(school_id))
    return bool(held & step_actors(step, school)) or bool(
        held & coordinating_roles(protocol, school))


# --- named people (issue 14) -----------------------------------------------------------------

def is_assigned(user: User, dossier: Dossier) -> bool:
    """Is ``user`` named on ``dossier`` by a coordinating role (and not removed since)? An
    assigned member of staff has need-to-know: they see the dossier and its tasks."""
    db = object_session(dossier)
    if db is None or dossier.id is None:
        return False
    return db.scalar(select(DossierAssignment.id).where(
        DossierAssignment.dossier_id == dossier.id, DossierAssignment.user_id == user.id,
        DossierAssignment.removed_at.is_(None)).limit(1)) is not None
