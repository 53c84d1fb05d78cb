"""What a dossier is now, and saving a step: the web app's use of the engine.

The route is the protocol's: a dossier's answers go through ``engine.evaluate``; steps
without weighing questions are recorded in the order of their numbers before the step
the engine points at. Step records are append-only: a change is a new version.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, joinedload, load_only
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from meldroute.engine import Evaluation, FactValue, Protocol, SchoolConfig, Step

from . import lifecycle
from .db import is_clash, updating
from .decisions import decide
from .models import Dossier, DossierDecision, StepRecord, User, utcnow
from .numbering import series_for
from .registry import Registry
from .revisions import new_revision


class Conflict(Exception):
    """Someone else saved this step (or dossier) since the form was opened."""


@dataclass(frozen=True)
class DossierState:
    dossier: Dossier
    protocol: Protocol
    school: SchoolConfig
    evaluation: Evaluation
    latest: Mapping[str, StepRecord]  # step id -> its newest record
    current: Step
    reachable: tuple[Step, ...]

    def data(self, step_id: str) -> dict[str, Any]:
        record = self.latest.get(step_id)
        return json.loads(record.data) if record else {}

    def version(self, step_id: str) -> int:
        record = self.latest.get(step_id)
        return record.version if record else 0

    @property
    def finished(self) -> bool:
        return self.evaluation.next_question is None


def _newest_versions(authors: bool) -> Select[StepRecord]:
    newest = (select(StepRecord.step_id, func.max(StepRecord.version).label("version"))
              .where(StepRecord.dossier_id == bindparam("dossier"))
              .group_by(StepRecord.step_id).subquery())
    query = select(StepRecord).options(joinedload(StepRecord.author)) if authors else \
        select(StepRecord)
    return (query.join(newest, and_(StepRecord.step_id == newest.c.step_id,
                                    StepRecord.version == newest.c.version))
            .where(StepRecord.dossier_id == bindparam("dossier")))


# built once: only the dossier changes; a save reads no authors (issue 13: a tenth of its
# reads), a page that shows one reads it on its own
_NEWEST_VERSIONS = {True: _newest_versions(True), False: _newest_versions(False)}


def latest_records(db: Session, dossier: Dossier, authors: bool = True
                   ) -> dict[str, StepRecord]:
    """The newest version of each step of ``dossier``; ``authors``: with who saved them
    (what a page shows)."""
    rows = db.scalars(_NEWEST_VERSIONS[authors], {"dossier": dossier.id})
    return {r.step_id: r for r in rows}


def step_history(db: Session, dossier: Dossier, step_id: str) -> list[StepRecord]:
    """Every version of one step, newest first, with their authors (not their content)."""
    return list(db.scalars(
        select(StepRecord).options(load_only(StepRecord.version, StepRecord.created_at,
                                             StepRecord.author_id, StepRecord.step_id),
                                   joinedload(StepRecord.author))
        .where(StepRecord.dossier_id == dossier.id, StepRecord.step_id == step_id)
        .order_by(StepRecord.version.desc())))


def answers_of(protocol: Protocol, latest: Mapping[str, StepRecord]) -> dict[str, str]:
    """The weighing answers recorded in the steps' newest versions."""
    answers: dict[str, str] = {}
    for step in protocol.steps:
        record = latest.get(step.id)
        if record is None:
            continue
        data = json.loads(record.data)
        for f in step.fields:
            if f.type == "answer" and f.question and data.get(f.id):
                answers[f.question] = data[f.id]
    return answers


def dossier_facts(protocol: Protocol, latest: Mapping[str, StepRecord], dossier: Dossier
                  ) -> dict[str, FactValue]:
    """The facts the rules route on: the recorded field values, which steps were
    recorded, and the dossier's flags (acute, closed). The engine makes them."""
    values: dict[str, Any] = {}
    for step in protocol.steps:
        if step.id in latest:
            values.update(json.loads(latest[step.id].data))
    return lifecycle.facts(protocol, values, frozenset(latest), lifecycle.flags(
        dossier.acute_at is not None, dossier.closed_at is not None, recorded_flags(dossier)))


