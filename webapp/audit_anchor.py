"""The audit trail's anchor: checkpoints of committed entries, outside the database.

A checkpoint names a committed entry's sequence number and chain value. ``meldroute audit
verify`` finds every checkpoint back in the chain, so entries removed at the end (with the
head row updated to match), or a chain recomputed as a whole, no longer pass. Each line
carries an HMAC with the audit key: without the key nobody can add or change one.

The sink (``MELDROUTE_AUDIT_ANCHOR``): a file, appended to by every app process with
O_APPEND and one ``write`` per line (default ``instance/audit_anchor``; put it on storage
all processes share), or ``syslog`` (facility auth; ``audit verify --anker FILE`` then
reads an extract).

When: after a commit, when this process's last checkpoint is older than
``MELDROUTE_AUDIT_ANCHOR_MINUTES`` (default 15, at most 60; a process's first commit at
once); a timer writes what is still waiting when that time is up; and ``meldroute audit
anchor`` (cron, hourly) writes the database's newest committed entry. Only committed
entries are written: a crash between commit and checkpoint leaves the anchor behind the
database, never ahead of it.

``meldroute restore`` writes a restore line: checkpoints before it are history (the gap
it names), the restored chain is anchored from its restore event on.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import syslog
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from flask import Flask

from . import audit, key_check, settings
from .context import db_engine_of, db_sessions_of
from .crypto import AuditKey

log = logging.getLogger(__name__)

PREFIX = "meldroute-auditanker"
PURPOSE = b"meldroute audit anchor"
SYSLOG = "syslog"
TRAIL = "meldroute.audit"  # app.extensions


class Sink(Protocol):
    @property
    def where(self) -> str: ...

    def write(self, line: str) -> None: ...


@dataclass(frozen=True)
class FileSink:
    where: str  # the file's path

    def write(self, line: str) -> None:
        """One ``write`` with O_APPEND: lines of several processes never interleave."""
        fd = os.open(self.where, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, line.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class SyslogSink:
    where: str = SYSLOG

    def write(self, line: str) -> None:
        syslog.openlog("meldroute", syslog.LOG_PID, syslog.LOG_AUTH)
        syslog.syslog(syslog.LOG_NOTICE, line.rstrip("\n"))


def sink_for(setting: str) -> Sink:
    if setting.strip().lower() == SYSLOG:
        return SyslogSink()
    path = Path(setting).expanduser().resolve()
    settings.writable_folder(path.parent, "de map van het auditanker (MELDROUTE_AUDIT_ANCHOR)")
    return FileSink(str(path))


def line(key: AuditKey, record: dict[str, Any]) -> str:
    body = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{PREFIX} {body} {key.mac(PURPOSE, body.encode('ascii'))}\n"


def _moment() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def checkpoint_line(key: AuditKey, seq: int, value: str) -> str:
    return line(key, {"kind": "checkpoint", "seq": seq, "chain": value, "at": _moment(),
                      "pid": os.getpid()})


def restore_line(key: AuditKey, entry: tuple[int, str] | None, lost: tuple[int, int] | None,
                 backup: str) -> str:
    """Re-bases the anchor on the restored chain: ``entry`` is its restore event (None when
    the database still needs ``db upgrade``), ``lost`` the entries of before that are gone."""
    return line(key, {"kind": "restore", "seq": entry[0] if entry else None,
                      "chain": entry[1] if entry else None,
                      "lost": list(lost) if lost else None, "backup": backup,
                      "at": _moment()})


def write(sink: Sink, text: str) -> bool:
    """Written, or a warning in the log (the request that triggered it goes on)."""
    try:
        sink.write(text)
    except OSError as exc:
        log.warning("auditanker niet geschreven naar %s: %s", sink.where,
                    exc.strerror or exc.__class__.__name__)
        return False
    return True


class _Later:
    """One thread per process writes the checkpoints that wait for their time (every
    anchor of the process; started again after a fork). What a stopped process leaves
    unwritten is covered by the next checkpoint of any process (a checkpoint vouches for
    every entry before it) or by ``meldroute audit anchor``."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # no lock or thread of the parent

    def _reset(self) -> None:
        self._wake = threading.Condition()
        self._due: dict[int, tuple[float, Anchor]] = {}
        self._pid = 0

    def at(self, due: float, anchor: Anchor) -> None:
        with self._wake:
            if id(anchor) not in self._due:
                self._due[id(anchor)] = (due, anchor)
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="auditanker", daemon=True).start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                now = time.monotonic()
                ready = [a for due, a in self._due.values() if due <= now]
                for anchor in ready:
                    del self._due[id(anchor)]
                if not ready:
                    first = min((due for due, _ in self._due.values()), default=now + 3600)
                    self._wake.wait(first - now)
                    continue
            for anchor in ready:
                try:
                    anchor.flush()
                except Exception:  # noqa: BLE001 - the thread must outlive one bad write
                    log.exception("auditanker: ankerpunt niet geschreven")


