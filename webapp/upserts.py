"""Race-free get-or-create: ``INSERT ... ON CONFLICT DO NOTHING``.

Checking for a row and then inserting it loses the race when two requests (or two
processes) do it at once: the second insert breaks a unique constraint. The dialect
inserts of SQLite and PostgreSQL say "insert unless it exists" in one statement; on a
PostgreSQL conflict with a transaction that has not committed yet, the insert waits for it.
Other databases get a savepoint: the insert is tried, and a conflict rolls back only it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def insert_if_absent(db: Session, model: Any, values: Mapping[str, Any],
                     keys: Sequence[str]) -> bool:
    """Insert ``values`` into the table of ``model`` (a mapped class) unless a row with
    the same ``keys`` exists; True when inserted. The caller commits; a concurrent
    insert of the same row is not an error.
    """
    table = model.__table__
    dialect = db.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        # RETURNING says whether a row was inserted: the driver's rowcount does not
        # always (psycopg may give -1 for an INSERT ... ON CONFLICT DO NOTHING)
        statement = insert(table).values(**values).on_conflict_do_nothing(
            index_elements=list(keys)).returning(*(table.c[k] for k in keys))
        return db.execute(statement).first() is not None
    try:
        with db.begin_nested():
            db.execute(table.insert().values(**values))
    except IntegrityError:
        return False
    return True
