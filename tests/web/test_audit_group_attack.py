"""Attacks on the group commit of reads (issue 13, round 4): a page is sent only when its
read is committed, exactly once, the chain and its anchor stay right under concurrent
readers and writers, and no read that gave up waiting blocks the reads after it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import bindparam, func, select, text, update
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


READERS = 5
ROUNDS = 2


def _hold_first_batch(monkeypatch: pytest.MonkeyPatch, app: Flask, waiting: int
                      ) -> list[int]:
    """The first batch of reads is written only once ``waiting`` others queue behind it
    (or after a while): a batch then commits other requests' reads. The batches' sizes."""
    from meldroute.webapp.context import reads_of

    real = audit.append_many
    first = threading.Event()
    sizes: list[int] = []

    def append_many(db: Session, entries: list[dict[str, Any]]) -> audit.Appended:
        sizes.append(len(entries))
        if not first.is_set():
            first.set()
            group, pause = reads_of(app), threading.Event()
            for _ in range(2000):
                if len(group._queue) >= waiting:
                    break
                pause.wait(0.005)
        return real(db, entries)

    monkeypatch.setattr(audit, "append_many", append_many)
    return sizes


def _spy_anchor(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    anchor = app.extensions[audit_anchor.TRAIL].anchor
    real = anchor.committed
    seen: list[tuple[int, str]] = []
    lock = threading.Lock()

    def committed(seq: int, value: str) -> None:
        with lock:
            seen.append((seq, value))
        real(seq, value)

    monkeypatch.setattr(anchor, "committed", committed)
    return seen


def _reads_from(app: Flask) -> dict[str, int]:
    with app.extensions["meldroute.db_sessions"]() as db:
        rows = db.execute(select(AuditEvent.address, func.count()).where(
            AuditEvent.action == "dossier.read").group_by(AuditEvent.address)).all()
    return {address: number for address, number in rows}


def _run(jobs: list[Callable[[], None]]) -> list[BaseException]:
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        start.wait()
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN)
    assert not any(thread.is_alive() for thread in threads), "a request hangs (deadlock)"
    return errors


def test_readers_and_writers_at_once_get_each_page_with_one_committed_read(
        app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch, now: Any) -> None:
    """Readers of kept and fresh pages, a writer saving a step (the pages it shows are
    rendered afresh after it) and readers whose web session is due a last-seen write (their
    reads go into their own transactions) at once: every page sent has exactly one
    committed read entry, the chain holds, and the anchor names committed entries."""
    browser.login("ib")
    first, second = browser.new_dossier(), browser.new_dossier("C.D.", "6a")
    pages = [f"/dossiers/{first}", f"/dossiers/{first}/stap/signaleren",
             f"/dossiers/{second}", f"/dossiers/{second}/stap/signaleren"]
    for url in pages:
        browser.get(url)  # kept from the next view on
    with app.extensions["meldroute.db_sessions"]() as db:
        user_id = db.scalar(select(User.id).where(User.username == "regenboog-ib"))
    assert user_id is not None
    clients = []
    for n in range(READERS + 1):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"
        sign_in_as(app, client, user_id, "regenboog")
        clients.append(client)
    sent: dict[str, int] = {}
    now.advance(seconds=61)  # every web session's first request writes its last-seen time
    anchored = _spy_anchor(app, monkeypatch)
    batches = _hold_first_batch(monkeypatch, app, 3)
    before = _reads_from(app)

    def reader(n: int) -> Callable[[], None]:
        def job() -> None:
            client, address = clients[n], f"192.0.2.{n + 1}"
            for _ in range(ROUNDS):
                for url in pages:
                    response = client.get(url)
                    assert response.status_code == 200, (url, response.status_code)
                    sent[address] = sent.get(address, 0) + 1
        return job

    def writer() -> None:
        client, address = clients[READERS], f"192.0.2.{READERS + 1}"
        url = f"/dossiers/{second}/stap/signaleren"
        html = client.get(url).get_data(as_text=True)
        sent[address] = 1
        match = TOKEN.search(html)
        assert match
        response = client.post(url, data={
            "csrf_token": match.group(1), "action": "save", "base_version": "0",
            "interpretatie": "Zorgen over de thuissituatie.",
            "observaties-0-datum": "2026-11-20", "observaties-0-bron": "zelf gezien",
            "observaties-0-waargenomen_door": ["leerkracht"],
            "observaties-0-feit": "De leerling zei gevallen te zijn.",
            "signaleren_checklist": ["1", "2"]})
        assert response.status_code == 302, response.get_data(as_text=True)

    assert _run([*(reader(n) for n in range(READERS)), writer]) == []
    after = _reads_from(app)
    assert {a: after.get(a, 0) - before.get(a, 0) for a in sent} == sent
    assert max(batches) > 1  # (a batch did commit other requests' reads)
    with app.extensions["meldroute.db_sessions"]() as db:
        checked, broken = audit.verify(db)
        assert broken is None
        last = audit.last_committed(db)
        chain = {row.seq: row.hash for row in db.execute(select(AuditEvent.seq, AuditEvent.hash))}
    assert anchored and all(chain.get(seq) == value for seq, value in anchored)
    assert max(anchored) == last


def test_a_batch_that_fails_after_its_entries_were_inserted_leaves_no_trace(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The leader's batch is inserted, then its request dies before the commit: none of
    its reads counts as committed, none is in the trail, and the next read continues the
    chain without a gap."""
    group = audit.GroupCommit()
    real = audit.append_many
    dies = iter([True])
    entered, release = threading.Event(), threading.Event()

    def append_many(db: Session, entries: list[dict[str, Any]]) -> audit.Appended:
        appended = real(db, entries)
        if next(dies, False):
            entered.set()
            release.wait(JOIN)  # the others queue behind it meanwhile
            raise RuntimeError("het verzoek is afgebroken")
        return appended

    monkeypatch.setattr(audit, "append_many", append_many)
    outcome: dict[str, BaseException | None] = {}
    leader = _read_in_thread(app, group, "lezer-0", outcome)
    entered.wait(JOIN)
    with app.extensions["meldroute.db_sessions"]() as db:
        head = db.get(AuditHead, 1)
        assert head is not None
        before = head.seq
    followers = [_read_in_thread(app, group, f"lezer-{n}", outcome) for n in (1, 2)]
    _queued(group, 2)
    release.set()
    for thread in (leader, *followers):
        thread.join(JOIN)
    assert isinstance(outcome["lezer-0"], audit.NotAppended)
    assert outcome["lezer-1"] is None and outcome["lezer-2"] is None
    with app.extensions["meldroute.db_sessions"]() as db:
        seqs = db.scalars(select(AuditEvent.seq).where(AuditEvent.seq > before)
                          .order_by(AuditEvent.seq)).all()
        assert list(seqs) == [before + 1, before + 2]
        assert audit.verify(db)[1] is None
    assert _written(app, ["lezer-0", "lezer-1", "lezer-2"]) == ["lezer-1", "lezer-2"]


