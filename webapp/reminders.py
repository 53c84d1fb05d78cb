"""Reminders: each person gets one mail with their tasks that are due within N working
days or overdue (``meldroute reminders``, run from cron).

A reminder names no pupil and no content: only the dossier number, the group, the
protocol's name for the deadline, its date and a link ("Dossier 2026-014 (groep 5b):
Melding bij Veilig Thuis, termijn verstreken op ..."). Which reminder went to whom on which
day is recorded (``ReminderSent``: ids and a digest of the deadline, no text), so that
nobody gets the same one twice a day, also when the command runs twice or on two machines
at once: the row is inserted first (``claim``), in the transaction that ends
after the mail went out; a mail that fails rolls its rows back, to be tried next run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from meldroute.engine import add_working_days, dutch_date

from . import mail
from .models import ReminderSent, User
from .registry import Registry
from .tasks import Task, due_soon, tasks_for

DEFAULT_DAYS = 2


@dataclass
class Outcome:
    mails: int = 0  # people mailed (or, with --dry-run, who would be)
    reminders: int = 0  # deadlines in those mails
    skipped: int = 0  # already reminded today
    failed: int = 0  # mails the server did not take
    without_address: int = 0  # people with tasks due but no e-mail address
    lines: list[str] = field(default_factory=list)  # what --dry-run prints (no content)


def subject_of(task: Task) -> str:
    """Which deadline: a digest of dossier, deadline and date (no text stored)."""
    key = f"{task.dossier.id}|{task.deadline}|{task.due}"
    return hashlib.sha256(key.encode()).hexdigest()[:64]


def line(task: Task, base_url: str) -> str:
    assert task.due is not None
    when = (f"termijn verstreken op {dutch_date(task.due)}" if task.overdue
            else f"uiterlijk {dutch_date(task.due)}")
    return (f"Dossier {task.number} (groep {task.dossier.pupil_group}): {task.deadline}, "
            f"{when}\n  {base_url.rstrip('/')}/dossiers/{task.dossier.id}")


def compose(user: User, tasks: list[Task], base_url: str) -> EmailMessage:
    message = EmailMessage()
    overdue = sum(t.overdue for t in tasks)
    message["Subject"] = (f"Meldroute: {len(tasks)} termijn(en)"
                          + (f", waarvan {overdue} verstreken" if overdue else ""))
    message["To"] = user.email or ""
    message.set_content(
        f"Beste {user.display_name},\n\nIn deze dossiers loopt een termijn af of is die "
        "verstreken:\n\n" + "\n\n".join(line(t, base_url) for t in tasks) +
        "\n\nAlles over het dossier staat in Meldroute (inloggen nodig). Deze mail noemt "
        "bewust geen namen.\n")
    return message


def claim(db: Session, user: User, task: Task, today: dt.date) -> bool:
    """Record the reminder unless it was sent today; True when this run sends it.

    ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: a row comes back only when it was
    inserted (the rowcount of such an insert is not reliable on psycopg), and a concurrent
    run waits for this transaction and then finds the row."""
    table = ReminderSent.__table__
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(  # type: ignore[arg-type]
        user_id=user.id, dossier_id=task.dossier.id, subject=subject_of(task), sent_on=today
    ).on_conflict_do_nothing(index_elements=["user_id", "dossier_id", "subject", "sent_on"]
                             ).returning(table.c.id)
    return db.execute(statement).first() is not None


def people(db: Session) -> list[User]:
    return list(db.scalars(select(User).options(joinedload(User.memberships)).where(
        User.active.is_(True)).order_by(User.id)).unique())


def due_for(db: Session, registry: Registry, user: User, today: dt.date, days: int
            ) -> list[Task]:
    until = add_working_days(today, days)
    found: list[Task] = []
    for school_id in user.schools:
        found.extend(due_soon(tasks_for(db, registry, user, school_id, today), until))
    return found


def run(db: Session, registry: Registry, today: dt.date, days: int, base_url: str,
        config: mail.SmtpSettings | None, dry_run: bool) -> Outcome:
    """Mail everyone their due tasks (``config`` None: nothing is sent or recorded)."""
    outcome = Outcome()
    for user in people(db):
        tasks = due_for(db, registry, user, today, days)
        if not tasks:
            continue
        if not user.email:
            outcome.without_address += 1
            continue
        if dry_run or config is None:
            outcome.mails += 1
            outcome.reminders += len(tasks)
            outcome.lines.append(f"gebruiker {user.id}: {len(tasks)} termijn(en)")
            continue
        new = [t for t in tasks if claim(db, user, t, today)]
        outcome.skipped += len(tasks) - len(new)
        if not new:
            db.commit()
            continue
        try:
            mail.send(config, [compose(user, new, base_url)])
        except (OSError, smtplib.SMTPException):
            db.rollback()
            outcome.failed += 1
            continue
        db.commit()
        outcome.mails += 1
        outcome.reminders += len(new)
    return outcome
