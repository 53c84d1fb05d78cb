"""The engine's commands: ``meldroute check``, ``meldroute decide``, ``meldroute graph``.

Exit status, the same for every command: 0 all well; 1 problems found in files that could
be read (YAML syntax, schema, semantics, scenarios), each as ``file:line:col: message``;
2 could not check (a file missing, unreadable, binary, too large or beyond the limits of
``source.py``, nothing to check, bad arguments). Messages are Dutch, one line per problem,
never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import AnswerError, AnswerProblem, ConfigError, Problem, RouteError
from .report import FORMATS

if TYPE_CHECKING:  # each command imports what it needs, so that it starts quickly
    from .evaluate import Evaluation
    from .model import Protocol, SchoolConfig
    from .source import Document

# the formats of ``diff.RENDERERS`` (tests/test_cli_speed.py keeps them equal)
DIFF_FORMATS = ("text", "markdown", "json", "github")
NO_CACHE_HELP = "reken alles opnieuw uit, zonder de cache van eerdere uitkomsten"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is geen datum (JJJJ-MM-DD)") from None


def add_engine_commands(sub: Any) -> None:
    check = sub.add_parser("check", help="controleer protocol, schoolconfiguraties en scenario's")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="bestand of map (standaard: de meegeleverde regels en scholen)")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--min-coverage", type=float, default=100.0, metavar="PCT",
                       help="minimale dekking van vraag/antwoord-paren door scenario's "
                            "(standaard 100)")
    check.add_argument("--no-cache", action="store_true", help=NO_CACHE_HELP)
    check.set_defaults(func=cmd_check, cached=True)

    decide = sub.add_parser("decide", help="reken antwoorden door voor een school")
    decide.add_argument("--school", type=Path, required=True, metavar="FILE")
    decide.add_argument("--answers", required=True, metavar="FILE",
                        help="YAML of JSON: vraag-id: antwoord ('-' leest van standaardinvoer)")
    decide.add_argument("--protocol", type=Path, metavar="FILE",
                        help="protocolbestand (standaard: het protocol van de school)")
    decide.add_argument("--facts", metavar="FILE",
                        help="YAML of JSON: routerende feiten en datums van het dossier "
                             "(feit: waarde, datum: JJJJ-MM-DD)")
    decide.add_argument("--today", type=_date, metavar="JJJJ-MM-DD")
    decide.add_argument("--json", action="store_true", help="uitvoer als JSON")
    decide.add_argument("--no-cache", action="store_true", help=NO_CACHE_HELP)
    decide.set_defaults(func=cmd_decide, cached=True)

    add_diff_command(sub)

    graph = sub.add_parser("graph", help="de route als stroomschema")
    graph.add_argument("--format", choices=("mermaid", "dot", "svg"), default="mermaid")
    graph.add_argument("--protocol", type=Path, metavar="FILE")
    graph.add_argument("--no-cache", action="store_true", help=NO_CACHE_HELP)
    graph.set_defaults(func=cmd_graph, cached=True)


def _fail(problems: Sequence[Problem | str], status: int | None = None) -> int:
    """Print the problems on standard error; 2 if a file could not be read, else 1."""
    from .source import exit_status, format_problem

    for p in problems:
        print(format_problem(p) if isinstance(p, Problem) else p, file=sys.stderr)
    return status or exit_status(p for p in problems if isinstance(p, Problem))


def cmd_check(args: argparse.Namespace) -> int:
    from .check import run_check
    from .report import RENDERERS

    report = run_check(args.paths or None, min_coverage=args.min_coverage)
    if report.unchecked:  # could not check: no report that could pass for a result
        return _fail(report.unchecked)
    print(RENDERERS[args.format](report))
    return report.exit_status


def _read_answers(path: str) -> tuple[Document, dict[str, str]]:
    from .source import parse_text, read_document, read_stream, show_value

    doc = parse_text(read_stream(sys.stdin, "<stdin>"), "<stdin>") if path == "-" \
        else read_document(path)
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "verwacht een mapping van vraag-id naar antwoord, "
                                            "bijvoorbeeld {sterk_vermoeden: nee}")])
    problems = [doc.problem((q,), f"antwoord op '{q}' moet tekst zijn, gevonden "
                                  f"{show_value(a)}")
                for q, a in doc.data.items() if not isinstance(a, str)]
    if problems:
        raise ConfigError(problems)
    return doc, doc.data


def _read_facts(path: str | None) -> tuple[Document | None, dict[str, str]]:
    from .source import read_document, show_value

    if path is None:
        return None, {}
    doc = read_document(path)
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "verwacht een mapping van feit naar waarde, "
                                            "bijvoorbeeld {melding_gedaan: ja}")])
    problems = [doc.problem((k,), f"'{k}' moet tekst of een datum zijn, gevonden "
                                  f"{show_value(v)}")
                for k, v in doc.data.items() if not isinstance(v, (str, dt.date))]
    if problems:
        raise ConfigError(problems)
    return doc, {k: v.isoformat() if isinstance(v, dt.date) else v
                 for k, v in doc.data.items()}


def cmd_decide(args: argparse.Namespace) -> int:
    from .evaluate import evaluate
    from .loader import load_protocol, load_protocol_by_id, load_school

    doc: Document | None = None
    facts_doc: Document | None = None
    try:
        protocol = load_protocol(args.protocol) if args.protocol else None
        school = load_school(args.school, protocol)
        if protocol is None:
            protocol = load_protocol_by_id(school.protocol)
        doc, answers = _read_answers(args.answers)
        facts_doc, facts = _read_facts(args.facts)
        evaluation = evaluate(protocol, school, answers, args.today, facts)
    except ConfigError as err:
        return _fail(err.problems)
    except AnswerError as err:
        questions = protocol.questions if protocol is not None else {}
        return _fail([_answer_problem(p, doc, facts_doc, questions)
                      for p in err.problems])
    except RouteError as err:
        return _fail([f"{args.answers}: de route heeft hier een fout: {err}"], 1)
    if args.json:
        print(json.dumps(evaluation.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_evaluation(evaluation))
    return 0


def _answer_problem(p: AnswerProblem, answers_doc: Document | None,
                    facts_doc: Document | None, questions: Collection[str]) -> Problem | str:
    doc = answers_doc if p.question in questions or facts_doc is None else facts_doc
    if doc is None:  # pragma: no cover - answers are read before evaluating
        return p.message
    return doc.problem((p.question,), p.message, key=p.answer is None)


def format_evaluation(e: Evaluation) -> str:
    lines = []
    if e.acute:
        lines.append(f"Acuut gevaar: {e.acute.text}")
        lines += [f"  - {p.name}: {p.phone}" for p in e.acute.phones]
    if e.stage_label:
        lines.append(f"Fase: {e.stage_label}")
    if e.outcome:
        lines.append(f"Uitkomst: {e.outcome.text}")
    if e.next_question:
        lines.append(f"Volgende vraag ({e.next_question.label}): {e.next_question.text}")
        lines.append(f"  antwoorden: {', '.join(e.next_question.answers)}")
    lines.append(f"Stap: {e.step}")
    lines.append("Verantwoordelijk: " + ", ".join(r.name for r in e.responsible))
    if e.actions:
        lines.append("Acties:")
        for a in e.actions:
            extra = ""
            if a.contact:
                extra = f" — {a.contact.name}" + (f", tel. {a.contact.phone}"
                                                   if a.contact.phone else "")
            if a.role:
                extra += f" — {a.role.name}"
            lines.append(f"  - {a.text}{extra}")
    if e.contacts:
        lines.append("Contacten:")
        for c in e.contacts:
            lines.append(f"  - {c.name}" + (f": {c.phone}" if c.phone else ""))
    if e.deadlines:
        lines.append("Termijnen:")
        for d in e.deadlines:
            when = ("direct (vandaag)" if d.working_days == 0
                    else f"binnen {d.working_days} werkdagen")
            whose = " (Veilig Thuis)" if d.kind == "veilig_thuis" else ""
            late = ", verlopen" if d.overdue else ""
            lines.append(f"  - {d.label}{whose}: uiterlijk {d.due_text} ({when}{late})")
    lines.append("Waarom: " + e.explanation())
    if e.ignored:
        lines.append("Genegeerd (de route komt niet bij deze vragen): "
                     + ", ".join(f"{i.question}: {i.answer}" for i in e.ignored))
    return "\n".join(lines)


def cmd_graph(args: argparse.Namespace) -> int:
    from . import graph as route_graph
    from .loader import load_protocol

    try:
        protocol = load_protocol(args.protocol)
    except ConfigError as err:
        return _fail(err.problems)
    draw = {"mermaid": route_graph.mermaid, "dot": route_graph.dot, "svg": route_graph.route_svg}
    print(draw[args.format](protocol), end="\n" if args.format != "svg" else "")
    return 0


# --- diff -------------------------------------------------------------------------------------

class _BadInput(Exception):
    """Arguments or a git revision that ``diff`` cannot use (exit 2)."""


def add_diff_command(sub: Any) -> None:
    diff_ = sub.add_parser(
        "diff", help="wat een wijziging aan regels of schoolconfiguratie doet",
        description="Vergelijk twee protocollen of twee schoolconfiguraties: elke bereikbare "
                    "combinatie van antwoorden en feiten door beide. Exit 0: geen verschil "
                    "(of alles goedgekeurd), 1: gedrag of tekst gewijzigd, 2: kon niet "
                    "vergelijken.")
    diff_.add_argument("paths", nargs="+", metavar="PATH",
                       help="OUD NIEUW, of met --git alleen het bestand")
    diff_.add_argument("--git", metavar="REV",
                       help="lees de oude versie van PATH uit git (bijvoorbeeld origin/main)")
    diff_.add_argument("--school", type=Path, metavar="FILE",
                       help="bij protocollen: reken met deze school (standaard: een neutrale)")
    diff_.add_argument("--protocol", type=Path, metavar="FILE",
                       help="bij schoolconfiguraties: dit protocol (standaard: dat van de school)")
    diff_.add_argument("--format", choices=DIFF_FORMATS, default="text")
    diff_.add_argument("--allow", type=Path, metavar="FILE",
                       help="YAML-lijst van goedgekeurde wijzigings-ids")
    diff_.add_argument("--no-cache", action="store_true", help=NO_CACHE_HELP)
    diff_.set_defaults(func=cmd_diff, cached=True)


def _git_document(rev: str, path: str) -> Document:
    """The file at ``path`` as it was in git revision ``rev``."""
    import subprocess

    from .source import parse_text

    where = Path(path).resolve()
    try:
        done = subprocess.run(["git", "-C", str(where.parent), "show", f"{rev}:./{where.name}"],
                              capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise _BadInput(f"git kon niet worden gestart: {err}") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise _BadInput(f"{path}: niet te lezen uit git-revisie '{rev}': "
                        f"{reason[-1] if reason else 'onbekende fout'}")
    return parse_text(done.stdout.decode("utf-8", "surrogateescape"), f"{path}@{rev}")


def _diff_documents(args: argparse.Namespace) -> tuple[Document, Document]:
    from .source import read_document

    if args.git:
        if len(args.paths) != 1:
            raise _BadInput("met --git hoort er precies één bestand bij")
        return _git_document(args.git, args.paths[0]), read_document(args.paths[0])
    if len(args.paths) != 2:
        raise _BadInput("geef twee bestanden: OUD NIEUW (of --git REV BESTAND)")
    return read_document(args.paths[0]), read_document(args.paths[1])


def _pair(doc: Document, args: argparse.Namespace) -> tuple[Protocol, SchoolConfig]:
    from .check import kind_of
    from .loader import (
        load_protocol,
        load_protocol_by_id,
        load_school,
        neutral_school,
        protocol_from_document,
        school_from_document,
    )

    if kind_of(doc) == "protocol":
        protocol = protocol_from_document(doc)
        school = load_school(args.school, protocol) if args.school else neutral_school(protocol)
        return protocol, school
    protocol = load_protocol(args.protocol) if args.protocol else \
        load_protocol_by_id(str(doc.data.get("protocol", "meldcode-onderwijs")), doc) \
        if isinstance(doc.data, dict) else load_protocol()
    return protocol, school_from_document(doc, protocol)


def _allowed_ids(path: Path | None) -> list[str]:
    from .source import read_document

    if path is None:
        return []
    doc = read_document(path)
    data = doc.data.get("allow", []) if isinstance(doc.data, dict) else doc.data
    if not isinstance(data, list):
        raise ConfigError([doc.problem((), "verwacht een lijst van wijzigings-ids, "
                                            "bijvoorbeeld [gedrag-0123456789]")])
    return [str(item.get("id")) if isinstance(item, dict) else str(item) for item in data]


def cmd_diff(args: argparse.Namespace) -> int:
    from .check import kind_of
    from .diff import RENDERERS as DIFF_RENDERERS
    from .diff import diff

    try:
        old_doc, new_doc = _diff_documents(args)
        if kind_of(old_doc) != kind_of(new_doc) or kind_of(old_doc) == "scenarios":
            raise _BadInput(f"{new_doc.path}: vergelijk twee protocollen of twee "
                            "schoolconfiguraties met elkaar")
        allowed = _allowed_ids(args.allow)
        report = diff(_pair(old_doc, args), _pair(new_doc, args), old_doc.data, new_doc.data,
                      old_doc.path, new_doc.path)
    except ConfigError as err:
        return _fail(err.problems, 2)
    except _BadInput as err:
        return _fail([str(err)], 2)
    report.allow(allowed)
    print(DIFF_RENDERERS[args.format](report))
    return report.exit_status


def build_parser(*extensions: Callable[[Any], None]) -> argparse.ArgumentParser:
    """The `meldroute` parser: the engine's commands and those ``extensions`` add."""
    parser = argparse.ArgumentParser(
        prog="meldroute",
        description="Meldroute: de Meldcode huiselijk geweld en kindermishandeling voor scholen.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_engine_commands(sub)
    for extend in extensions:
        extend(sub)
    return parser


def main(argv: Sequence[str] | None = None, *extensions: Callable[[Any], None]) -> int:
    parser = build_parser(*extensions)
    args = parser.parse_args(argv)  # --help ends here, before the engine is loaded
    from . import cache
    from .source import SettingError

    cache.enable(getattr(args, "cached", False) and not getattr(args, "no_cache", False))
    try:
        with cache.command():
            code: int = args.func(args)
    except SettingError as err:
        return _fail([str(err)], 2)
    finally:
        cache.enable(False)  # only for this command, also when called in a process
    return code


if __name__ == "__main__":
    sys.exit(main())