def _rename(db: Session) -> None:
    user = db.scalars(select(User).order_by(User.id).limit(1)).one()
    user.display_name = f"{user.display_name}!"  # a change every time


WRITES: list[tuple[str, Callable[[Session], None]]] = [
    ("text", lambda db: db.execute(text(
        "  UPDATE site_revision SET revision = revision WHERE id = 1"))),
    ("core", lambda db: db.execute(update(AuditHead).where(AuditHead.id == 0).values(seq=0))),
    ("executemany", lambda db: db.connection().execute(
        update(AuditHead).where(AuditHead.id == bindparam("which")).values(seq=AuditHead.seq),
        [{"which": 0}, {"which": -1}])),
    ("pending", lambda db: _rename(db)),
    ("flushed", lambda db: (_rename(db), db.flush())),
]


def test_every_kind_of_write_counts_and_a_read_or_an_ended_transaction_does_not(
        app: Flask) -> None:
    """``wrote``: a read after which the request's transaction may commit other reads, or
    a write that must go into its own transaction with the read entry."""
    sessions = app.extensions["meldroute.db_sessions"]
    with sessions() as db:
        db.execute(select(User.id)).all()
        db.connection().execute(text("SELECT 1")).all()
        assert not wrote(db)
    for name, write in WRITES:
        with sessions() as db:
            db.execute(select(User.id)).all()
            write(db)
            assert wrote(db), name
            db.rollback()
            assert not wrote(db), name
            write(db)
            db.commit()
            db.execute(select(User.id)).all()
            assert not wrote(db), name


def test_a_long_transaction_on_the_head_costs_the_reads_behind_it_no_more_than_their_pages(
        app: Flask, database_url: str) -> None:
    """PostgreSQL has no lock timeout: a transaction that holds the head (a long purge, a
    stuck request) holds up the batch for longer than readers wait. Those readers get no
    page; once it ends, every read of the process is written again."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's busy timeout ends such a batch before the readers give up")
    group = audit.GroupCommit()
    group.WAIT = 0.3
    outcome: dict[str, BaseException | None] = {}
    with app.extensions["meldroute.db_sessions"]() as holder:
        holder.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
        leader = _read_in_thread(app, group, "lezer-eerst", outcome)
        stop = threading.Event()
        while not group._leading or group._queue:  # its batch taken: waiting for the head
            stop.wait(0.005)
        waiter = _read_in_thread(app, group, "lezer-wacht", outcome)
        waiter.join(JOIN)
        holder.commit()  # the long transaction ends
    leader.join(JOIN)
    later = _read_in_thread(app, group, "lezer-later", outcome)
    later.join(JOIN)
    assert isinstance(outcome["lezer-wacht"], audit.NotAppended)
    assert outcome["lezer-eerst"] is None and outcome["lezer-later"] is None
    assert _written(app, ["lezer-eerst", "lezer-wacht", "lezer-later"]) == [
        "lezer-eerst", "lezer-later"]
