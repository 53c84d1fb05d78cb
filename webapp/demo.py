"""Demo mode: the demo school's users, one per role (fictitious, demo-only, no password).

Only the shipped demo school gets one-click users, and ``serve --demo`` refuses (before it
upgrades anything) a database that holds real accounts: demo mode never opens a door to
real data.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import func, inspect, make_url, select
from sqlalchemy.orm import Session

from meldroute.engine import resolve_role

from .db import make_db_engine
from .models import Membership, User
from .registry import Registry
from .settings import SettingError

DEMO_SCHOOL = "regenboog"  # schools/demo.yaml: fictitious


def ensure_demo_users(db: Session, registry: Registry,
                      schools: Iterable[str] = (DEMO_SCHOOL,)) -> list[User]:
    users = []
    for school_id in schools:
        school = registry.school(school_id)
        if school is None:
            continue
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


def real_accounts(url: str) -> int:
    """How many non-demo accounts the database at ``url`` holds (0 for a new one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and \
            parsed.database != ":memory:" and not Path(parsed.database).exists():
        return 0  # a new SQLite database (its folder may not exist yet either)
    engine = make_db_engine(url)
    try:
        if not inspect(engine).has_table(User.__tablename__):
            return 0
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(User.__table__)
                                         .where(User.__table__.c.demo.is_not(True))) or 0)
    finally:
        engine.dispose()


def check_demo_database(url: str) -> None:
    """``serve --demo`` only on a new or demo-only database."""
    found = real_accounts(url)
    if found:
        raise SettingError(f"deze database heeft {found} echte account(s): de demo-modus start "
                           "alleen met een nieuwe of een demo-database. Kies een andere "
                           "MELDROUTE_INSTANCE of MELDROUTE_DATABASE_URL, of start zonder "
                           "--demo")
