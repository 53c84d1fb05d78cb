"""Who holds which role at a school.

The staffing rule: a role remapping must not leave a step without anyone to do it (when
the school has accounts at all). And the grants that wait for a second person: a
dossier-opening role (or the reset of an account that holds one) takes effect only once
another school admin, or someone holding a role the school's routes mark
``confirms_grants`` (the directeur in the Meldcode), confirms it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meldroute.engine import Problem, Protocol

from .models import Membership, RoleGrant, User


def role_holders(db: Session, school_id: str, leave_out: Set[int] = frozenset()) -> set[str]:
    """The roles someone at the school holds (leaving out the given users)."""
    return {m.role for m in db.scalars(select(Membership).where(
        Membership.school_id == school_id)) if m.user_id not in leave_out}


def unstaffed_steps(protocols: Mapping[str, Protocol], main: str, school_id: str,
                    merged: Mapping[str, Any], holders: Set[str]) -> list[Problem]:
    """A problem per remapping (of the merged configuration) to a role nobody holds,
    naming the steps of the route it remaps (``protocol:``, else the main one)."""
    problems = []
    for i, rule in enumerate(merged.get("remap", [])):
        protocol = protocols.get(rule.get("protocol") or main)
        if rule["to"] not in holders and protocol is not None:
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


# --- role grants that wait for a second person ------------------------------------------------


def role_change_detail(user_id: int, before: Iterable[str], after: Iterable[str]) -> str:
    """The audit detail of a role change: whom, roles before -> after (ids only)."""
    return (f"user {user_id}: {','.join(sorted(before)) or '-'} -> "
            f"{','.join(sorted(after)) or '-'}")[:200]


def pending_grants(db: Session, school_id: str) -> list[RoleGrant]:
    return list(db.scalars(select(RoleGrant).where(
        RoleGrant.school_id == school_id, RoleGrant.status == "pending")
        .order_by(RoleGrant.id)))


def request_grant(db: Session, user_id: int, school_id: str, roles: Iterable[str],
                  granted_by_id: int | None, kind: str = "roles") -> RoleGrant:
    """A grant (or a reset) that takes effect once a second person confirms it; the same
    request made again while it waits is the waiting grant, not a second one."""
    wanted = " ".join(sorted(roles))
    waiting = db.scalars(select(RoleGrant).where(
        RoleGrant.user_id == user_id, RoleGrant.school_id == school_id,
        RoleGrant.kind == kind, RoleGrant.roles == wanted,
        RoleGrant.status == "pending")).first()
    if waiting is not None:
        return waiting
    grant = RoleGrant(kind=kind, user_id=user_id, school_id=school_id,
                      roles=wanted, granted_by_id=granted_by_id,
                      status="pending")
    db.add(grant)
    db.flush()
    return grant


def may_confirm(user: User, grant: RoleGrant, administers: bool, confirming: Set[str]
                ) -> bool:
    """A school admin (``administers``: of the school or its board) or a holder of one of
    the ``confirming`` roles at the grant's school (``access.confirming_roles``), who
    neither asked for it nor receives it."""
    if user.id in (grant.granted_by_id, grant.user_id) or grant.status != "pending":
        return False
    return administers or bool(confirming & set(user.roles_at(grant.school_id)))


def who_confirms(role_names: Iterable[str], admin: str) -> str:
    """Who confirms, in words: ``admin`` ("een andere beheerder") or the holders of the
    confirming roles, by the school's names for them."""
    names = sorted(set(role_names))
    if not names:
        return admin
    roles = " of ".join(f"'{name}'" for name in names)
    return f"{admin} of iemand met de rol {roles}"


def apply_grant(db: Session, grant: RoleGrant) -> tuple[list[str], list[str]]:
    """Give the grant's roles (those not held yet); the roles before and after."""
    user = grant.user
    before = user.roles_at(grant.school_id)
    for role in grant.role_list:
        if role not in before:
            user.memberships.append(Membership(user_id=user.id, school_id=grant.school_id,
                                               role=role))
    db.flush()
    return before, user.roles_at(grant.school_id)