def recorded_flags(dossier: Dossier) -> dict[str, str]:
    found = json.loads(dossier.flags or "{}")
    return {str(k): str(v) for k, v in found.items()}


def current_step(protocol: Protocol, evaluation: Evaluation) -> Step:
    """The step at work now, as the rules say (steps 1-3 before the weighing included)."""
    return protocol.step(evaluation.step)


def dossier_state(db: Session, registry: Registry, dossier: Dossier, today: dt.date,
                  authors: bool = True) -> DossierState:
    """The dossier's state now; ``authors``: read who saved each step's newest version
    with it (a page shows them; a save does not need them)."""
    protocol = registry.by_digest(db, dossier.protocol_digest)
    school = registry.school(dossier.school_id)
    if school is None:
        raise LookupError(f"school {dossier.school_id!r} is not configured")
    return state_of(registry, dossier, protocol, school,
                    latest_records(db, dossier, authors), today)


def state_of(registry: Registry, dossier: Dossier, protocol: Protocol, school: SchoolConfig,
             latest: Mapping[str, StepRecord], today: dt.date, on: dt.date | None = None
             ) -> DossierState:
    """The dossier's state from its newest records and flags (decided through the memo);
    ``on``: the day its deadlines count from (default: the day of its last decision)."""
    evaluation = decide(protocol, school, registry.config_versions(school),
                        on or dossier.decided_on or today, answers=answers_of(protocol, latest),
                        facts=dossier_facts(protocol, latest, dossier))
    current = current_step(protocol, evaluation)
    if evaluation.next_question is None:  # the route has an end: every step is open
        reachable = protocol.steps
    else:
        reachable = tuple(s for s in protocol.steps if s.number <= current.number)
    return DossierState(dossier, protocol, school, evaluation, latest, current, reachable)


def _summary(state: DossierState) -> dict[str, Any]:
    """Where the dossier stands, as the overview shows it (the dossier's columns)."""
    e = state.evaluation
    first = min(e.deadlines, key=lambda d: d.due, default=None)
    return {"current_step": state.current.id,
            "next_question": e.next_question.id if e.next_question else None,
            "outcome": e.outcome.id if e.outcome else None,
            "responsible": ", ".join(r.name for r in e.responsible)[:300],
            "next_deadline": first.due if first else None,
            "next_deadline_kind": first.kind if first else None,
            "stage": e.stage}


def _summarize(dossier: Dossier, state: DossierState) -> None:
    for name, value in _summary(state).items():
        setattr(dossier, name, value)


def flag_acute(db: Session, registry: Registry, dossier: Dossier, user: User,
               moment: dt.datetime, today: dt.date,
               before_commit: Callable[[], None] = lambda: None) -> bool:
    """Flag ``dossier`` as acute danger (once; False when it already was, or is closed)."""
    if dossier.acute_at is not None or dossier.closed_at is not None:
        return False
    dossier.acute_at, dossier.acute_by_id = moment, user.id
    _resummarize(db, registry, dossier, today, before_commit)
    return True


def record_flag(db: Session, registry: Registry, state: DossierState, name: str, value: str,
                today: dt.date, before_commit: Callable[[], None] = lambda: None) -> bool:
    """Record one of the protocol's flags that is in play now (False: not one of them,
    or a value it does not have)."""
    dossier = state.dossier
    recorded = recorded_flags(dossier)
    choices = lifecycle.flag_choices(state.protocol, state.evaluation, recorded)
    if not any(c.name == name and value in dict(c.values) for c in choices):
        return False
    dossier.flags = json.dumps({**recorded, name: value}, sort_keys=True)
    _resummarize(db, registry, dossier, today, before_commit)
    return True


