"""``meldroute check``: which files to check, and every check on them.

Schemas and semantic checks first, then the rule graph (``routegraph.py``), every answer
combination (``enumerate.py``), the scenarios and their branch coverage
(``scenarios.py``). Every problem is collected into one ``CheckReport``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .enumerate import enumerate_combinations
from .errors import ConfigError, Problem
from .loader import (
    protocol_from_document,
    school_from_document,
    shipped_dir,
    shipped_protocol_files,
)
from .model import Protocol
from .routegraph import graph_problems
from .scenarios import all_branches, run_scenarios
from .source import READ, Document, display_path, read_document, schema_problems

YAML_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Coverage:
    protocol: str
    covered: list[tuple[str, str]]
    uncovered: list[tuple[str, str]]

    @property
    def percent(self) -> float:
        total = len(self.covered) + len(self.uncovered)
        return 100.0 * len(self.covered) / total if total else 100.0


@dataclass
class CheckReport:
    files: list[str] = field(default_factory=list)
    ran: list[tuple[str, str]] = field(default_factory=list)  # (file, check)
    problems: list[Problem] = field(default_factory=list)
    combinations: int = 0
    scenarios: int = 0
    coverage: list[Coverage] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def unchecked(self) -> list[Problem]:
        """What could not be checked at all (a file not read, a folder with nothing to
        check): `meldroute check` exits 2 and reports only these."""
        return [p for p in self.problems if p.check == READ]

    @property
    def exit_status(self) -> int:
        """0 all well, 1 problems found in the files, 2 something could not be checked."""
        return 2 if self.unchecked else (0 if self.ok else 1)


def default_paths() -> list[Path]:
    return [shipped_dir("rules"), shipped_dir("schools")]


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


def kind_of(doc: Document) -> str:
    data = doc.data
    if isinstance(data, dict) and "scenarios" in data:
        return "scenarios"
    if isinstance(data, dict) and ("rules" in data or "steps" in data):
        return "protocol"
    return "school"


def _read(files: Iterable[Path], report: CheckReport) -> dict[str, list[Document]]:
    """The files parsed and sorted by kind; a file that does not parse is a problem."""
    docs: dict[str, list[Document]] = {"protocol": [], "school": [], "scenarios": []}
    for path in files:
        try:
            doc = read_document(path)
        except ConfigError as err:
            report.files.append(err.problems[0].path)
            report.ran.append((err.problems[0].path, "syntax"))
            report.problems += err.problems
            continue
        report.files.append(doc.path)
        docs[kind_of(doc)].append(doc)
    return docs


def _shipped_protocols(skip: Iterable[Document]) -> dict[str, Protocol]:
    """The shipped protocols (by id) that are not among the files to check."""
    protocols: dict[str, Protocol] = {}
    checked = {Path(doc.path).resolve() for doc in skip}
    for path in shipped_protocol_files():
        if path.resolve() in checked:
            continue  # parsed with the other checked files
        try:
            p = protocol_from_document(read_document(path))
            protocols[p.id] = p
        except ConfigError:
            pass  # a broken shipped file is reported when it is checked itself
    return protocols


def _check_protocol(doc: Document, report: CheckReport) -> Protocol | None:
    report.ran.append((doc.path, "schema"))
    try:
        protocol = protocol_from_document(doc)
    except ConfigError as err:
        report.problems += err.problems
        return None
    report.ran += [(doc.path, "graph"), (doc.path, "enumeration")]
    graph = graph_problems(protocol)
    report.problems += graph
    if not graph:
        enum = enumerate_combinations(protocol)
        report.combinations += enum.combinations
        report.problems += enum.problems
    return protocol


def _check_school(doc: Document, protocols: dict[str, Protocol], report: CheckReport) -> None:
    report.ran.append((doc.path, "schema"))
    problems = schema_problems(doc, "school")
    if problems:
        report.problems += problems
        return
    try:
        school_from_document(doc, protocols)
    except ConfigError as err:
        report.problems += err.problems


def _check_scenarios(docs: Iterable[Document], protocols: dict[str, Protocol],
                     report: CheckReport, min_coverage: float) -> None:
    covered: dict[str, set[tuple[str, str]]] = {}
    for doc in docs:
        report.ran.append((doc.path, "scenario"))
        run = run_scenarios(doc, protocols)
        report.problems += run.problems
        report.scenarios += run.count
        if run.protocol is not None:
            covered.setdefault(run.protocol.id, set()).update(run.covered)
    for protocol_id, pairs in sorted(covered.items()):
        protocol = protocols[protocol_id]
        branches = all_branches(protocol)
        cov = Coverage(protocol_id, [b for b in branches if b in pairs],
                       [b for b in branches if b not in pairs])
        report.coverage.append(cov)
        report.ran.append((protocol.source.path, "coverage"))
        severity = "error" if cov.percent < min_coverage else "warning"
        for q, a in cov.uncovered:
            section, what, value = (("facts", "feit", "waarde") if q in protocol.facts
                                    else ("questions", "vraag", "antwoord"))
            report.problems.append(Problem(
                *(protocol.source.path, *protocol.source.locate(protocol.where(section, q))),
                f"geen scenario dekt {what} '{q}' met {value} '{a}'", "coverage", severity))


def run_check(paths: Iterable[Path] | None = None, min_coverage: float = 100.0
              ) -> CheckReport:
    """Check the files (folders: every YAML/JSON file in them; default: what ships)."""
    report = CheckReport()
    docs = _read(expand(list(paths) if paths else default_paths(), report.problems), report)
    if report.unchecked:
        report.problems.sort()
        return report  # not everything could be read: checking the rest would mislead
    protocols = _shipped_protocols(docs["protocol"])
    for doc in docs["protocol"]:
        protocol = _check_protocol(doc, report)
        if protocol is not None:
            protocols[protocol.id] = protocol
    for doc in docs["school"]:
        _check_school(doc, protocols, report)
    _check_scenarios(docs["scenarios"], protocols, report, min_coverage)
    report.problems.sort()
    return report
