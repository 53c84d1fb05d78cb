"""The database remembers the key set it is written with; a start with other keys stops.

Copying ``meldroute.db`` into a new instance used to start with a fresh key: every dossier
page failed and new dossiers were encrypted with the new key. Now the ``key_check`` row
holds the newest key's fingerprint and a known text encrypted with it:

- keys that cannot read that text: the start is refused, one line naming both
  fingerprints;
- no keys configured at all: a new key only for a database without encrypted data;
- a database from before the row existed: its first encrypted values must be readable,
  then the row is written.

``meldroute keys rotate|reencrypt`` rewrites the row with the data (same transaction).

The audit key follows the same rule: made on first start, but never for a database whose
audit trail is already signed with one (``audit_key``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from meldroute.engine import READ, ConfigError, Problem

from . import audit, crypto
from .crypto import AuditKey, EncryptedText, KeyRing, fingerprint
from .models import Base, KeyCheck, utcnow
from .upserts import insert_if_absent

CANARY = "meldroute: deze sleutels lezen deze database"
BACKUP_HELP = "zie docs/backup.md, 'Terugzetten'"


def encrypted_columns() -> list[tuple[str, str]]:
    """(table, column) of every encrypted column of the models."""
    return [(table.name, column.name) for table in Base.metadata.sorted_tables
            for column in table.columns if isinstance(column.type, EncryptedText)]


class KeysDoNotFit(ConfigError):
    """The configured keys cannot read this database (or there are none for it)."""

    def __init__(self, where: str, message: str) -> None:
        # keys that do not fit: the app could not run (exit 2), not a problem in a file
        super().__init__([Problem(where, 1, 1, message, READ)])


def samples(connection: Connection) -> list[str]:
    """The first stored value of every encrypted column (empty: no encrypted data)."""
    found = []
    for table, column in encrypted_columns():
        value = connection.execute(text(
            f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL LIMIT 1")).scalar()
        if value is not None:
            found.append(str(value))
    return found


def where_keys(ring: KeyRing | None, default: str) -> str:
    if ring is None:
        return default
    return "MELDROUTE_KEYS" if ring.source == "env" else ring.source


def check_ring(connection: Connection, ring: KeyRing) -> str | None:
    """None when ``ring`` reads the database; otherwise why not (one Dutch sentence)."""
    row = connection.execute(select(KeyCheck.fingerprint, KeyCheck.canary)
                             .where(KeyCheck.id == 1)).first()
    if row is not None:
        if ring.can_read(row.canary):
            return None
        return (f"de sleutels hier (vingerafdruk {', '.join(ring.fingerprints)}) kunnen "
                f"deze database niet lezen: die is versleuteld met sleutel {row.fingerprint}. "
                f"Zet het sleutelbestand of MELDROUTE_KEYS terug dat bij deze database "
                f"hoort ({BACKUP_HELP})")
    unreadable = [value for value in samples(connection) if not ring.can_read(value)]
    if unreadable:
        return (f"de sleutels hier (vingerafdruk {', '.join(ring.fingerprints)}) kunnen "
                f"de versleutelde gegevens in deze database niet lezen. Zet het "
                f"sleutelbestand of MELDROUTE_KEYS terug dat bij deze database hoort "
                f"({BACKUP_HELP})")
    return None


def has_encrypted_data(connection: Connection) -> bool:
    row = connection.execute(select(KeyCheck.id).where(KeyCheck.id == 1)).first()
    return row is not None or bool(samples(connection))


def verify(db_engine: Engine, ring: KeyRing | None, make_ring: Callable[[], KeyRing],
           key_place: str) -> KeyRing:
    """The ring to use for this database, its fingerprint recorded; or KeysDoNotFit.

    ``ring`` is None when no keys are configured; ``make_ring`` then makes a key, but only
    for a database without encrypted data. ``key_place`` names where keys belong.
    """
    with db_engine.connect() as connection:
        if ring is None:
            if has_encrypted_data(connection):
                raise KeysDoNotFit(key_place, (
                    "geen encryptiesleutel gevonden, maar deze database bevat versleutelde "
                    "gegevens: er wordt geen nieuwe sleutel gemaakt. Zet het sleutelbestand "
                    f"uit de back-up terug of zet MELDROUTE_KEYS ({BACKUP_HELP})"))
            ring = make_ring()
        problem = check_ring(connection, ring)
    if problem is not None:
        raise KeysDoNotFit(where_keys(ring, key_place), problem)
    with Session(db_engine) as db:
        insert_if_absent(db, KeyCheck, row_values(ring), keys=["id"])
        db.commit()
    return ring


def row_values(ring: KeyRing) -> dict[str, object]:
    return {"id": 1, "fingerprint": fingerprint(ring.keys[0]),
            "canary": ring.encrypt(CANARY), "updated_at": utcnow()}


def record(db: Session, ring: KeyRing) -> None:
    """After re-encrypting with ``ring``'s newest key (the caller commits)."""
    values = row_values(ring)
    if not insert_if_absent(db, KeyCheck, values, keys=["id"]):
        found = db.get(KeyCheck, 1)
        assert found is not None
        found.fingerprint = str(values["fingerprint"])
        found.canary = str(values["canary"])
        found.updated_at = utcnow()


def audit_key(db_engine: Engine, instance: Path, check_db: bool = True) -> AuditKey:
    """The configured audit key; a new one only while no entry of the audit trail is
    signed (a new key would make every signed entry look forged)."""
    found = crypto.find_audit_key(instance)
    if found is not None:
        return found
    if check_db:
        with Session(db_engine) as db:
            signed = audit.signed_entries(db)
        if signed:
            raise KeysDoNotFit(str(crypto.audit_key_file(instance)), (
                "geen auditsleutel gevonden, maar het logboek van deze database is ermee "
                "ondertekend: er wordt geen nieuwe gemaakt. Zet het bestand uit de back-up "
                f"terug of zet {crypto.AUDIT_KEY_ENV} ({BACKUP_HELP})"))
    return crypto.load_audit_key(instance)
