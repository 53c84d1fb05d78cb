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

A route about a person (``subject:`` in the protocol, the staff route): only its
coordinating roles (the bevoegd gezag, and who acts for it through the school's remapping
of that protocol) and the dossier's opener see it; the person it is about never does,
whatever roles they hold (see ``staff_route_*`` below).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import ColumnElement, and_, inspect, or_, select
from sqlalchemy.orm import object_session

from meldroute.engine import Protocol, SchoolConfig, Step

from .models import Dossier, DossierAssignment, User


def coordinating_roles(protocol: Protocol, school: SchoolConfig) -> frozenset[str]:
    """The roles that open every dossier of the school (the dossier-opening roles)."""
    roles = {r.id for r in protocol.roles.values() if r.access == "all"}
    roles |= {m.to for m in school.remaps_of(protocol.id) if m.role in roles and not m.steps}
    return frozenset(roles)


def opening_roles(protocols: Iterable[Protocol], school: SchoolConfig) -> frozenset[str]:
    """The roles that open every dossier of at least one route the school follows (on
    the staff route: the bevoegd gezag): what separation of duties guards."""
    return frozenset().union(*(coordinating_roles(p, school) for p in protocols))


def confirming_roles(protocols: Iterable[Protocol], school: SchoolConfig) -> frozenset[str]:
    """The roles whose holders confirm, besides the school's admins, a grant that waits
    for a second person (``confirms_grants: true`` in a route the school follows, and the
    roles a school lets play one for a whole route, as with ``access: all``)."""
    roles: set[str] = set()
    for protocol in protocols:
        own = {r.id for r in protocol.roles.values() if r.confirms_grants}
        roles |= own | {m.to for m in school.remaps_of(protocol.id)
                        if m.role in own and not m.steps}
    return frozenset(roles)


def guarded_roles(protocols: Iterable[Protocol], school: SchoolConfig) -> frozenset[str]:
    """The roles that open every dossier of a route the school follows, and the roles
    that confirm grants of them: what a second person confirms before someone gets one
    (and before such an account's password is reset)."""
    return opening_roles(protocols, school) | confirming_roles(protocols, school)


def is_coordinator(user: User, school_id: str, protocol: Protocol, school: SchoolConfig
                   ) -> bool:
    return bool(set(user.roles_at(school_id)) & coordinating_roles(protocol, school))


def can_see(user: User, school_id: str, dossier: Dossier, protocol: Protocol,
            school: SchoolConfig) -> bool:
    if dossier.school_id != school_id or school_id not in user.schools:
        return False
    if is_subject(user, dossier):
        return False
    if dossier.created_by_id == user.id:
        return True
    return is_coordinator(user, school_id, protocol, school) or is_assigned(user, dossier)


def step_actors(step: Step, school: SchoolConfig, protocol: str | None = None
                ) -> frozenset[str]:
    """The school's roles that act in ``step`` of ``protocol`` (default: the school's main
    one; optional actors included)."""
    return frozenset(school.assigned_role(a.role, step.id, protocol) for a in step.actors)


def may_act(user: User, school_id: str, step: Step, protocol: Protocol,
            school: SchoolConfig, dossier: Dossier | None = None) -> bool:
    """May ``user`` save ``step`` (of a dossier they may see) at this school? A step whose
    actor is the opener (``access: opener``) is theirs in the dossier they opened."""
    if school_id not in user.schools:
        return False
    if dossier is not None and opener_acts(user, step, protocol, dossier):
        return True
    held = set(user.roles_at(school_id))
    return bool(held & step_actors(step, school, protocol.id)) or bool(
        held & coordinating_roles(protocol, school))


def opener_acts(user: User, step: Step, protocol: Protocol, dossier: Dossier) -> bool:
    """``user`` opened ``dossier`` and ``step``'s actor is whoever opened it."""
    return dossier.created_by_id == user.id and not is_subject(user, dossier) and any(
        protocol.roles[a.role].access == "opener" for a in step.actors
        if a.role in protocol.roles)


# --- the staff route: a dossier about a person -------------------------------------------


def staff_route(protocol: Protocol) -> bool:
    """Is this a route about a person (a staff member), with its stricter access?"""
    return protocol.subject is not None


def is_subject(user: User, dossier: Dossier) -> bool:
    """Is ``user`` the person ``dossier`` is about? They never see it, nor act in it."""
    return dossier.subject_user_id is not None and dossier.subject_user_id == user.id


def may_assign(user: User, school_id: str, dossier: Dossier, protocol: Protocol,
               school: SchoolConfig) -> bool:
    """May ``user`` name people on ``dossier``? A coordinating role of the dossier's own
    route (on the staff route: the bevoegd gezag), and never the person it is about."""
    return not is_subject(user, dossier) and dossier.school_id == school_id and \
        is_coordinator(user, school_id, protocol, school)


def visible_dossiers(user: User, school_id: str, protocols: Mapping[str, Protocol],
                     school: SchoolConfig) -> ColumnElement[bool]:
    """SQL for the dossiers of ``school`` that ``user`` may see (as ``can_see``): the ones
    they opened, those they are named on, and every dossier of each route in which they
    hold a coordinating role; never one about themselves. A dossier without a route id
    follows the main route."""
    seen: list[ColumnElement[bool]] = [Dossier.created_by_id == user.id,
                                       assigned_dossiers(user)]
    for protocol_id in school.follows:
        protocol = protocols.get(protocol_id)
        if protocol is None or not is_coordinator(user, school_id, protocol, school):
            continue
        seen.append(Dossier.protocol_id == protocol_id)
        if protocol_id == school.protocol:
            seen.append(Dossier.protocol_id.is_(None))
    return and_(or_(*seen), or_(Dossier.subject_user_id.is_(None),
                                Dossier.subject_user_id != user.id))


# --- named people (issue 14) -----------------------------------------------------------------

def is_assigned(user: User, dossier: Dossier) -> bool:
    """Is ``user`` named on ``dossier`` by a coordinating role (and not removed since)? An
    assigned member of staff has need-to-know: they see the dossier and its tasks."""
    if "assignments" in inspect(dossier).dict:  # read with the dossier (its page)
        return any(a.user_id == user.id for a in dossier.assignments)
    db = object_session(dossier)
    if db is None or dossier.id is None:
        return False
    return db.scalar(select(DossierAssignment.id).where(
        DossierAssignment.dossier_id == dossier.id, DossierAssignment.user_id == user.id,
        DossierAssignment.removed_at.is_(None)).limit(1)) is not None


def assigned_dossiers(user: User) -> ColumnElement[bool]:
    """SQL for the dossiers ``user`` is named on (and not removed since)."""
    return Dossier.id.in_(select(DossierAssignment.dossier_id).where(
        DossierAssignment.user_id == user.id, DossierAssignment.removed_at.is_(None)))
