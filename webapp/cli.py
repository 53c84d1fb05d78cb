"""The ``meldroute`` command: the engine's commands and the web side's.

The engine's commands (``check``, ``decide``, ``graph``) come from
``meldroute.engine.cli``. The web commands are listed here with their help; the module
that defines a web command's arguments and runs it (``webapp/cli_<subject>.py``) is imported
only when that command is chosen, so engine commands start without Flask or SQLAlchemy.
Each ``cli_<subject>.py`` (users, school_files, audit_keys, server, backup, dossiers,
purge) has ``PARSERS``: a web command's name and the function that adds its arguments
and sub-commands to its parser.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from meldroute.engine import cli as engine_cli

# command: (the module meldroute.webapp.cli_<subject> that has it, its help)
WEB_COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("server", "start de webapp (waitress)"),
    "db": ("server", "database"),
    "user": ("users", "accounts"),
    "audit": ("audit_keys", "het logboek"),
    "keys": ("audit_keys", "encryptiesleutels"),
    "school": ("school_files", "schoolconfiguraties (in de database)"),
    "board": ("school_files", "schoolbesturen en hun standaardinstellingen"),
    "retention": ("server", "dossiers na hun bewaartermijn verwijderen"),
    "purge": ("purge", "verlopen sessies en oude inlogpogingen verwijderen"),
    "backup": ("backup", "back-up van de database en (apart, versleuteld) de sleutels"),
    "restore": ("backup", "een back-up terugzetten (met --force over bestaande gegevens)"),
    "dossiers": ("dossiers", "open dossiers naar een andere protocolversie"),
    "reminders": ("reminders", "herinneringen mailen: termijnen die binnenkort aflopen of "
                               "verstreken zijn"),
}


def web_commands(chosen: str | None) -> Callable[[Any], None]:
    """Adds every web command to the parser; only the chosen one with its arguments."""
    def add(sub: Any) -> None:
        for name, (module_name, help_text) in WEB_COMMANDS.items():
            parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
            if name == chosen:
                module = importlib.import_module(f"meldroute.webapp.cli_{module_name}")
                module.PARSERS[name](parser)

    return add


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in args if not a.startswith("-")), None)
    if chosen not in WEB_COMMANDS:
        return engine_cli.main(args, web_commands(chosen))
    # a web command: settings, database, keys and files fail with one line, not a traceback
    cli_common = importlib.import_module("meldroute.webapp.cli_common")
    code: int = cli_common.reporting(lambda: engine_cli.main(args, web_commands(chosen)))
    return code


if __name__ == "__main__":
    sys.exit(main())
