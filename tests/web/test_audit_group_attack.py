"""Attacks on the group commit of reads (issue 13, round 4): a page is sent only when its
read is committed, exactly once, the chain and its anchor stay right under concurrent
readers and writers, and no read that gave up waiting blocks the reads after it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from meldroute.webapp import audit, audit_anchor
from meldroute.webapp.db import wrote
from meldroute.webapp.models import AuditEvent, AuditHead, User

from .conftest import TOKEN, Browser, sign_in_as

JOIN = 120  # seconds: a guard against a hang, never a measure


def _entry(name: str) -> dict[str, Any]:
    return audit.entry(action="dossier.read", actor=name, actor_id=None,
                       address="127.0.0.1", now=audit.dt.datetime.now(audit.dt.UTC),
                       detail="aanval")


def _read_in_thread(app: Flask, group: audit.GroupCommit, name: str,
                    outcome: dict[str, BaseException | None]) -> threading.Thread:
    def read() -> None:
        with app.extensions["meldroute.db_sessions"]() as db:
            try:
                group.append(db, _entry(name))
                outcome[name] = None
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                outcome[name] = exc

    thread = threading.Thread(target=read)
    thread.start()
    return thread


def _written(app: Flask, actors: list[str]) -> list[str]:
    with app.extensions["meldroute.db_sessions"]() as db:
        return sorted(db.scalars(select(AuditEvent.actor).where(
            AuditEvent.actor.in_(actors))).all())


def _queued(group: audit.GroupCommit, count: int) -> None:
    """Wait (no assertion on time) until ``count`` entries are queued."""
    stop = threading.Event()
    while len(group._queue) < count:
        stop.wait(0.005)


def test_a_read_that_gave_up_waiting_is_not_handed_the_lead_nor_written_later(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch that takes longer than a waiter's patience (a PostgreSQL lock held by a
    long transaction: no lock timeout there) must not leave the lead with the waiter that
    gave up: every later read of the process would wait in vain and fail."""
    group = audit.GroupCommit()
    group.WAIT = 0.2  # the waiter's patience, made short (the outcome does not depend on it)
    entered, release = threading.Event(), threading.Event()
    real = audit.append_many

    def append_many(db: Session, entries: list[dict[str, Any]]) -> audit.Appended:
        if not entered.is_set():  # the first batch is slow
            entered.set()
            release.wait(JOIN)
        return real(db, entries)

    monkeypatch.setattr(audit, "append_many", append_many)
    outcome: dict[str, BaseException | None] = {}
    slow = _read_in_thread(app, group, "lezer-traag", outcome)
    entered.wait(JOIN)
    gave_up = _read_in_thread(app, group, "lezer-opgegeven", outcome)
    gave_up.join(JOIN)
    assert isinstance(outcome["lezer-opgegeven"], audit.NotAppended)  # its page not sent
    release.set()
    slow.join(JOIN)
    later = _read_in_thread(app, group, "lezer-later", outcome)
    later.join(JOIN)
    assert outcome["lezer-traag"] is None
    assert outcome["lezer-later"] is None, "the lead went to a read that gave up"
    # the page of the read that gave up was not sent: its entry is not written either
    assert _written(app, ["lezer-traag", "lezer-opgegeven", "lezer-later"]) == [
        "lezer-later", "lezer-traag"]
