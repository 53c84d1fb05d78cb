"""Tasks and deadlines across dossiers, for one person: what is due, in which dossier, by
when. Nothing here decides the route: every task is what the rules' evaluation of the
dossier says (the step at work, the open question or outcome, who is aan zet, the
deadlines), asked through the memo (``services.state_of``); this module only collects,
filters and orders what comes back.

Whose task it is: the rules name the responsible roles (after the school's remapping);
the task is yours when you hold one of them at the school, or when a coordinating role
named you on the dossier (``assignments``). Only dossiers you may see are looked at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session, defer, joinedload

from meldroute.engine import Protocol, SchoolConfig, Step

from .access import can_see, is_coordinator, is_subject, visible_dossiers
from .models import Dossier, DossierAssignment, StepRecord, User
from .numbering import label
from .registry import Registry
from .services import DossierState, state_of


@dataclass(frozen=True)
class Task:
    dossier: Dossier
    number: str  # the dossier number, 2026-014
    step: Step
    what: str  # what to do, in the protocol's words
    deadline: str  # the deadline's label ('' without one)
    due: dt.date | None
    kind: str  # whose deadline: school, veilig_thuis ('' without one)
    overdue: bool
    acute: bool
    responsible: str  # who is aan zet: the named people, else the roles
    mine: bool  # the signed-in person is aan zet (a role they hold, or named)


def visible_clause(registry: Registry, user: User, school_id: str, school: SchoolConfig
                   ) -> ColumnElement[bool]:
    """SQL for "the dossiers of this school ``user`` may see" (``access.can_see``, as
    ``access.visible_dossiers`` puts it for every route the school follows)."""
    return and_(Dossier.school_id == school_id,
                visible_dossiers(user, school_id, registry.protocols, school))


def latest_of(db: Session, ids: Sequence[int]) -> dict[int, dict[str, StepRecord]]:
    """The newest record of every step of every dossier in ``ids``, in one query."""
    found: dict[int, dict[str, StepRecord]] = {i: {} for i in ids}
    if not ids:
        return found
    newest = (select(StepRecord.dossier_id, StepRecord.step_id,
                     func.max(StepRecord.version).label("version"))
              .where(StepRecord.dossier_id.in_(ids))
              .group_by(StepRecord.dossier_id, StepRecord.step_id).subquery())
    rows = db.scalars(select(StepRecord).join(newest, and_(
        StepRecord.dossier_id == newest.c.dossier_id, StepRecord.step_id == newest.c.step_id,
        StepRecord.version == newest.c.version)))
    for r in rows:
        found[r.dossier_id][r.step_id] = r
    return found


def people_on(db: Session, ids: Iterable[int]) -> dict[int, list[DossierAssignment]]:
    """The named people in force per dossier."""
    found: dict[int, list[DossierAssignment]] = {}
    for a in db.scalars(select(DossierAssignment).options(
            joinedload(DossierAssignment.user).selectinload(User.memberships))
                        .where(DossierAssignment.dossier_id.in_(list(ids)),
                               DossierAssignment.removed_at.is_(None))
                        .order_by(DossierAssignment.id)):
        found.setdefault(a.dossier_id, []).append(a)
    return found


def person_name(assignment: DossierAssignment) -> str:
    if assignment.user is not None:
        return assignment.user.display_name
    org = f" ({assignment.organisation})" if assignment.organisation else ""
    return f"{assignment.person_name or ''}{org}"


def aan_zet_words(people: Iterable[DossierAssignment], responsible: Iterable[Any],
                  school_id: str) -> str:
    """Who is aan zet: the roles the rules name, with the people named on the dossier who
    hold one of those roles ("intern begeleider (Jan Jansen)")."""
    responsible = list(responsible)
    roles = ", ".join(r.name for r in responsible)
    wanted = {r.assigned for r in responsible}
    named = [person_name(a) for a in people
             if a.user is not None and wanted & set(a.user.roles_at(school_id))]
    return f"{roles} ({', '.join(named)})" if named else roles


def what_now(protocol: Protocol, state: DossierState) -> str:
    """The task in the protocol's words: the outcome's text, the open question, or the
    step to record."""
    e = state.evaluation
    if e.outcome is not None and state.dossier.closed_at is None:
        return str(e.outcome.text)
    if e.next_question is not None and e.next_question.step == state.current.id:
        return f"Vraag: {e.next_question.label}"
    return f"Stap {state.current.number} ({state.current.title}) vastleggen"


def opener_is_aan_zet(state: DossierState, user: User) -> bool:
    """The rules put "whoever opened the dossier" aan zet (``access: opener``, the staff
    route's first step), and ``user`` opened it (never the person it is about)."""
    d, roles = state.dossier, state.protocol.roles
    return d.created_by_id == user.id and not is_subject(user, d) and any(
        r.role in roles and roles[r.role].access == "opener"
        for r in state.evaluation.responsible)


def _tasks_of(state: DossierState, people: list[DossierAssignment], user: User,
              held: set[str], today: dt.date) -> list[Task]:
    e, d = state.evaluation, state.dossier
    roles = {r.assigned for r in e.responsible}
    mine = bool(held & roles) or any(a.user_id == user.id for a in people) or \
        opener_is_aan_zet(state, user)
    who = aan_zet_words(people, e.responsible, d.school_id)
    what, acute = what_now(state.protocol, state), d.acute_at is not None

    def task(deadline: str, due: dt.date | None, kind: str) -> Task:
        return Task(d, label(d), state.current, what, deadline, due, kind,
                    due is not None and due < today, acute, who, mine)

    if not e.deadlines:
        return [task("", None, "")]
    return [task(dl.label, dl.due, dl.kind) for dl in sorted(e.deadlines, key=lambda x: x.due)]


def order_key(task: Task) -> tuple[bool, bool, dt.date, str]:
    """Acute dossiers on top, then overdue, then by due date (none last)."""
    return (not task.acute, not task.overdue, task.due or dt.date.max, task.number)


def tasks_for(db: Session, registry: Registry, user: User, school_id: str, today: dt.date,
              everyone: bool = False) -> list[Task]:
    """Every open task of ``user`` at the school (``everyone``: of everyone, for a
    coordinating role), ordered by ``order_key``."""
    school = registry.school(school_id)
    if school is None or school_id not in user.schools:
        return []
    coordinator = is_coordinator(user, school_id, registry.protocol_for(school), school)
    rows = list(db.scalars(select(Dossier).options(
        defer(Dossier.pupil_name), defer(Dossier.pupil_birthdate)).where(
        visible_clause(registry, user, school_id, school),
        Dossier.closed_at.is_(None))))
    held = set(user.roles_at(school_id))
    latest = latest_of(db, [d.id for d in rows])
    people = people_on(db, latest)
    found: list[Task] = []
    for d in rows:
        protocol = registry.by_digest(db, d.protocol_digest)
        if not can_see(user, school_id, d, protocol, school):
            continue
        state = state_of(registry, d, protocol, school, latest[d.id], today)
        tasks = _tasks_of(state, people.get(d.id, []), user, held, today)
        found.extend(t for t in tasks if t.mine or (everyone and coordinator))
    return sorted(found, key=order_key)


def due_soon(tasks: Iterable[Task], until: dt.date) -> list[Task]:
    """The tasks with a deadline on or before ``until`` (overdue ones included)."""
    return [t for t in tasks if t.due is not None and t.due <= until]
