"""Encryption at rest of a dossier's content (Fernet: AES-128-CBC + HMAC-SHA256).

Keys come from ``MELDROUTE_KEYS`` (comma-separated, newest first) or from a key file
(``MELDROUTE_KEY_FILE``, default ``instance/keys``, one key a line, newest first; created
with a fresh key on first use) — never from the database. ``MultiFernet`` encrypts with
the newest key and reads with all of them, so ``meldroute keys rotate`` can add a key and
re-encrypt while the old one still reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


class KeyError_(Exception):  # noqa: N801 - not the builtin KeyError
    """No usable key, or a value no key can read."""


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[str, ...]  # newest first
    source: str  # "env" or the key file's path

    @property
    def fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(k.encode()) for k in self.keys])

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


def load_keyring(instance: Path) -> KeyRing:
    env = os.environ.get("MELDROUTE_KEYS")
    if env:
        keys = tuple(k.strip() for k in env.split(",") if k.strip())
        source = "env"
    else:
        path = key_file(instance)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(Fernet.generate_key().decode() + "\n")
        keys = tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
        source = str(path)
    if not keys:
        raise KeyError_("no encryption key configured")
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError:
            raise KeyError_(f"an encryption key in {source} is not a Fernet key") from None
    return KeyRing(keys, source)


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
    return KeyRing((new, *ring.keys), ring.source)


_RING: KeyRing | None = None


def configure(ring: KeyRing) -> None:
    global _RING
    _RING = ring


def ring() -> KeyRing:
    if _RING is None:
        raise KeyError_("encryption keys are not configured")
    return _RING


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with the configured key ring before it reaches the database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else ring().encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else ring().decrypt(value)
