"""The SQLAlchemy engine and database sessions (SQLAlchemy 2), and migrations (Alembic)."""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Update, bindparam, create_engine, event, update
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


def create_sqlite_file(url: str) -> None:
    """A new SQLite database file is made readable by its owner only (0600, like the key
    file); SQLite gives its -wal and -shm files the same mode."""
    if not url.startswith("sqlite"):
        return
    try:
        database = make_url(url).database
    except ArgumentError:
        return
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # the folder check (startup.py) or the connection says why
    os.close(fd)


class WriteTurns:
    """The threads of a process take turns to write to SQLite (issue 13).

    SQLite lets one connection write at a time; the others wait in its busy handler, which
    polls with sleeps of up to 100 ms, so under load a write could wait long after the
    database was free again. Here a connection takes the turn (a lock) at its first write
    and gives it back when it goes back to the pool, which a session does as its
    transaction ends (commit or rollback); the next writer goes at once. The turn belongs
    to the connection, not the thread: another connection's return never gives it away.
    Other processes still meet SQLite's own busy handler. A turn not given within the busy
    timeout is not waited for any longer (logged): SQLite then decides, as it did before.
    """

    WAIT = 15.0  # seconds: SQLite's busy_timeout

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def take(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn.info.get(_TURN) or reads_only(statement):
            return
        if self._lock.acquire(timeout=self.WAIT):
            conn.info[_TURN] = True
        else:
            log.warning("no write turn within %s s: writing without it", self.WAIT)

    def give(self, _dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_TURN, False):
            self._lock.release()

    def install(self, db_engine: Engine) -> None:
        event.listen(db_engine, "before_cursor_execute", self.take)
        event.listen(db_engine.pool, "checkin", self.give)
        event.listen(db_engine.pool, "invalidate", lambda dbapi, record, _exc: self.give(
            dbapi, record))
        _TURNS[db_engine] = self


# each SQLite engine's turns (for the tests)
_TURNS: weakref.WeakKeyDictionary[Engine, WriteTurns] = weakref.WeakKeyDictionary()


_TURN = "meldroute.write_turn"


WROTE = "meldroute.wrote"  # in a connection's info: its transaction has written


def reads_only(statement: str) -> bool:
    """Whether a statement only reads (what takes no write turn and marks no write)."""
    return statement.lstrip()[:6].upper().startswith(("SELECT", "PRAGMA"))


def _note_write(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if not conn.info.get(WROTE) and not reads_only(statement):
        conn.info[WROTE] = True


def _transaction_ended(conn: Any) -> None:
    if not conn.invalidated:  # (an invalidated one has no info; its record starts anew)
        conn.info.pop(WROTE, None)


def note_writes(db_engine: Engine) -> None:
    """Mark a connection whose transaction writes (``wrote``), until it ends."""
    event.listen(db_engine, "before_cursor_execute", _note_write)
    event.listen(db_engine, "commit", _transaction_ended)
    event.listen(db_engine, "rollback", _transaction_ended)
    event.listen(db_engine.pool, "checkin", lambda _dbapi, record: record.info.pop(WROTE, None))


def wrote(session: Session) -> bool:
    """Whether the session's transaction writes anything: changes not yet flushed, or a
    statement that was not a read."""
    return bool(session.new or session.dirty or session.deleted) or (
        session.in_transaction() and bool(session.connection().info.get(WROTE)))


class IdlePing:
    """A pooled connection is pinged (the dialect's ping, as ``pool_pre_ping`` does) only
    when it comes out of the pool after more than ``IDLE`` seconds there (issue 13): a busy
    worker pings nothing; after a quiet spell, a connection the server dropped meanwhile
    (a restart) is replaced before the request uses it. A connection dropped while the
    worker was busy fails at the request's first statement, which is then run once more
    on a fresh connection (``web_sessions``). Following SQLAlchemy's "Disconnect Handling
    - Pessimistic" recipe: a lost connection raises ``DisconnectionError`` in the checkout
    event, on which the pool connects anew."""

    IDLE = 10.0  # seconds
    clock = staticmethod(time.monotonic)

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    def checkin(self, _dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = self.clock()

    def checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)  # None: a new connection
        if since is None or self.clock() - since <= self.IDLE:
            return
        try:
            self.dialect.do_ping(dbapi_connection)
        except self.dialect.loaded_dbapi.Error as exc:
            if self.dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError("the connection was lost while idle") from exc
            raise

    def install(self, db_engine: Engine) -> None:
        event.listen(db_engine.pool, "checkin", self.checkin)
        event.listen(db_engine.pool, "checkout", self.checkout)


_IDLE_SINCE = "meldroute.idle_since"  # in a pooled connection's info: when it went back


def make_db_engine(url: str) -> Engine:
    db_engine = _make_db_engine(url)
    note_writes(db_engine)
    return db_engine


def _make_db_engine(url: str) -> Engine:
    create_sqlite_file(url)
    if url.startswith("sqlite"):
        db_engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(db_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()

        WriteTurns().install(db_engine)
        return db_engine
    db_engine = create_engine(url)
    IdlePing(db_engine.dialect).install(db_engine)
    return db_engine


# PostgreSQL's deadlock_detected and serialization_failure: two writes at the same moment,
# one of which PostgreSQL ended. Nothing of that one was stored and trying again will do:
# not an outage ("niet bereikbaar") but a clash with a colleague's write (a save shows the
# conflict page with its answers as typed; any other write the clash page, errors.py)
CLASHES = frozenset({"40P01", "40001"})


def is_clash(error: BaseException) -> bool:
    return isinstance(error, OperationalError) and \
        getattr(error.orig, "sqlstate", None) in CLASHES


@functools.lru_cache(maxsize=64)  # a handful of (table, columns): built once each
def updating(model: Any, columns: frozenset[str], where: tuple[str, ...] = ("id",)) -> Update:
    """An UPDATE of ``model``'s table setting ``columns`` (parameters named after them)
    in the row whose ``where`` columns equal the parameters ``b_<column>``: for a write
    that goes past the ORM's unit of work (issue 13; the caller renews the revisions a
    page is kept under, ``revisions.py``, and keeps its objects as stored)."""
    table = model.__table__
    return update(table).where(*(table.c[name] == bindparam(f"b_{name}") for name in where)
                               ).values({name: bindparam(name) for name in sorted(columns)})


def make_sessionmaker(db_engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=db_engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    create_sqlite_file(url)
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(db_engine: Engine) -> str | None:
    with db_engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
