"""The checks of ``meldroute check`` on files that could be read: schemas and semantic
checks, the rule graph (``routegraph.py``), every reachable state (``enumerate.py``), the
scenarios and their branch coverage (``scenarios.py``). ``check.py`` chooses the files and
keeps the report in the cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from . import checkparallel
from .check import kind_of
from .checkreport import CheckReport, Coverage
from .enumerate import enumerate_combinations
from .errors import ConfigError, Problem
from .loader import (
    protocol_from_document,
    school_from_document,
    shipped_protocol_files,
)
from .model import Protocol
from .routegraph import graph_problems
from .scenarios import all_branches, run_scenarios
from .source import Document, read_document, schema_problems


def read_files(files: Iterable[Path], report: CheckReport) -> dict[str, list[Document]]:
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
    """The schema and semantic checks; the graph and the states come later
    (``_check_route``)."""
    report.ran.append((doc.path, "schema"))
    try:
        protocol = protocol_from_document(doc)
    except ConfigError as err:
        report.problems += err.problems
        return None
    report.ran += [(doc.path, "graph"), (doc.path, "enumeration")]
    return protocol


def _check_route(index: int, protocol: Protocol, report: CheckReport,
                 helper: checkparallel.Helper | None) -> None:
    """The rule graph, and when it has no problems every reachable state: shared with the
    helper process where there is one (``checkparallel.py``)."""
    graph = graph_problems(protocol)
    report.problems += graph
    if graph:
        if helper is not None:
            helper.skip(index)  # the states it began on are not counted
        return
    work = helper.work(index) if helper is not None else None
    if helper is not None and work is not None and work.states:
        enum = helper.enumerate(index, protocol)
    else:
        enum = enumerate_combinations(protocol)
    report.combinations += enum.combinations
    report.problems += enum.problems


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


def run(files: list[Path], problems: list[Problem], min_coverage: float) -> CheckReport:
    """Every check on ``files``. Once they are parsed, a helper process is forked
    (``checkparallel.py``; it inherits the modules loaded and the files parsed) to list the
    reachable states and evaluate them with this process."""
    report = CheckReport(problems=problems)
    docs = read_files(files, report)
    if report.unchecked:
        report.problems.sort()
        return report  # not everything could be read: checking the rest would mislead
    helper = checkparallel.start(files)
    try:
        _run(docs, report, min_coverage, helper)
    finally:
        if helper is not None:
            helper.close()
    report.problems.sort()
    return report


def _run(docs: dict[str, list[Document]], report: CheckReport, min_coverage: float,
         helper: checkparallel.Helper | None) -> None:
    protocols = _shipped_protocols(docs["protocol"])
    checked = []
    for index, doc in enumerate(docs["protocol"]):
        protocol = _check_protocol(doc, report)
        if protocol is not None:
            protocols[protocol.id] = protocol
            checked.append((index, protocol))
    for doc in docs["school"]:
        _check_school(doc, protocols, report)
    _check_scenarios(docs["scenarios"], protocols, report, min_coverage)
    for index, protocol in checked:  # the longest part, last: the helper has begun on it
        _check_route(index, protocol, report, helper)
