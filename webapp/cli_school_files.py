"""``meldroute school import|export`` and ``meldroute board import|export``: school and
board configurations as YAML files in and out of the database."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from meldroute.engine import ConfigError, read_document, schema_problems

from . import school_configs
from .cli_common import cli_actor, print_problems, record_cli, web_app
from .context import db_sessions_of, registry_of


def add_school_parser(school: argparse.ArgumentParser) -> None:
    school_sub = school.add_subparsers(dest="school_command", required=True, metavar="COMMAND")
    s_import = school_sub.add_parser("import", help="een schoolbestand importeren (nieuwe versie)")
    s_import.add_argument("file", type=Path)
    s_import.add_argument("--school", help="alleen als het bestand van deze school is")
    s_import.add_argument("--reason", default="import", help="korte reden van de wijziging")
    s_import.set_defaults(func=cmd_import, kind="school")
    s_export = school_sub.add_parser("export", help="de huidige configuratie als YAML")
    s_export.add_argument("school_id")
    s_export.set_defaults(func=cmd_export, kind="school")


def add_board_parser(board: argparse.ArgumentParser) -> None:
    board_sub = board.add_subparsers(dest="board_command", required=True, metavar="COMMAND")
    b_import = board_sub.add_parser("import", help="een bestuursbestand importeren")
    b_import.add_argument("file", type=Path)
    b_import.add_argument("--reason", default="import")
    b_import.set_defaults(func=cmd_import, kind="board", school=None)
    b_export = board_sub.add_parser("export", help="de standaardinstellingen als YAML")
    b_export.add_argument("school_id", metavar="board_id")
    b_export.set_defaults(func=cmd_export, kind="board")


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "school": add_school_parser, "board": add_board_parser}


def cmd_import(args: argparse.Namespace) -> int:
    """Check a school (or board) file like `meldroute check` does, then store it as a new
    version. Nothing is stored when anything is wrong."""
    try:
        doc = read_document(args.file)
    except ConfigError as err:
        return print_problems(err.problems)
    problems = schema_problems(doc, args.kind)
    if problems:
        return print_problems(problems)
    data = doc.data
    if args.school and data["id"] != args.school:
        return print_problems([doc.problem(("id",), f"dit bestand is van school "
                                                    f"'{data['id']}', niet van "
                                                    f"'{args.school}'")])
    with web_app() as app, db_sessions_of(app)() as db:
        check = school_configs.check_school if args.kind == "school" \
            else school_configs.check_board
        problems = check(db, registry_of(app).protocols, doc)
        if problems:
            return print_problems(problems)
        previous = school_configs.latest(db, args.kind, data["id"])
        if previous is not None and school_configs.data_of(previous) == \
                school_configs.normalized(data, args.kind):
            print(f"{data['id']}: ongewijzigd (versie {previous.version}).")
            return 0
        version = school_configs.save(db, args.kind, data["id"], data, cli_actor(),
                                      args.reason)
        record_cli(app, db, f"{args.kind}.config", f"{data['id']} versie {version.version}",
                   school_id=data["id"] if args.kind == "school" else None)
        db.commit()
    print(f"{data['id']}: versie {version.version} opgeslagen.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with web_app() as app, db_sessions_of(app)() as db:
        version = school_configs.latest(db, args.kind, args.school_id)
        if version is None:
            print(f"onbekend{'e school' if args.kind == 'school' else ' bestuur'} "
                  f"'{args.school_id}'", file=sys.stderr)
            return 2
        sys.stdout.write(school_configs.export_yaml(school_configs.data_of(version), args.kind))
    return 0
