"""``meldroute backup DEST`` and ``meldroute restore SRC``: the database and its keys.

A backup is a folder: the database (SQLite: a copy made with SQLite's online backup API,
consistent while the app writes; PostgreSQL: ``pg_dump --format=custom``), the
encryption keys in a separate file encrypted with a passphrase (scrypt + Fernet; from
``MELDROUTE_BACKUP_PASSPHRASE`` or asked), and ``backup.json`` (what, when, which
revision, the key fingerprint, the database file's SHA-256). Keep the key file apart
from the database (``--keys`` writes it elsewhere): the one is useless without the other.

``restore`` checks the backup, checks that its keys read its data before it writes
anything, refuses to overwrite a database that holds data unless ``--force``, then puts
the database back and adds the backup's keys to the key file (keys already there stay).
The backup's audit key comes along (encrypted with the keys); ``restore`` puts it back,
records a ``backup.restore`` entry naming the entries of before the restore that the
backup lacks, and writes a restore line to the audit anchor, so ``audit verify`` reports
that gap instead of tampering. See docs/backup.md.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import getpass
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from . import audit, audit_anchor, crypto, key_check, settings
from .cli_common import cli_actor
from .db import current_revision, head_revision, make_db_engine

PASSPHRASE_ENV = "MELDROUTE_BACKUP_PASSPHRASE"
MIN_PASSPHRASE = 12
MANIFEST, SQLITE_FILE, PG_FILE, KEYS_FILE = ("backup.json", "meldroute.db",
                                             "meldroute.pgdump", "sleutels.enc")
KEYS_FORMAT = "meldroute-sleutels-1"
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
HELP = "zie docs/backup.md"


class BackupError(Exception):
    """Could not back up or restore: one Dutch line, exit 2."""


def add_backup_parser(backup: argparse.ArgumentParser) -> None:
    backup.add_argument("dest", metavar="DEST", help="een nieuwe of lege map")
    backup.add_argument("--keys", metavar="FILE",
                        help=f"het versleutelde sleutelbestand (standaard DEST/{KEYS_FILE}); "
                             "bewaar het apart van de database")
    backup.set_defaults(func=cmd_backup)


def add_restore_parser(restore: argparse.ArgumentParser) -> None:
    restore.add_argument("src", metavar="SRC", help="de map van 'meldroute backup'")
    restore.add_argument("--keys", metavar="FILE",
                         help=f"het versleutelde sleutelbestand (standaard SRC/{KEYS_FILE})")
    restore.add_argument("--force", action="store_true",
                         help="een database die al gegevens bevat overschrijven")
    restore.set_defaults(func=cmd_restore)


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "backup": add_backup_parser, "restore": add_restore_parser}


def _run(job: Callable[[argparse.Namespace], int], name: str, args: argparse.Namespace
         ) -> int:
    try:
        return job(args)
    except BackupError as err:
        print(f"meldroute {name}: {err}", file=sys.stderr)
        return 2


def cmd_backup(args: argparse.Namespace) -> int:
    return _run(_backup, "backup", args)


def cmd_restore(args: argparse.Namespace) -> int:
    return _run(_restore, "restore", args)


# --- the key file, encrypted with a passphrase --------------------------------------------


def passphrase(confirm: bool) -> str:
    found = os.environ.get(PASSPHRASE_ENV)
    if found is None:
        if not sys.stdin.isatty():
            raise BackupError(f"geen wachtwoordzin: zet {PASSPHRASE_ENV} of start het "
                              "commando in een terminal")
        found = getpass.getpass("Wachtwoordzin voor de sleutels: ")
        if confirm and getpass.getpass("Nogmaals: ") != found:
            raise BackupError("de wachtwoordzinnen zijn niet gelijk")
    if confirm and len(found) < MIN_PASSPHRASE:
        raise BackupError(f"de wachtwoordzin is korter dan {MIN_PASSPHRASE} tekens")
    return found


def _fernet(secret: str, salt: bytes) -> Fernet:
    kdf = Scrypt(salt=salt, length=32, **SCRYPT)
    return Fernet(base64.urlsafe_b64encode(kdf.derive(secret.encode("utf-8"))))


def write_keys(ring: crypto.KeyRing, secret: str, path: Path,
               audit_key: crypto.AuditKey | None = None) -> None:
    salt = os.urandom(16)
    payload: dict[str, Any] = {"keys": list(ring.keys)}
    if audit_key is not None:
        payload["audit_key"] = audit_key.secret.hex()
    token = _fernet(secret, salt).encrypt(json.dumps(payload).encode())
    document = {"format": KEYS_FORMAT, "kdf": "scrypt", **SCRYPT,
                "salt": base64.b64encode(salt).decode(),
                "fingerprints": list(ring.fingerprints), "token": token.decode()}
    _write_private(path, json.dumps(document, indent=2) + "\n")


def read_keys(path: Path, secret: str) -> crypto.KeyRing:
    return read_key_file(path, secret)[0]


def read_key_file(path: Path, secret: str) -> tuple[crypto.KeyRing, str | None]:
    """The encryption keys of a backup and its audit key (hex; None in older backups)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        salt = base64.b64decode(document["salt"])
        token = document["token"].encode()
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise BackupError(f"{path}: geen sleutelbestand van meldroute backup "
                          f"({err.__class__.__name__})") from None
    try:
        payload = json.loads(_fernet(secret, salt).decrypt(token))
    except InvalidToken:
        raise BackupError(f"{path}: verkeerde wachtwoordzin") from None
    return crypto.KeyRing(tuple(payload["keys"]), str(path)), payload.get("audit_key")


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