LATER = _Later()


@dataclass(eq=False)
class Anchor:
    """Checkpoints of this process's committed entries, at most every ``minutes``."""

    sink: Sink
    key: AuditKey
    minutes: float
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _pending: tuple[int, str] | None = None
    _last: float | None = None  # time.monotonic() of the last checkpoint

    def committed(self, seq: int, value: str) -> None:
        with self._lock:
            if self._pending is None or seq > self._pending[0]:
                self._pending = (seq, value)
            due = 0.0 if self._last is None else self._last + self.minutes * 60
            if due > time.monotonic():
                LATER.at(due, self)
                return
            found, self._pending, self._last = self._pending, None, time.monotonic()
        write(self.sink, checkpoint_line(self.key, *found))

    def flush(self) -> None:
        """What is waiting, now (the process's timer thread)."""
        with self._lock:
            found, self._pending = self._pending, None
            if found is not None:
                self._last = time.monotonic()
        if found is not None:
            write(self.sink, checkpoint_line(self.key, *found))


def install(app: Flask, instance: Path) -> audit.Trail:
    """The audit key (made on first start, never for a chain already signed) and the
    anchor, for every database session of ``app``."""
    try:
        key = key_check.audit_key(db_engine_of(app), instance, app.config["CHECK_DB"])
        setting = app.config.get("AUDIT_ANCHOR") or settings.audit_anchor(instance)
        minutes = app.config.get("AUDIT_ANCHOR_MINUTES")
        if minutes is None:
            minutes = settings.audit_anchor_minutes()
        sink = sink_for(str(setting))
    except Exception:
        db_engine_of(app).dispose()
        raise
    trail = audit.Trail(key, Anchor(sink, key, float(minutes)))
    db_sessions_of(app).configure(info={audit.TRAIL: trail})
    audit.configure(trail)
    app.extensions[TRAIL] = trail
    return trail


# --- reading ---------------------------------------------------------------------------------


@dataclass
class Reading:
    """What the anchor says, for ``audit verify``."""

    anchored: dict[int, str] = field(default_factory=dict)  # since the last restore
    notes: list[str] = field(default_factory=list)  # the gaps restores named
    forged: list[int] = field(default_factory=list)  # line numbers whose HMAC fails
    valid: int = 0
    highest: int | None = None  # the highest sequence number since the last restore


def _parse(text: str, key: AuditKey) -> dict[str, Any] | None:
    """The record of a line; None when its HMAC (or its form) is not right."""
    parts = text[text.index(PREFIX):].split(" ")
    if len(parts) != 3 or key.mac(PURPOSE, parts[1].encode("ascii", "replace")) != parts[2]:
        return None
    try:
        record = json.loads(parts[1])
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _note(record: dict[str, Any]) -> str:
    lost = record.get("lost")
    gap = f": regels {lost[0]}–{lost[1]} van voor de restore ontbreken" if lost else ""
    return f"hersteld uit back-up {record.get('backup')}{gap}"


def read(lines: Iterable[str], key: AuditKey) -> Reading:
    found = Reading()
    for number, text in enumerate(lines, 1):
        if PREFIX not in text:
            continue
        record = _parse(text.rstrip("\n"), key)
        if record is None:
            if text.endswith("\n"):  # else: the last line, cut off by a crash mid-write
                found.forged.append(number)
            continue
        found.valid += 1
        if record.get("kind") == "restore":
            found.anchored.clear()
            found.notes.append(_note(record))
        if isinstance(record.get("seq"), int) and isinstance(record.get("chain"), str):
            found.anchored[record["seq"]] = record["chain"]
    found.highest = max(found.anchored, default=None)
    return found


def read_file(path: Path, key: AuditKey) -> Reading:
    with path.open(encoding="ascii", errors="replace", newline="\n") as handle:
        return read(handle, key)