def close_dossier(db: Session, registry: Registry, dossier: Dossier, user: User, reason: str,
                  moment: dt.datetime, today: dt.date,
                  before_commit: Callable[[], None] = lambda: None) -> None:
    """Close ``dossier`` with the reason (stored encrypted, as a decision)."""
    dossier.closed_at = moment
    _decide(db, dossier, "close", reason, user, moment)
    _resummarize(db, registry, dossier, today, before_commit)


def reopen_dossier(db: Session, registry: Registry, dossier: Dossier, user: User, reason: str,
                   moment: dt.datetime, today: dt.date,
                   before_commit: Callable[[], None] = lambda: None) -> None:
    """Open a closed ``dossier`` again, with the reason."""
    dossier.closed_at = None
    _decide(db, dossier, "reopen", reason, user, moment)
    _resummarize(db, registry, dossier, today, before_commit)


def unflag_acute(db: Session, registry: Registry, dossier: Dossier, user: User, reason: str,
                 moment: dt.datetime, today: dt.date,
                 before_commit: Callable[[], None] = lambda: None) -> None:
    """Take the acute-danger flag off ``dossier``, with the reason."""
    dossier.acute_at, dossier.acute_by_id = None, None
    _decide(db, dossier, "acute_off", reason, user, moment)
    _resummarize(db, registry, dossier, today, before_commit)


def _decide(db: Session, dossier: Dossier, kind: str, reason: str, user: User,
            moment: dt.datetime) -> None:
    db.add(DossierDecision(dossier_id=dossier.id, kind=kind, reason=reason,
                           author_id=user.id, created_at=moment))


def evaluation_with(registry: Registry, state: DossierState, step: Step,
                    answers: Mapping[str, Any], today: dt.date) -> Evaluation:
    """The route as it would be with ``answers`` saved for ``step`` (nothing stored)."""
    draft = StepRecord(dossier_id=state.dossier.id, step_id=step.id,
                       version=state.version(step.id) + 1,
                       data=json.dumps({**state.data(step.id), **answers}, sort_keys=True))
    latest = {**state.latest, step.id: draft}
    return state_of(registry, state.dossier, state.protocol, state.school, latest,
                    today).evaluation


def _resummarize(db: Session, registry: Registry, dossier: Dossier, today: dt.date,
                 before_commit: Callable[[], None]) -> None:
    """After a flag changed: the rules' view of the dossier, stored for the overview."""
    db.flush()
    _summarize(dossier, dossier_state(db, registry, dossier, today))
    dossier.updated_at = utcnow()
    before_commit()
    db.commit()


def create_dossier(db: Session, registry: Registry, school: SchoolConfig, user: User,
                   initials: str, group: str, name: str, today: dt.date,
                   birthdate: dt.date | None = None, acute_at: dt.datetime | None = None,
                   protocol: Protocol | None = None, subject_id: int | None = None,
                   linked_id: int | None = None) -> Dossier:
    """A new dossier, flushed (the caller records it in the audit trail and commits);
    ``acute_at``: flagged as acute danger when it was opened; ``protocol``: its route
    (default the school's main one), fixed from now on; ``subject_id``: the account a
    staff-route dossier is about; ``linked_id``: another dossier about the same pupil."""
    protocol = protocol or registry.protocol_for(school)
    dossier = Dossier(school_id=school.id, pupil_initials=initials, pupil_group=group,
                      protocol_id=protocol.id, subject_user_id=subject_id,
                      linked_dossier_id=linked_id, number_series=series_for(protocol),
                      pupil_name=name, protocol_digest=registry.pin(db, protocol),
                      pupil_birthdate=birthdate.isoformat() if birthdate else None,
                      created_by_id=user.id, current_step=protocol.steps[0].id,
                      acute_at=acute_at, acute_by_id=user.id if acute_at else None)
    db.add(dossier)
    db.flush()
    _summarize(dossier, dossier_state(db, registry, dossier, today))
    return dossier


