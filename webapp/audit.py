"""The audit trail: who did what to which dossier, when, from where — never the content.

Append-only, and not rewritable by someone who can write the database but lacks the
audit key (``crypto.AuditKey``, kept outside the database like the encryption keys):
each entry's chain value is an HMAC-SHA256 with that key over its own fields and the
previous entry's value. Entries written before the switch keep their plain SHA-256: the
migration ``0007_audit_hmac`` appended the marker entry ``audit.hmac`` (itself plain);
every entry after the first marker must carry the HMAC.

Appends are serialised through the one ``audit_head`` row (an UPDATE ... RETURNING takes
its lock on SQLite and PostgreSQL alike), in the same transaction as what they record.
After the commit, the transaction's last (sequence number, chain value) goes to the
anchor (``audit_anchor.py``): checkpoints outside the database that catch a chain cut
short or recomputed as a whole. Nothing is anchored before it is committed.

A read (someone saw a dossier page) writes nothing but its entry. Reads are appended in
their own transactions, together with the reads other threads of the process want to
append at that moment (``GroupCommit``: one take of the head, one multi-row insert and one
commit for all of them), and each request waits until its entry is committed before its
page is sent. Under load this turns a commit per page into a commit per handful of pages.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Update, bindparam, event, insert, select, union_all, update
from sqlalchemy.orm import Session

from .crypto import AuditKey
from .models import AuditEvent, AuditHead

GENESIS = "0" * 64
MARKER = "audit.hmac"  # from the entry after this one on, chain values are HMACs
TRAIL = "meldroute.audit.trail"  # in Session.info: the Trail of the app
PENDING = "meldroute.audit.pending"  # in Session.info: the transaction's last append


class Anchor(Protocol):
    def committed(self, seq: int, value: str) -> None: ...


@dataclass(frozen=True)
class Trail:
    """The audit key and the anchor of one app (or one command)."""

    key: AuditKey
    anchor: Anchor | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Appended:
    """An entry just appended: its sequence number and chain value."""

    seq: int
    hash: str


_TRAIL: Trail | None = None  # for sessions not made by an app's sessionmaker


def configure(trail: Trail) -> None:
    global _TRAIL
    _TRAIL = trail


def trail_of(db: Session) -> Trail:
    found = db.info.get(TRAIL) or _TRAIL
    if not isinstance(found, Trail):
        raise RuntimeError("the audit key is not configured")
    return found


def _utc_naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _fields(e: AuditEvent | Mapping[str, object]) -> bytes:
    get = e.get if isinstance(e, Mapping) else lambda name: getattr(e, name)
    at = get("at")
    assert isinstance(at, dt.datetime)
    fields = [get("seq"), _utc_naive(at).isoformat(timespec="microseconds"), get("actor_id"),
              get("actor"), get("on_behalf_of"), get("action"), get("school_id"),
              get("dossier_id"), get("result"), get("address"), get("detail"),
              get("prev_hash")]
    return json.dumps(fields, ensure_ascii=False).encode()


def plain_hash(e: AuditEvent) -> str:
    """The chain value of an entry up to and including the marker (before the key)."""
    return hashlib.sha256(_fields(e)).hexdigest()


def entry_mac(e: AuditEvent, key: AuditKey) -> str:
    """The chain value of an entry after the marker."""
    return key.mac(b"meldroute audit entry", _fields(e))


def append(db: Session, *, action: str, actor: str, actor_id: int | None, address: str,
           now: dt.datetime, result: str = "ok", school_id: str | None = None,
           dossier_id: int | None = None, detail: str = "",
           on_behalf_of: str | None = None) -> Appended:
    """Append an entry in the session's transaction: Core statements on its connection
    (``append_many``), no ORM bookkeeping and no read-back."""
    return append_many(db, [entry(
        action=action, actor=actor, actor_id=actor_id, address=address, now=now,
        result=result, school_id=school_id, dossier_id=dossier_id, detail=detail,
        on_behalf_of=on_behalf_of)])


def entry(*, action: str, actor: str, actor_id: int | None, address: str, now: dt.datetime,
          result: str = "ok", school_id: str | None = None, dossier_id: int | None = None,
          detail: str = "", on_behalf_of: str | None = None) -> dict[str, Any]:
    """An entry's own fields, cut to their columns (its place in the chain comes later)."""
    return {"at": _utc_naive(now).replace(tzinfo=dt.UTC), "actor_id": actor_id,
            "actor": actor[:64], "on_behalf_of": on_behalf_of, "action": action,
            "school_id": school_id, "dossier_id": dossier_id, "result": result,
            "address": address[:64], "detail": detail[:200]}


