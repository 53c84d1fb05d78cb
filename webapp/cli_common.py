"""What the web commands share: the app with its database, the audit trail's actor,
problems and passwords on the terminal."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from meldroute.engine import Problem, exit_status, format_problem

from . import audit, startup
from .app import create_app
from .context import db_engine_of, now_of


@contextlib.contextmanager
def web_app() -> Iterator[Flask]:
    """The app for a command, its database connections closed afterwards."""
    app = create_app()
    try:
        yield app
    finally:
        db_engine_of(app).dispose()


def cli_actor() -> str:
    return f"cli:{getpass.getuser()}"


def record_cli(app: Flask, db: Session, action: str, detail: str = "", **kwargs: Any
               ) -> None:
    """Append to the audit trail as the person at the terminal (the caller commits)."""
    audit.append(db, action=action, actor=cli_actor(), actor_id=None, address="cli",
                 now=now_of(app), detail=detail, **kwargs)


def print_problems(problems: Iterable[Problem | str]) -> int:
    """Print on standard error; 1 for problems in a file that could be read, else 2."""
    problems = list(problems)
    for problem in problems:
        print(format_problem(problem) if isinstance(problem, Problem) else problem,
              file=sys.stderr)
    if all(isinstance(p, Problem) for p in problems):
        return exit_status(p for p in problems if isinstance(p, Problem))
    return 2


def reporting(command: Callable[[], int]) -> int:
    """Run a web command; a failure that is not a bug (a setting, the database, the keys,
    a file) is printed as one Dutch line with its exit status instead of a traceback."""
    try:
        return command()
    except Exception as exc:  # noqa: BLE001 - explain() picks what it knows, re-raises the rest
        explained = startup.explain(exc)
        if explained is None:
            raise
        lines, status = explained
        for line in lines:
            print(line, file=sys.stderr)
        return status


def read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Wachtwoord: ")
    if getpass.getpass("Nogmaals: ") != first:
        raise SystemExit("De wachtwoorden zijn niet gelijk.")
    return first
