"""Settings from the environment (MELDROUTE_*), overridable by create_app(config)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def instance_path() -> Path:
    return Path(os.environ.get("MELDROUTE_INSTANCE", "instance")).resolve()


def database_url(instance: Path | None = None) -> str:
    url = os.environ.get("MELDROUTE_DATABASE_URL")
    if url:
        return url
    instance = instance or instance_path()
    return f"sqlite:///{instance / 'meldroute.db'}"


def secret_key(instance: Path) -> str:
    """MELDROUTE_SECRET_KEY, or a key generated once into the instance folder."""
    key = os.environ.get("MELDROUTE_SECRET_KEY")
    if key:
        return key
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if number <= 0:
        raise ValueError(f"{name} must be positive, got {number}")
    return number


def school_paths() -> list[Path] | None:
    """MELDROUTE_SCHOOLS: files or folders of school configurations, ':'-separated."""
    value = os.environ.get("MELDROUTE_SCHOOLS")
    return [Path(p) for p in value.split(os.pathsep) if p] if value else None
