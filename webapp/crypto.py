"""Encryption at rest of a dossier's content (Fernet: AES-128-CBC + HMAC-SHA256).

Keys come from ``MELDROUTE_KEYS`` (comma-separated, newest first) or from a key file
(``MELDROUTE_KEY_FILE``, default ``instance/keys``, one key a line, newest first; created
with a fresh key on first use) — never from the database. ``MultiFernet`` encrypts with
the newest key and reads with all of them, so ``meldroute keys rotate`` can add a key and
re-encrypt while the old one still reads.

A running server follows the key file: when the file changed (``keys rotate`` in another
process), the next encryption, and a value no key of the ring can read, re-read it. A
database remembers the key set it is written with (``key_check.py``): a start with keys
that cannot read it is refused, and no key is generated for a database that has
encrypted data already.

The audit key (``MELDROUTE_AUDIT_KEY`` or ``MELDROUTE_AUDIT_KEY_FILE``, default
``instance/audit_key``, 0600, made on first start) signs the audit trail's chain and its
anchor (``audit.py``, ``audit_anchor.py``); it, too, never sits in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from .memo import BoundedCache
from .settings import SettingError


class KeyError_(Exception):  # noqa: N801 - not the builtin KeyError
    """No usable key, or a value no key can read."""


def fingerprint(key: str) -> str:
    """A short name of a key that reveals nothing of it (for messages and the database)."""
    return hashlib.sha256(b"meldroute key fingerprint\0" + key.encode()).hexdigest()[:16]


Stamp = tuple[int, int, int]  # a key file's (inode, size, mtime in ns)


def _stamp(path: Path) -> Stamp | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_ino, found.st_size, found.st_mtime_ns


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[str, ...]  # newest first
    source: str  # "env" or the key file's path
    stamp: Stamp | None = None  # the key file as it was when read

    @cached_property
    def fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(k.encode()) for k in self.keys])

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(fingerprint(k) for k in self.keys)

    def changed_on_disk(self) -> bool:
        return self.source != "env" and _stamp(Path(self.source)) != self.stamp

    def can_read(self, token: str) -> bool:
        try:
            self.decrypt(token)
        except KeyError_:
            return False
        return True

    def encrypt(self, text: str) -> str:
        return self.fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self.fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise KeyError_("a stored value cannot be read with the configured keys") from None

    def rotate(self, token: str) -> str:
        return self.fernet.rotate(token.encode("ascii")).decode("ascii")


def key_file(instance: Path) -> Path:
    return Path(os.environ.get("MELDROUTE_KEY_FILE") or instance / "keys")


def create_key_file(path: Path, key: str | None = None) -> None:
    """A key file (0600) with one fresh key; a file made meanwhile by another process is
    kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write((key or Fernet.generate_key().decode()) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(tmp, path)  # appears complete, or not at all (never overwrites)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def find_keyring(instance: Path) -> KeyRing | None:
    """The configured keys (``MELDROUTE_KEYS`` or the key file); None when there are none.
    Never makes a key: ``key_check.py`` decides whether a database may get a new one."""
    env = os.environ.get("MELDROUTE_KEYS")
    if env:
        return _checked(tuple(k.strip() for k in env.split(",") if k.strip()), "env", None)
    path = key_file(instance)
    return read_key_file(path) if path.exists() else None


def load_keyring(instance: Path) -> KeyRing:
    """The configured keys; a new key file with a fresh key when there are none."""
    found = find_keyring(instance)
    if found is None:
        create_key_file(key_file(instance))
        found = read_key_file(key_file(instance))
    return found


def read_key_file(path: Path) -> KeyRing:
    stamp = _stamp(path)
    keys = tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
    return _checked(keys, str(path), stamp)


def _checked(keys: tuple[str, ...], source: str, stamp: Stamp | None) -> KeyRing:
    if not keys:
        raise KeyError_("no encryption key configured")
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError:
            raise KeyError_(f"an encryption key in {source} is not a Fernet key") from None
    return KeyRing(keys, source, stamp)


def add_key(ring: KeyRing) -> KeyRing:
    """A new newest key, written to the key file (keys from the environment: refused)."""
    if ring.source == "env":
        raise KeyError_("MELDROUTE_KEYS comes from the environment: put a new key first "
                        "there (Fernet.generate_key()) and run 'meldroute keys reencrypt'")
    new = Fernet.generate_key().decode()
    path = Path(ring.source)
    tmp = path.with_suffix(".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join((new, *ring.keys)) + "\n")
    tmp.replace(path)
    return KeyRing((new, *ring.keys), ring.source, _stamp(path))


# --- the audit key: signs the audit trail's chain and its anchor (audit.py) ------------------

AUDIT_KEY_ENV = "MELDROUTE_AUDIT_KEY"


class AuditKeyError(SettingError):
    """The audit key (file or MELDROUTE_AUDIT_KEY) is not a key: one Dutch line, exit 2."""


@dataclass(frozen=True)
class AuditKey:
    """The secret (32 random bytes, hex in its file) behind the audit trail's HMACs."""

    secret: bytes = field(repr=False)
    source: str  # "env" or the key file's path

    def mac(self, purpose: bytes, data: bytes) -> str:
        """HMAC-SHA256 of ``data``; ``purpose`` keeps entries and anchor lines apart."""
        return hmac.new(self.secret, purpose + b"\0" + data, hashlib.sha256).hexdigest()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.secret.hex())

    @property
    def place(self) -> str:
        return AUDIT_KEY_ENV if self.source == "env" else self.source


def audit_key_file(instance: Path) -> Path:
    return Path(os.environ.get("MELDROUTE_AUDIT_KEY_FILE") or instance / "audit_key")


def _audit_key(text: str, source: str) -> AuditKey:
    where = AUDIT_KEY_ENV if source == "env" else f"het auditsleutelbestand {source}"
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        secret = b""
    if len(secret) < 32:
        raise AuditKeyError(f"{where} bevat geen auditsleutel (64 hexadecimale tekens): zet "
                            "de sleutel uit je back-up terug")
    return AuditKey(secret, source)


def find_audit_key(instance: Path) -> AuditKey | None:
    """``MELDROUTE_AUDIT_KEY`` or the audit key file; None when there is none (never
    makes one: ``key_check.audit_key`` decides)."""
    env = os.environ.get(AUDIT_KEY_ENV)
    if env:
        return _audit_key(env, "env")
    path = audit_key_file(instance)
    if not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise AuditKeyError(f"het auditsleutelbestand {path} is niet leesbaar "
                            f"({exc.__class__.__name__}): herstel het bestand of de rechten "
                            "erop") from None
    return _audit_key(text, str(path))


def load_audit_key(instance: Path) -> AuditKey:
    """The audit key; a new key file (0600) with a fresh key when there is none."""
    found = find_audit_key(instance)
    if found is None:
        create_key_file(audit_key_file(instance), secrets.token_hex(32))
        found = find_audit_key(instance)
    assert found is not None
    return found


_RING: KeyRing | None = None
_RELOAD_LOCK = threading.Lock()


def configure(ring: KeyRing) -> None:
    global _RING
    _RING = ring


def ring() -> KeyRing:
    if _RING is None:
        raise KeyError_("encryption keys are not configured")
    return _RING


def fresh_ring() -> KeyRing:
    """The configured ring, re-read first when its key file changed on disk (a rotation
    by ``meldroute keys rotate`` while this server runs)."""
    global _RING
    current = ring()
    if not current.changed_on_disk():
        return current
    with _RELOAD_LOCK:
        if _RING is not None and _RING.changed_on_disk():
            try:
                _RING = read_key_file(Path(current.source))
            except (KeyError_, OSError):
                pass  # gone or broken: keep the keys that worked
        return ring()


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with the configured key ring before it reaches the database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else fresh_ring().encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        current = ring()
        try:
            return READ.get((current.keys, value), lambda: current.decrypt(value))
        except KeyError_:  # written with a key this process has not read yet?
            return fresh_ring().decrypt(value)


# Values read again (a step's newest version on every view of its dossier) are not
# decrypted again: a Fernet token authenticates its content, so (the keys, the stored
# token) always gives the same text; a new version, or a rotated ring, is another key.
# What is kept is what this process decrypted anyway; bounded, least recently used out.
READ: BoundedCache[tuple[tuple[str, ...], str], str] = BoundedCache(1024)