def save_step(db: Session, registry: Registry, dossier: Dossier, step: Step,
              answers: Mapping[str, Any], user: User, base_version: int, today: dt.date,
              before_commit: Callable[[], None] = lambda: None,
              before: DossierState | None = None) -> StepRecord:
    """Store a new version of ``step``; Conflict when it changed since ``base_version``.

    ``before_commit`` runs in the same transaction (the audit entry). ``before`` is the
    dossier's state as the caller read it in this transaction (read here when None).

    Two Core statements past the ORM's unit of work (issue 13: its flush was a fifth of
    a save): the dossier's summary, a new revision (``revisions.py``: its kept pages go)
    and the next ``row_version``, in the row only while it still has the version read
    (else another save or change came first: Conflict); then the version, whose
    (dossier, step, version) is unique (a clash: Conflict). One transaction with the
    caller's audit entry; the ``dossier`` object then holds what was stored.
    """
    if before is None:
        before = dossier_state(db, registry, dossier, today)
    newest = before.version(step.id)  # a save in between: the unique version clashes
    if newest != base_version:
        raise Conflict()
    school_config_id, board_config_id = registry.config_versions(before.school) or \
        registry.config_ids(db, dossier.school_id)
    # the version as the state after the save reads it (not added to the session: it is
    # written below with one INSERT)
    record = StepRecord(dossier_id=dossier.id, step_id=step.id, version=newest + 1,
                        data=json.dumps({**before.data(step.id), **answers}, sort_keys=True),
                        author_id=user.id, created_at=utcnow(),
                        school_config_id=school_config_id, board_config_id=board_config_id)
    set_committed_value(record, "author", user)
    latest = {**before.latest, step.id: record}
    after = state_of(registry, dossier, before.protocol, before.school, latest, today)
    changes = _summary(after)
    decided = (after.evaluation.outcome, after.evaluation.next_question)
    if decided != (before.evaluation.outcome, before.evaluation.next_question):
        # deadlines count from the day of the decision
        after = state_of(registry, dossier, before.protocol, before.school, latest, today,
                         on=today)
        changes = {**_summary(after), "decided_on": today}
    changes.update(updated_at=utcnow(), revision=new_revision(),
                   row_version=dossier.row_version + 1)
    _write_save(db, dossier, record, changes, before_commit)
    for name, value in changes.items():  # the dossier as it is now stored
        set_committed_value(dossier, name, value)
    return record


def _write_save(db: Session, dossier: Dossier, record: StepRecord, changes: dict[str, Any],
                before_commit: Callable[[], None]) -> None:
    """The save's two statements, the caller's audit entry and the commit; all or nothing
    (Conflict when another write of the dossier came first)."""
    connection = db.connection()
    try:
        moved = connection.execute(updating(Dossier, frozenset(changes), ("id", "row_version")), {
            **changes, "b_id": dossier.id, "b_row_version": dossier.row_version}).rowcount
        if moved != 1:  # another save of this dossier committed since it was read
            raise Conflict()
        added = connection.execute(_ADD_VERSION, {
            c: getattr(record, c) for c in _VERSION_COLUMNS}).inserted_primary_key
        assert added is not None
        record.id = added[0]
        before_commit()
        db.commit()
    except (IntegrityError, StaleDataError, Conflict):
        db.rollback()
        raise Conflict() from None
    except OperationalError as exc:
        db.rollback()
        if is_clash(exc):  # a colleague's write, at once: the conflict page, answers kept
            raise Conflict() from None
        raise  # (an outage: the 503 page)
    except BaseException:  # nothing of a save half done stays in the session
        db.rollback()
        raise


_VERSION_COLUMNS = ("dossier_id", "step_id", "version", "data", "author_id", "created_at",
                    "school_config_id", "board_config_id")
_ADD_VERSION = insert(StepRecord)


def move_to_protocol(db: Session, registry: Registry, dossier: Dossier, digest: str,
                     today: dt.date, before_commit: Callable[[], None] = lambda: None) -> None:
    """Let the dossier follow another (pinned) protocol version from now on."""
    dossier.protocol_digest = digest
    _resummarize(db, registry, dossier, today, before_commit)
