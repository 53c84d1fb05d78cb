"""``meldroute purge``: delete expired web sessions and old login attempts (for cron; the
retention run does it too). What is deleted holds no content: session rows past their idle
or absolute timeout, and login attempts older than a day."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable

from flask import Flask
from sqlalchemy.orm import Session

from . import retention
from .cli_common import cli_actor, web_app
from .context import db_sessions_of, now_of


def add_purge_parser(purge: argparse.ArgumentParser) -> None:
    purge.set_defaults(func=cmd_purge)


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {"purge": add_purge_parser}


def purge(app: Flask, db: Session) -> retention.Purged:
    return retention.purge_sign_in(
        db, now_of(app), dt.timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"]),
        dt.timedelta(hours=app.config["ABSOLUTE_TIMEOUT_HOURS"]), cli_actor())


def report(purged: retention.Purged) -> None:
    print(f"{purged.sessions} verlopen sessie(s) en {purged.attempts} oude inlogpoging(en) "
          "verwijderd.")


def cmd_purge(args: argparse.Namespace) -> int:
    with web_app() as app, db_sessions_of(app)() as db:
        report(purge(app, db))
    return 0
