"""A content-addressed cache on disk for the command line (``check``, ``decide``, ``diff``,
``graph``): what a command worked out from a file's bytes is kept under a key made of
those bytes' SHA-256 and this engine's fingerprint, so a changed file, schema, engine
module or library version never meets an old result.

What is kept: a parsed file (``source.read_document``), its schema problems
(``source.schema_problems``) and the whole report of ``meldroute check``, the last with a
manifest of every file the check read (path and SHA-256, or that it could not be read),
which is read and hashed again before the report is used. The key of a report also holds
the working folder, the paths asked for, the files found in the folders, the shipped
protocols, ``--min-coverage``, today's date (scenarios without ``today`` use it) and
``MELDROUTE_MAX_FILE_SIZE``.

Off unless a command turns it on (``enable``): the web app and in-process callers never
use it. ``--no-cache`` turns it off for one command. It lives in the user's cache folder
(``platformdirs``: ``$XDG_CACHE_HOME/meldroute`` or ``~/.cache/meldroute`` on Linux), only
when that folder belongs to the user and nobody else may write in it (entries are
pickles). Entries are written to a temporary file and renamed, so commands running at the
same time read a whole entry or none; an entry that cannot be read is a miss. Each kind
keeps its newest ``KEEP`` entries.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import stat
import sys
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

KEEP = 64  # entries per kind
_state = {"enabled": False}
T = TypeVar("T")


def enable(on: bool = True) -> None:
    """Turn the cache on (or off) for this process."""
    _state["enabled"] = on
    directory.cache_clear()


def enabled() -> bool:
    return _state["enabled"] and directory() is not None


@functools.cache
def directory() -> Path | None:
    """The cache folder, made private if new; None when it is not safe or not writable."""
    try:
        import platformdirs

        folder = Path(platformdirs.user_cache_dir("meldroute", appauthor=False))
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except (OSError, ValueError):
        return None
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None  # someone else could plant an entry
    return folder


@functools.cache
def fingerprint() -> str:
    """This engine: its modules, the schemas, Python and the installed libraries."""
    h = hashlib.sha256(sys.version.encode())
    engine = Path(__file__).parent
    for path in sorted(engine.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    schemas = resources.files("meldroute.schemas")
    for entry in sorted(schemas.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            h.update(entry.name.encode() + b"\0" + entry.read_bytes())
    h.update("\0".join(_installed()).encode())
    return h.hexdigest()


def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution, from its ``*.dist-info`` folder's name
    (None if not found): without importing ``importlib.metadata``."""
    prefix = distribution.replace("-", "_").lower() + "-"
    for name in _installed():
        if name.lower().startswith(prefix) and name.endswith(".dist-info"):
            return name[len(prefix):-len(".dist-info")]
    return None


@functools.cache
def _installed() -> list[str]:
    """Every installed distribution with its version, from the names of the ``*.dist-info``
    folders on ``sys.path`` (``holidays-0.60.dist-info``): installing or upgrading any
    library starts a new cache. Listing the folders is much quicker than importing
    ``importlib.metadata``."""
    found = []
    for entry in dict.fromkeys(sys.path):
        try:
            with os.scandir(entry or ".") as names:
                found += [n.name for n in names if n.name.endswith((".dist-info", ".egg-info"))]
        except OSError:  # a zip file, a folder that is not there
            continue
    return sorted(found)


def key(kind: str, parts: Iterable[str | bytes]) -> str:
    """The key of an entry: the kind, the parts (each length-prefixed) and the fingerprint."""
    h = hashlib.sha256(f"{kind}\0{fingerprint()}\0".encode())
    for part in parts:
        data = part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def _entry(kind: str, entry_key: str) -> Path | None:
    folder = directory()
    return None if folder is None else folder / kind / f"{entry_key}.entry"


def load(kind: str, entry_key: str) -> Any:
    """The value stored under the key, or None (a miss, or an entry that cannot be read)."""
    path = _entry(kind, entry_key)
    if path is None or not enabled():
        return None
    try:
        with path.open("rb") as handle:
            stored_key, value = pickle.load(handle)  # noqa: S301 - the user's own folder
    except Exception:  # missing, cut short, another version's classes: recompute
        return None
    return value if stored_key == entry_key else None


def store(kind: str, entry_key: str, value: Any) -> None:
    """Keep ``value`` under the key (atomically); a cache that cannot be written is skipped."""
    path = _entry(kind, entry_key)
    if path is None or not enabled():
        return
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        data = pickle.dumps((entry_key, value), protocol=pickle.HIGHEST_PROTOCOL)
        import tempfile  # only when writing (~10 ms to import)

        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
        _prune(path.parent)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return


def memo(kind: str, parts: Iterable[str | bytes], compute: Callable[[], T]) -> T:
    """``compute()``, kept under ``kind`` and ``parts`` while the cache is on."""
    if not enabled():
        return compute()
    entry = key(kind, parts)
    value = load(kind, entry)
    if value is None:
        value = compute()
        store(kind, entry, value)
    return cast(T, value)


# --- what this command worked out already ---------------------------------------------------

_worked_out: list[dict[tuple[str, Any], Any]] = []


class command:  # noqa: N801 - used as a context manager, reads as a statement
    """``with command():`` — while a command runs, what it works out from the same bytes
    (a file parsed, its schema problems, a protocol built from it) is worked out once,
    also with ``--no-cache`` (``check`` reads the demo school once per scenario file,
    ``decide`` a shipped protocol once per protocol the school follows)."""

    def __enter__(self) -> None:
        _worked_out.append({})

    def __exit__(self, *exc: object) -> None:
        _worked_out.pop()


def once(kind: str, key: Any, compute: Callable[[], T]) -> T:
    """``compute()``, or what it gave for the same kind and key earlier in this command
    (only inside ``command()``; a computation that raises is not kept)."""
    if not _worked_out:
        return compute()
    seen = _worked_out[-1]
    if (kind, key) not in seen:
        seen[(kind, key)] = compute()
    return cast(T, seen[(kind, key)])


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.entry"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)


# --- what a command read ----------------------------------------------------------------------

_reads: list[dict[str, str]] = []
UNREADABLE = "-"


def file_digest(data: bytes | None) -> str:
    return UNREADABLE if data is None else hashlib.sha256(data).hexdigest()


class recording:  # noqa: N801 - used as a context manager, reads as a statement
    """``with recording() as read:`` — every file read inside, path -> SHA-256 of its bytes
    (``UNREADABLE`` when it could not be read)."""

    def __enter__(self) -> dict[str, str]:
        _reads.append({})
        return _reads[-1]

    def __exit__(self, *exc: object) -> None:
        _reads.pop()


def note_read(path: Path | str, data: bytes | None) -> None:
    """Called by ``source.read_text`` for every file it reads (or fails to)."""
    for reads in _reads:
        reads[str(path)] = file_digest(data)