def append_many(db: Session, entries: list[dict[str, Any]]) -> Appended:
    """Append ``entries`` (from ``entry``), in this order, in the session's transaction,
    whatever their number: take the head, insert them, move the head; on PostgreSQL the
    insert and the move are one statement (``_insert_and_move``). Returns the last one."""
    key = trail_of(db).key
    connection = db.connection()
    seq, chain = connection.execute(_TAKE_HEAD, {"n": len(entries)}).one()
    seq -= len(entries)  # the head now names the last of them
    rows = []
    for fields in entries:
        seq += 1
        values = {**fields, "seq": seq, "prev_hash": chain}
        chain = values["hash"] = key.mac(b"meldroute audit entry", _fields(values))
        rows.append(values)
    if connection.dialect.name == "postgresql" and len(rows) <= _CTE_ROWS:
        connection.execute(_insert_and_move(len(rows)), {"last": chain, **{
            f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}})
    else:  # SQLite has no data-modifying CTE
        connection.execute(_INSERT, rows)
        connection.execute(_MOVE_HEAD, {"last": chain})
    db.info[PENDING] = (seq, chain)
    return Appended(seq, chain)


# Core statements (executed on the session's connection, not through the ORM session)
_TAKE_HEAD = (update(AuditHead).where(AuditHead.id == 1)
              .values(seq=AuditHead.seq + bindparam("n"))
              .returning(AuditHead.seq, AuditHead.last_hash))
_INSERT = insert(AuditEvent)
_MOVE_HEAD = update(AuditHead).where(AuditHead.id == 1).values(last_hash=bindparam("last"))
_CTE_ROWS = 100  # more entries at once (never from a request): the two statements


@functools.lru_cache(maxsize=_CTE_ROWS)
def _insert_and_move(n: int) -> Update:
    """``n`` entries inserted and the head moved in one statement (PostgreSQL): ``WITH
    inserted AS (INSERT ... SELECT ... [UNION ALL SELECT ...]) UPDATE audit_head ...``.
    Entry i's fields are the parameters "<column>_<i>". Built once per number of entries,
    and kept in SQLAlchemy's statement cache (an INSERT of several VALUES rows is not)."""
    columns = list(AuditEvent.__table__.columns)
    rows = [select(*(bindparam(f"{column.name}_{i}", type_=column.type) for column in columns))
            for i in range(n)]
    inserted = insert(AuditEvent).from_select(columns, union_all(*rows) if n > 1 else rows[0])
    return _MOVE_HEAD.add_cte(inserted.cte("inserted"))


@event.listens_for(Session, "after_commit")
def _anchor_committed(db: Session) -> None:
    """The transaction's last entry is committed: the anchor may note it (no SQL)."""
    pending = db.info.pop(PENDING, None)
    if pending is None:
        return
    found = db.info.get(TRAIL) or _TRAIL
    if isinstance(found, Trail) and found.anchor is not None:
        found.anchor.committed(*pending)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(db: Session) -> None:
    db.info.pop(PENDING, None)


# --- reads: appended together (group commit) -----------------------------------------------


class _Waiting:
    __slots__ = ("fields", "done", "error", "lead")

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.lead = False  # set with ``done`` when this thread is to write the next batch


class NotAppended(RuntimeError):
    """The entry could not be committed (the batch it was in failed, or no turn came)."""


