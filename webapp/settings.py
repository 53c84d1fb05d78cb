"""Settings from the environment (MELDROUTE_*), overridable by create_app(config).

A setting that cannot be used raises ``SettingError`` with one Dutch line that names the
setting and what to fix; the commands print it and exit 2 (never a traceback).
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path


class SettingError(ValueError):
    """A setting (environment, instance folder, secret key) that stops the start."""


def _reason(exc: OSError) -> str:
    return {errno.EACCES: "geen schrijfrechten", errno.EPERM: "geen rechten",
            errno.EROFS: "alleen-lezen bestandssysteem", errno.ENOSPC: "schijf vol",
            errno.ENOTDIR: "een deel van het pad is geen map"}.get(
        exc.errno or 0, exc.strerror or exc.__class__.__name__)


def instance_path() -> Path:
    return Path(os.environ.get("MELDROUTE_INSTANCE", "instance")).resolve()


def database_url(instance: Path | None = None) -> str:
    url = os.environ.get("MELDROUTE_DATABASE_URL")
    if url:
        return url
    instance = instance or instance_path()
    return f"sqlite:///{instance / 'meldroute.db'}"


def writable_folder(folder: Path, what: str) -> None:
    """``folder`` exists (created if need be) and Meldroute may write in it."""
    fix = "geef Meldroute schrijfrechten op die map of kies een andere met MELDROUTE_INSTANCE"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingError(f"{what} {folder} kan niet worden aangemaakt ({_reason(exc)}): "
                           f"{fix}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SettingError(f"{what} {folder} is niet schrijfbaar: {fix}")


def secret_key(instance: Path) -> str:
    """MELDROUTE_SECRET_KEY, or a key generated once into the instance folder; an empty
    or unreadable key file is refused."""
    key = os.environ.get("MELDROUTE_SECRET_KEY")
    if key:
        return key
    path = instance / "secret_key"
    try:
        if not path.exists():
            writable_folder(instance, "de instance-map")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        key = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError as exc:
        raise SettingError(f"{path} is niet leesbaar of niet aan te maken ({_reason(exc)}): "
                           "herstel de rechten of zet MELDROUTE_SECRET_KEY") from None
    if not key:
        raise SettingError(f"{path} is leeg: verwijder het bestand (Meldroute maakt dan een "
                           "nieuwe sleutel; wie ingelogd is, moet opnieuw inloggen) of zet "
                           "MELDROUTE_SECRET_KEY")
    return key


def int_env(name: str, default: int) -> int:
    """A whole number above 0 from the environment (absent or empty: ``default``)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        shown = value if len(value) <= 40 else value[:39] + "…"
        raise SettingError(f"{name} moet een geheel getal groter dan 0 zijn, niet '{shown}'")
    return number


KEPT_PAGES_MAX = 10_000  # pages of about 20 KB: about 200 MB per process


def kept_pages() -> int:
    """MELDROUTE_KEPT_PAGES: how many dossier pages a process keeps (``pagecache``);
    0 keeps none (every view is rendered afresh)."""
    name = "MELDROUTE_KEPT_PAGES"
    value = os.environ.get(name, "").strip()
    if not value:
        return 256
    # (the length first: Python refuses to convert a string of over 4300 digits)
    digits = value.lstrip("0") or "0"
    if not value.isascii() or not value.isdigit() or \
            len(digits) > len(str(KEPT_PAGES_MAX)) or int(digits) > KEPT_PAGES_MAX:
        shown = value if len(value) <= 40 else value[:39] + "…"
        raise SettingError(f"{name} moet een geheel getal van 0 tot en met "
                           f"{KEPT_PAGES_MAX} zijn, niet '{shown}'")
    return int(digits)


def school_paths() -> list[Path] | None:
    """MELDROUTE_SCHOOLS: files or folders of school configurations, ':'-separated."""
    value = os.environ.get("MELDROUTE_SCHOOLS")
    return [Path(p) for p in value.split(os.pathsep) if p] if value else None


def audit_anchor(instance: Path) -> str:
    """MELDROUTE_AUDIT_ANCHOR: the anchor's file (default ``instance/audit_anchor``) or
    ``syslog``."""
    return os.environ.get("MELDROUTE_AUDIT_ANCHOR", "").strip() or str(instance / "audit_anchor")


def audit_anchor_minutes() -> int:
    """MELDROUTE_AUDIT_ANCHOR_MINUTES: the longest a committed entry waits for its
    checkpoint (at most 60: the anchor is written at least hourly)."""
    minutes = int_env("MELDROUTE_AUDIT_ANCHOR_MINUTES", 15)
    if minutes > 60:
        raise SettingError("MELDROUTE_AUDIT_ANCHOR_MINUTES mag hoogstens 60 zijn (het "
                           f"auditanker wordt minstens elk uur geschreven), niet {minutes}")
    return minutes