# --- the database ----------------------------------------------------------------------------


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"{url}: geen databasebestand")
    return Path(database)


def sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: one consistent snapshot, also while the app writes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():  # a dossier database: readable by its owner only, from birth
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(target, 0o600)
    with contextlib.closing(sqlite3.connect(source, timeout=30)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{target}: de kopie is niet in orde (integrity_check)")


def libpq_env(url: str) -> dict[str, str]:
    """The connection for pg_dump/pg_restore, in libpq's variables (no password in ps)."""
    parsed = make_url(url)
    env = dict(os.environ)
    for name, value in (("PGHOST", parsed.host), ("PGPORT", parsed.port),
                        ("PGUSER", parsed.username), ("PGPASSWORD", parsed.password),
                        ("PGDATABASE", parsed.database)):
        if value is not None:
            env[name] = str(value)
    return env


def pg_tool(name: str, manual: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} staat niet op PATH: installeer de PostgreSQL-clientprogramma's "
                          f"(pakket postgresql-client, dezelfde hoofdversie als de server of "
                          f"nieuwer) of doe het zelf: {manual} ({HELP})")
    return found


def run_pg(command: list[str], url: str) -> None:
    done = subprocess.run(command, env=libpq_env(url), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        lines = (done.stderr or "").strip().splitlines() or [f"exit {done.returncode}"]
        raise BackupError(f"{Path(command[0]).name}: {lines[0]}")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def opened(url: str) -> Iterator[Engine]:
    db_engine = make_db_engine(url)
    try:
        yield db_engine
    finally:
        db_engine.dispose()


def holds_data(url: str) -> bool:
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return False
    with opened(url) as db_engine:
        return bool(inspect(db_engine).get_table_names())


# --- backup ----------------------------------------------------------------------------------


def _backup(args: argparse.Namespace) -> int:
    url, instance = settings.database_url(), settings.instance_path()
    ring = crypto.find_keyring(instance)
    if ring is None:
        raise BackupError(f"geen encryptiesleutels gevonden ({crypto.key_file(instance)} of "
                          "MELDROUTE_KEYS)")
    dest = Path(args.dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} bestaat al en is geen lege map")
    keys_path = Path(args.keys) if args.keys else dest / KEYS_FILE
    with opened(url) as db_engine, db_engine.connect() as connection:
        problem = key_check.check_ring(connection, ring)
        revision = current_revision(db_engine)
    if problem is not None:
        raise BackupError(problem)
    secret = passphrase(confirm=True)
    dest.mkdir(parents=True, exist_ok=True)
    database = _dump(url, dest)
    write_keys(ring, secret, keys_path, crypto.find_audit_key(instance))
    manifest = {"format": 1, "made_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": "sqlite" if url.startswith("sqlite") else "postgresql",
                "file": database.name, "sha256": sha256(database), "revision": revision,
                "key_fingerprint": ring.fingerprints[0],
                "keys_file": keys_path.name if keys_path.parent == dest else None}
    _write_private(dest / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    _record(url, instance, "backup.create", f"{manifest['database']} revisie {revision}")
    print(f"Back-up gemaakt in {dest}: database {database.name} "
          f"({database.stat().st_size // 1024} kB, revisie {revision}); sleutels versleuteld "
          f"in {keys_path}. Bewaar de sleutels apart van de database; test het terugzetten "
          f"({HELP}).")
    return 0


def _dump(url: str, dest: Path) -> Path:
    if url.startswith("sqlite"):
        target = dest / SQLITE_FILE
        sqlite_copy(sqlite_path(url), target)
        return target
    target = dest / PG_FILE
    tool = pg_tool("pg_dump", f"pg_dump --format=custom --file {target} DATABASE")
    run_pg([tool, "--format=custom", "--no-owner", "--file", str(target)], url)
    return target


def _record(url: str, instance: Path, action: str, detail: str,
            anchored: bool = True) -> tuple[int, str]:
    """In the audit trail of the database (who made or restored a backup, never content);
    the entry's (sequence number, chain value). ``anchored``: checkpointed at once."""
    from sqlalchemy.orm import Session

    with opened(url) as db_engine:
        key = key_check.audit_key(db_engine, instance)
        anchor = audit_anchor.Anchor(audit_anchor.sink_for(settings.audit_anchor(instance)),
                                     key, 0) if anchored else None
        with Session(db_engine, info={audit.TRAIL: audit.Trail(key, anchor)}) as db:
            entry = audit.append(db, action=action, actor=cli_actor(), actor_id=None,
                                 address="cli", now=dt.datetime.now(dt.UTC), detail=detail)
            found = (entry.seq, entry.hash)
            db.commit()
    return found


# --- restore ---------------------------------------------------------------------------------


def read_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
        database = src / manifest["file"]
    except (OSError, ValueError, KeyError, TypeError):
        raise BackupError(f"{src}: geen back-up van meldroute ({MANIFEST} ontbreekt of is "
                          "onleesbaar)") from None
    if not database.is_file() or sha256(database) != manifest.get("sha256"):
        raise BackupError(f"{database}: ontbreekt of is veranderd sinds de back-up "
                          "(SHA-256 klopt niet)")
    return manifest


def restore_ring(args: argparse.Namespace, src: Path, manifest: dict[str, Any],
                 instance: Path) -> tuple[crypto.KeyRing, crypto.KeyRing | None, str | None]:
    """(the keys to check with, the keys of the backup — None when MELDROUTE_KEYS is set,
    the backup's audit key in hex — None then too, or from a backup without one)."""
    configured = crypto.find_keyring(instance)
    if configured is not None and configured.source == "env":
        return configured, None, None
    keys_path = Path(args.keys) if args.keys else src / (manifest.get("keys_file") or KEYS_FILE)
    if not keys_path.is_file():
        raise BackupError(f"{keys_path}: sleutelbestand niet gevonden (geef het met --keys)")
    backup_keys, audit_hex = read_key_file(keys_path, passphrase(confirm=False))
    kept = tuple(k for k in (configured.keys if configured else ()) if k not in
                 backup_keys.keys)
    return crypto.KeyRing(backup_keys.keys + kept, str(crypto.key_file(instance))), \
        backup_keys, audit_hex


def check_backup_readable(manifest: dict[str, Any], src: Path, ring: crypto.KeyRing) -> None:
    """Before anything is written: do these keys read the backup's data?"""
    if manifest["database"] == "sqlite":
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / SQLITE_FILE
            shutil.copyfile(src / manifest["file"], copy)
            with opened(f"sqlite:///{copy}") as db_engine, db_engine.connect() as connection:
                problem = key_check.check_ring(connection, ring)
    elif manifest.get("key_fingerprint") not in ring.fingerprints:
        problem = (f"de sleutels hier (vingerafdruk {', '.join(ring.fingerprints)}) horen "
                   f"niet bij deze back-up (sleutel {manifest.get('key_fingerprint')})")
    else:
        problem = None
    if problem is not None:
        raise BackupError(problem)


def _restore(args: argparse.Namespace) -> int:
    url, instance, src = settings.database_url(), settings.instance_path(), Path(args.src)
    manifest = read_manifest(src)
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    if manifest.get("database") != kind:
        raise BackupError(f"deze back-up is van {manifest.get('database')}, de database "
                          f"hier is {kind}")
    ring, backup_keys, audit_hex = restore_ring(args, src, manifest, instance)
    check_backup_readable(manifest, src, ring)
    if holds_data(url) and not args.force:
        raise BackupError(f"{url.split('@')[-1]} bevat al gegevens: niets teruggezet. "
                          "Overschrijven: --force (maak eerst een back-up van wat er nu staat)")
    before = entries_before(url, instance)
    _load(url, src / manifest["file"], kind)
    if backup_keys is not None:
        _write_private(Path(ring.source), "\n".join(ring.keys) + "\n")
    notes = restore_audit_key(instance, audit_hex)
    with opened(url) as db_engine:
        with db_engine.connect() as connection:
            problem = key_check.check_ring(connection, ring)
        revision = current_revision(db_engine)
    if problem is not None:
        raise BackupError(problem)
    upgrade = revision != head_revision()
    notes.append(rebase_anchor(url, instance, manifest, before, upgrade))
    print(f"Teruggezet uit {src}: database {url.split('@')[-1]} (revisie {revision}), "
          f"sleutels {'MELDROUTE_KEYS' if backup_keys is None else ring.source}; de sleutels "
          "lezen de gegevens." + (" Voer nu 'meldroute db upgrade' uit." if upgrade else ""))
    for note in notes:
        print(note)
    return 0


# --- the audit trail across a restore ---------------------------------------------------------


def entries_before(url: str, instance: Path) -> int:
    """The highest sequence number of the audit trail a restore replaces: the database's
    (when there is one) or the anchor's, whichever is higher (0: none)."""
    highest = 0
    if holds_data(url):
        try:
            with opened(url) as db_engine, db_engine.connect() as connection:
                highest = int(connection.execute(
                    text("SELECT max(seq) FROM audit_events")).scalar() or 0)
        except SQLAlchemyError:
            pass  # no audit trail (yet) in what is overwritten
    try:
        key = crypto.find_audit_key(instance)
    except crypto.AuditKeyError:
        key = None
    anchor = Path(settings.audit_anchor(instance))
    if key is not None and anchor.is_file():
        with contextlib.suppress(OSError):
            highest = max(highest, audit_anchor.read_file(anchor, key).highest or 0)
    return highest


def restore_audit_key(instance: Path, audit_hex: str | None) -> list[str]:
    """The backup's audit key in place (what its chain is signed with); a different key
    found here, and the anchor it signed, are kept aside. Notes for the terminal."""
    if audit_hex is None:
        return []
    if os.environ.get(crypto.AUDIT_KEY_ENV):
        found = crypto.find_audit_key(instance)
        if found is None or found.secret.hex() != audit_hex:
            return [f"Let op: {crypto.AUDIT_KEY_ENV} is niet de auditsleutel van deze back-up: "
                    "zet die daar, anders meldt 'meldroute audit verify' het logboek als "
                    "gebroken."]
        return []
    path = crypto.audit_key_file(instance)
    try:
        current = crypto.find_audit_key(instance)
    except crypto.AuditKeyError:
        current = None
    if current is not None and current.secret.hex() == audit_hex:
        return []
    notes = []
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    anchor = Path(settings.audit_anchor(instance))
    for old in (path, anchor):
        if old.is_file():
            aside = old.with_name(f"{old.name}.voor-herstel-{stamp}")
            old.rename(aside)
            notes.append(f"De vorige {old.name} staat nu in {aside}.")
    crypto.create_key_file(path, audit_hex)
    return notes


def rebase_anchor(url: str, instance: Path, manifest: dict[str, Any], before: int,
                  upgrade: bool) -> str:
    """The audited restore event and the anchor's restore line: the restored chain
    verifies, with the entries of before the restore that it lacks named as a gap."""
    from sqlalchemy.orm import Session

    with opened(url) as db_engine:
        with Session(db_engine) as db:
            last = db.scalar(text("SELECT max(seq) FROM audit_events")) or 0
        key = key_check.audit_key(db_engine, instance)
    lost = (last + 1, before) if before > last else None
    made = manifest.get("made_at", "?")
    detail = f"hersteld uit back-up {made}" + (
        f": regels {lost[0]}–{lost[1]} van voor de restore ontbreken" if lost else "")
    entry = None if upgrade else _record(url, instance, "backup.restore", detail,
                                         anchored=False)
    sink = audit_anchor.sink_for(settings.audit_anchor(instance))
    if not audit_anchor.write(sink, audit_anchor.restore_line(key, entry, lost, made)):
        return (f"Let op: het auditanker ({sink.where}) kon niet worden bijgewerkt: "
                "'meldroute audit verify' zal het logboek als ingekort melden.")
    return f"Logboek: {detail}."


def _load(url: str, database: Path, kind: str) -> None:
    if kind == "sqlite":
        sqlite_copy(database, sqlite_path(url))
        return
    tool = pg_tool("pg_restore", f"pg_restore --clean --if-exists --no-owner "
                                 f"--dbname DATABASE {database}")
    run_pg([tool, "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "--exit-on-error", "--dbname", make_url(url).database or "", str(database)], url)
