"""``meldroute serve``, ``meldroute db upgrade`` and ``meldroute retention``: running the
app, its database, and deleting dossiers past their retention period."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import waitress
from flask import Flask

from meldroute.engine import ConfigError

from . import retention, settings
from .app import create_app
from .cli_common import cli_actor, print_problems, web_app
from .context import db_sessions_of, now_of, registry_of
from .db import head_revision, upgrade
from .demo import ensure_demo_users


def add_serve_parser(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--threads", type=int, default=8)
    serve.add_argument("--demo", action="store_true",
                       help="demo: database aanmaken of bijwerken, demoschool en "
                            "demogebruikers laden")
    serve.set_defaults(func=cmd_serve)


def add_db_parser(db: argparse.ArgumentParser) -> None:
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_upgrade = db_sub.add_parser("upgrade",
                                   help="migraties toepassen op MELDROUTE_DATABASE_URL")
    db_upgrade.set_defaults(func=cmd_db_upgrade)


def add_retention_parser(retention_cmd: argparse.ArgumentParser) -> None:
    retention_cmd.add_argument("--dry-run", action="store_true", help="alleen tonen")
    retention_cmd.set_defaults(func=cmd_retention)


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "serve": add_serve_parser, "db": add_db_parser, "retention": add_retention_parser}


def _safe_url(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    url = settings.database_url()
    if url.startswith("sqlite:///"):
        settings.instance_path().mkdir(parents=True, exist_ok=True)
    upgrade(url)
    print(f"Database {_safe_url(url)} bijgewerkt tot revisie {head_revision()}.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.demo:
        cmd_db_upgrade(args)
    try:
        # demo: plain HTTP on this machine, so the session cookie cannot be Secure
        app = create_app({"DEMO": args.demo, "SESSION_COOKIE_SECURE": not args.demo})
    except ConfigError as err:
        return print_problems(err.problems)
    if args.demo:
        _demo_users(app, args)
    print(f"Meldroute luistert op http://{args.host}:{args.port}/ (stoppen: Ctrl+C)")
    proxy = os.environ.get("MELDROUTE_TRUSTED_PROXY")  # e.g. 127.0.0.1 behind nginx
    extra: dict[str, Any] = {"trusted_proxy": proxy, "trusted_proxy_count": 1,
                             "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto"
                             } if proxy else {}
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads,
                   ident="Meldroute", _quiet=True, **extra)
    return 0


def _demo_users(app: Flask, args: argparse.Namespace) -> None:
    with app.app_context(), db_sessions_of(app)() as db:
        users = ensure_demo_users(db, registry_of(app))
        names = [u.display_name for u in users]
    print("Demo-modus: verzonnen school en gebruikers. Inloggen: open "
          f"http://{args.host}:{args.port}/inloggen en kies een rol "
          f"({', '.join(names)}).")


def cmd_retention(args: argparse.Namespace) -> int:
    with web_app() as app, db_sessions_of(app)() as db:
        now = now_of(app)
        items = retention.due(db, registry_of(app), now)
        for item in items:
            print(f"dossier {item.dossier_id} ({item.school_id}): afgesloten "
                  f"{item.closed_at:%Y-%m-%d}, bewaren tot {item.delete_after:%Y-%m-%d}")
        if args.dry_run:
            print(f"{len(items)} dossier(s) over hun bewaartermijn (niets verwijderd).")
            return 0
        deleted = retention.purge(db, items, now, cli_actor())
    print(f"{deleted} dossier(s) verwijderd.")
    return 0


