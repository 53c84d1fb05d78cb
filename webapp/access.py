"""Need to know: which dossiers a user may see. Deny by default.

A user sees a dossier of a school they belong to when they started it, or when one of
their roles there is a coordinating one (``access: all`` in the protocol: the IB-er and
the director), or takes such a role's part through the school's remapping (e.g. the
aandachtsfunctionaris). Never another school's dossier; never another teacher's.
"""

from __future__ import annotations

from meldroute.engine import Protocol, SchoolConfig

from .models import Dossier, User


def coordinating_roles(protocol: Protocol, school: SchoolConfig) -> frozenset[str]:
    roles = {r.id for r in protocol.roles.values() if r.access == "all"}
    roles |= {m.to for m in school.remap if m.role in roles}
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
    return is_coordinator(user, school_id, protocol, school)
