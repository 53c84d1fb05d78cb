"""Reads are audited together (``audit.GroupCommit``): every entry committed before its
page is sent, the chain unbroken, fewer transactions under load, and a failed batch never
taken for a committed one."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from meldroute.webapp import audit
from meldroute.webapp.models import AuditEvent

from .conftest import Browser

READERS = 8


def _entry(n: int) -> dict[str, Any]:
    return audit.entry(action="dossier.read", actor=f"lezer{n}", actor_id=None,
                       address="127.0.0.1", now=audit.dt.datetime.now(audit.dt.UTC),
                       detail=f"pagina {n}")


def _readers(app: Flask, group: audit.GroupCommit, count: int) -> list[BaseException | None]:
    """``count`` threads append one entry each, at once; what each of them got."""
    sessions = app.extensions["meldroute.db_sessions"]
    start = threading.Barrier(count)
    outcome: list[BaseException | None] = [None] * count

    def read(n: int) -> None:
        start.wait()
        with sessions() as db:
            db.execute(select(AuditEvent.seq).limit(1)).all()  # the request's own reads
            try:
                group.append(db, _entry(n))
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                outcome[n] = exc

    threads = [threading.Thread(target=read, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


def _held_first_batch(monkeypatch: pytest.MonkeyPatch, group: audit.GroupCommit,
                      waiting: int) -> None:
    """The first batch is written only once ``waiting`` others queue behind it."""
    real = audit.append_many
    first = threading.Event()

    def append_many(db: Any, entries: list[dict[str, Any]]) -> audit.Appended:
        if not first.is_set():
            first.set()
            deadline = time.monotonic() + 30
            while len(group._queue) < waiting and time.monotonic() < deadline:
                time.sleep(0.005)
        return real(db, entries)

    monkeypatch.setattr(audit, "append_many", append_many)


def test_reads_at_once_are_committed_together_and_the_chain_holds(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = app.extensions["meldroute.db_engine"]
    group = audit.GroupCommit()
    _held_first_batch(monkeypatch, group, READERS - 1)
    commits: list[int] = []
    listener = lambda _conn: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        outcome = _readers(app, group, READERS)
    finally:
        event.remove(engine, "commit", listener)
    assert outcome == [None] * READERS
    # the first reader's own batch, then everyone who came meanwhile in one transaction
    assert len(commits) == 2
    with app.extensions["meldroute.db_sessions"]() as db:
        read = db.scalars(select(AuditEvent).where(AuditEvent.actor.like("lezer%"))
                          .order_by(AuditEvent.seq)).all()
        assert sorted(e.actor for e in read) == sorted(f"lezer{n}" for n in range(READERS))
        assert [e.seq for e in read] == list(range(read[0].seq, read[0].seq + READERS))
        checked, broken = audit.verify(db)
    assert broken is None and checked >= READERS


def test_a_failed_batch_fails_each_of_its_reads_and_the_next_read_is_written(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    group = audit.GroupCommit()
    real = audit.append_many
    failures = iter([True])

    def append_many(db: Any, entries: list[dict[str, Any]]) -> audit.Appended:
        if next(failures, False):
            deadline = time.monotonic() + 30
            while len(group._queue) < 2 and time.monotonic() < deadline:
                time.sleep(0.005)
            raise RuntimeError("de schijf is vol")
        return real(db, entries)

    monkeypatch.setattr(audit, "append_many", append_many)
    outcome = _readers(app, group, 3)
    # the first batch (one entry) failed; the two that waited behind it were written
    failed = [exc for exc in outcome if exc is not None]
    assert len(failed) == 1 and isinstance(failed[0], audit.NotAppended)
    with app.extensions["meldroute.db_sessions"]() as db:
        written = db.scalars(select(AuditEvent.actor).where(
            AuditEvent.actor.like("lezer%"))).all()
        assert len(written) == 2
        assert audit.verify(db)[1] is None
    assert _readers(app, group, 1) == [None]  # nobody is left holding the lead


def test_a_kept_page_is_not_sent_when_its_read_cannot_be_audited(
        app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    browser.login("ib")
    dossier = browser.new_dossier()
    url = f"/dossiers/{dossier}"
    browser.get(url)  # the flash message of the new dossier
    browser.get(url)  # kept from here on

    def append_many(db: Any, entries: list[dict[str, Any]]) -> audit.Appended:
        raise RuntimeError("de schijf is vol")

    monkeypatch.setattr(audit, "append_many", append_many)
    response = browser.client.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in html and "Signaleren" not in html


def test_a_batch_whose_rollback_fails_still_tells_its_readers_why(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    group = audit.GroupCommit()
    monkeypatch.setattr(audit.GroupCommit, "WAIT", 5.0)
    real = audit.append_many
    batches = iter(["wait", "fail"])

    def append_many(db: Any, entries: list[dict[str, Any]]) -> audit.Appended:
        what = next(batches, "write")
        if what == "wait":  # the first batch: written once two readers queue behind it
            deadline = time.monotonic() + 30
            while len(group._queue) < 2 and time.monotonic() < deadline:
                time.sleep(0.005)
        if what == "fail":  # the second (those two): its commit and its rollback fail
            real(db, entries)
            db.rollback = lambda: (_ for _ in ()).throw(RuntimeError("verbinding weg"))
            raise RuntimeError("de schijf is vol")
        return real(db, entries)

    monkeypatch.setattr(audit, "append_many", append_many)
    outcome = _readers(app, group, 3)
    # the second batch's leader fails on the rollback; the reader in that batch with it is
    # not left to wait out its time but learns that its batch failed, and why
    assert sorted(type(exc).__name__ for exc in outcome) == \
        ["NoneType", "NotAppended", "RuntimeError"]
    waited = next(exc for exc in outcome if isinstance(exc, audit.NotAppended))
    assert str(waited.__cause__) == "de schijf is vol"
    assert _readers(app, group, 1) == [None]
