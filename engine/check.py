"""``meldroute check``: which files to check, and every check on them.

Schemas and semantic checks first, then the rule graph (``routegraph.py``), every reachable
state (``enumerate.py``), the scenarios and their branch coverage (``scenarios.py``): all in
``checkrun.py``, loaded only when the report is not in the cache (``cache.py``). Every
problem is collected into one ``CheckReport``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from . import cache
from .checkreport import CheckReport, Coverage
from .errors import Problem
from .source import MAX_FILE_ENV, READ, display_path, file_state

if TYPE_CHECKING:
    from .source import Document

__all__ = ["CheckReport", "Coverage", "default_paths", "expand", "kind_of", "run_check"]

YAML_SUFFIXES = (".yaml", ".yml", ".json")


def _shipped(package: str) -> Path:
    return Path(str(resources.files(f"meldroute.{package}")))  # as loader.shipped_dir


def default_paths() -> list[Path]:
    return [_shipped("rules"), _shipped("schools")]


def kind_of(doc: Document) -> str:
    """"protocol", "school" or "scenarios": what a parsed file is."""
    data = doc.data
    if isinstance(data, dict) and "scenarios" in data:
        return "scenarios"
    if isinstance(data, dict) and ("rules" in data or "steps" in data):
        return "protocol"
    return "school"


def _folder_files(folder: Path, problems: list[Problem]) -> list[Path]:
    """The YAML/JSON files in ``folder`` and its subfolders (symbolic links to folders are
    not followed; a link named *.yaml is a file to check, even when it is broken)."""
    found: list[Path] = []
    before = len(problems)

    def unreadable(exc: OSError) -> None:
        problems.append(Problem(display_path(exc.filename or folder), 0, 0,
                                "map niet leesbaar (geen rechten?): niet gecontroleerd", READ))

    for root, dirs, names in os.walk(folder, onerror=unreadable):
        dirs.sort()
        found += [Path(root, n) for n in sorted(names) if Path(n).suffix in YAML_SUFFIXES]
    if not found and len(problems) == before:
        problems.append(Problem(display_path(folder), 0, 0,
                                "geen .yaml-, .yml- of .json-bestanden in deze map: niets te "
                                "controleren", READ))
    return found


def expand(paths: Iterable[Path], problems: list[Problem] | None = None) -> list[Path]:
    """The files to check: each file named, and the YAML/JSON files of each folder named.
    What cannot be looked into is added to ``problems``."""
    problems = [] if problems is None else problems
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += _folder_files(path, problems)
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def run_check(paths: Iterable[Path] | None = None, min_coverage: float = 100.0
              ) -> CheckReport:
    """Check the files (folders: every YAML/JSON file in them; default: what ships).

    With the cache on (``cache.py``, the command line), a report of the same files (every
    file it read has the same bytes), engine, options and day is used again."""
    asked = list(paths) if paths else default_paths()
    problems: list[Problem] = []
    files = expand(asked, problems)
    entry = _report_key(asked, files, min_coverage) if cache.enabled() and not problems \
        else ""
    cached = _cached_report(entry) if entry else None
    if cached is not None:
        return cached
    with cache.recording() as read:
        from .checkrun import run  # forks the helper process (checkparallel.py)

        report = run(files, problems, min_coverage)
    if entry and not report.unchecked:
        cache.store("check", entry, (read, report))
    return report


def _report_key(asked: list[Path], files: list[Path], min_coverage: float) -> str:
    """Everything a report depends on besides the bytes of the files it read (which its
    manifest holds): the engine (in ``cache.key``), the folder it runs in, the paths, the
    files found in folders, the shipped protocols it may fall back on (every YAML file in
    the shipped ``rules`` folder), the options, today and the file size limit."""
    shipped = sorted(p for p in _shipped("rules").rglob("*") if p.suffix in YAML_SUFFIXES)
    return cache.key("check", [os.getcwd(), repr(min_coverage), dt.date.today().isoformat(),
                               os.environ.get(MAX_FILE_ENV, ""), "\0paths",
                               *map(str, asked), "\0files", *map(str, files), "\0shipped",
                               *map(str, shipped)])


def _cached_report(entry: str) -> CheckReport | None:
    """The stored report, if every file it read still has the bytes it had."""
    stored = cache.load("check", entry)
    if not (isinstance(stored, tuple) and len(stored) == 2
            and isinstance(stored[1], CheckReport) and isinstance(stored[0], dict)):
        return None
    manifest: dict[str, str] = stored[0]
    report: CheckReport = stored[1]
    if all(file_state(path) == digest for path, digest in manifest.items()):
        return report
    return None