class GroupCommit:
    """Entries that need no other write of their own (reads), each committed before its
    caller goes on, together with those other threads of the process append meanwhile.

    The first caller leads: it takes every waiting entry, appends them in its own database
    session's transaction (which has written nothing else: ``append``) and commits; the
    others wait. After its batch the leader hands the lead to the first entry that came in
    meanwhile, so nobody writes more than one batch, and a process without concurrent reads
    appends and commits each entry as a direct append does."""

    WAIT = 60.0  # longer than SQLite's busy timeout: a stuck batch fails before this

    def __init__(self) -> None:
        self.pid = os.getpid()  # a forked worker makes its own (its lock, its queue)
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._leading = False

    def append(self, db: Session, fields: dict[str, Any]) -> None:
        """Append one entry (from ``entry``) and return once it is committed; raises
        ``NotAppended`` when it was not. ``db``'s transaction must not have written
        anything: if this caller leads, it commits the batch."""
        me = _Waiting(fields)
        with self._lock:
            self._queue.append(me)
            me.lead = not self._leading
            self._leading = True
        if not me.lead and not me.done.wait(self.WAIT):
            self._give_up(me)
        if me.lead:  # first in, or handed the lead
            self._write_batch(db)
        if me.error is not None:
            raise NotAppended("the audit batch was not committed") from me.error

    def _give_up(self, me: _Waiting) -> None:
        """No batch committed ``me`` in time: out of the queue, so that the lead is never
        handed to it (nobody would write the next batch: every later read of the process
        would wait in vain) and no later batch writes the entry of a page not sent. Goes
        on as usual when it was handed the lead or its batch ended meanwhile; raises
        otherwise (a batch still writing it may yet commit it: a read too many is
        recorded, never one too few)."""
        with self._lock:
            if me.lead or me.done.is_set():
                return
            if me in self._queue:
                self._queue.remove(me)
        raise NotAppended("no audit batch committed this entry in time")

    def _write_batch(self, db: Session) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        error: BaseException | None = None
        try:
            append_many(db, [waiting.fields for waiting in batch])
            db.commit()
        except BaseException as exc:  # every waiter learns; the lead is handed on below
            error = exc
            db.rollback()
        finally:
            # also when the rollback itself fails: nobody is left waiting for this batch
            with self._lock:
                if self._queue:
                    following = self._queue[0]
                    following.lead = True
                    following.done.set()
                else:
                    self._leading = False
            for waiting in batch:
                waiting.error = error
                waiting.lead = False
                waiting.done.set()
        if error is not None and not isinstance(error, Exception):
            raise error  # KeyboardInterrupt, SystemExit: not ours to swallow


# --- verification --------------------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    seq: int
    reason: str  # Dutch, for ``meldroute audit verify``


class _Walk:
    """The chain entry by entry: order, links, chain values, and what the anchor says."""

    def __init__(self, key: AuditKey, anchored: Mapping[int, str]) -> None:
        self.key, self.anchored = key, anchored
        self.prev, self.seq, self.count, self.signed = GENESIS, 1, 0, False

    def step(self, e: AuditEvent) -> Broken | None:
        self.count += 1
        if e.seq != self.seq:
            return Broken(self.seq, f"regel {self.seq} ontbreekt (de volgende is {e.seq})")
        if e.prev_hash != self.prev:
            return Broken(e.seq, "sluit niet aan op de regel ervoor")
        if self.signed and entry_mac(e, self.key) != e.hash:
            return Broken(e.seq, "de inhoud of de ketenwaarde is veranderd (de HMAC met de "
                                 "auditsleutel klopt niet)")
        if not self.signed and plain_hash(e) != e.hash:
            return Broken(e.seq, "de inhoud is veranderd")
        if self.anchored.get(e.seq, e.hash) != e.hash:
            return Broken(e.seq, "de ketenwaarde wijkt af van het anker (de keten is "
                                 "herschreven)")
        self.signed = self.signed or e.action == MARKER
        self.prev, self.seq = e.hash, e.seq + 1
        return None

    def end(self, head: AuditHead | None) -> Broken | None:
        last = self.seq - 1
        beyond = [seq for seq in self.anchored if seq > last]
        if beyond:
            return Broken(last + 1, f"regels {last + 1}–{max(beyond)} staan in het anker maar "
                                    "ontbreken in de database (het logboek is ingekort)")
        if self.count and not self.signed:
            return Broken(last, f"het omschakelpunt naar de auditsleutel ({MARKER}) ontbreekt")
        if head is not None and (head.seq != last or head.last_hash != self.prev):
            return Broken(last if self.count else 1,
                          "het logboek eindigt vóór zijn vastgelegde einde (regels verwijderd)")
        return None


def verify(db: Session, key: AuditKey | None = None,
           anchored: Mapping[int, str] | None = None) -> tuple[int, Broken | None]:
    """(entries checked, the first broken entry or None). ``anchored``: the chain values
    the anchor names by sequence number (``audit_anchor.read``); the key defaults to the
    configured one."""
    walk = _Walk(key or trail_of(db).key, anchored or {})
    for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(1000):
        broken = walk.step(e)
        if broken is not None:
            return walk.count, broken
    return walk.count, walk.end(db.get(AuditHead, 1))


def last_committed(db: Session) -> tuple[int, str] | None:
    """The newest committed entry's (sequence number, chain value), for a checkpoint."""
    row = db.execute(select(AuditEvent.seq, AuditEvent.hash)
                     .order_by(AuditEvent.seq.desc()).limit(1)).first()
    return None if row is None else (row.seq, row.hash)


def signed_entries(db: Session) -> bool:
    """Whether entries after the marker exist (they need the audit key to be checked)."""
    marker = db.scalar(select(AuditEvent.seq).where(AuditEvent.action == MARKER)
                       .order_by(AuditEvent.seq).limit(1))
    newest = last_committed(db)
    return marker is not None and newest is not None and newest[0] > marker
