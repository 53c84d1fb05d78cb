"""Demo mode: the demo school's users, one per role (fictitious, demo-only, no password)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from meldroute.engine import resolve_role

from .models import Membership, User
from .registry import Registry


def ensure_demo_users(db: Session, registry: Registry) -> list[User]:
    users = []
    for school in registry.schools.values():
        protocol = registry.protocol_for(school)
        for role in dict.fromkeys([*protocol.roles, *school.roles, "schooladmin"]):
            username = f"{school.id}-{role}"
            user = db.scalar(select(User).where(User.username == username))
            if user is None:
                name = "schoolbeheerder" if role == "schooladmin" else resolve_role(
                    protocol, school, role, None).name
                user = User(username=username, display_name=f"Demo {name}", demo=True)
                user.memberships.append(Membership(school_id=school.id, role=role))
                db.add(user)
            users.append(user)
    db.commit()
    return users
