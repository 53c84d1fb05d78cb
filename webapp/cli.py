"""The `meldroute` command: the engine's commands plus ``serve`` and ``db``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from meldroute.engine import ConfigError
from meldroute.engine import cli as engine_cli


def add_web_commands(sub: Any) -> None:
    serve = sub.add_parser("serve", help="start de webapp (waitress)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--threads", type=int, default=8)
    serve.add_argument("--demo", action="store_true",
                       help="demo: database aanmaken of bijwerken, demoschool en "
                            "demogebruikers laden")
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_sub.add_parser("upgrade", help="migraties toepassen op MELDROUTE_DATABASE_URL")
    upgrade.set_defaults(func=cmd_db_upgrade)


def _safe_url(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from meldroute.webapp import config
    from meldroute.webapp.db import head_revision, upgrade

    url = config.database_url()
    if url.startswith("sqlite:///"):
        config.instance_path().mkdir(parents=True, exist_ok=True)
    upgrade(url)
    print(f"Database {_safe_url(url)} bijgewerkt tot revisie {head_revision()}.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import waitress

    from meldroute.webapp import create_app
    from meldroute.webapp.demo import ensure_demo_users

    if args.demo:
        cmd_db_upgrade(args)
    try:
        app = create_app({"DEMO": args.demo})
    except ConfigError as err:
        for problem in err.problems:
            print(str(problem), file=sys.stderr)
        return 2
    if args.demo:
        with app.app_context():
            sessions = app.extensions["meldroute.sessions"]
            with sessions() as session:
                users = ensure_demo_users(session, app.extensions["meldroute.registry"])
                names = [u.display_name for u in users]
        print("Demo-modus: verzonnen school en gebruikers. Inloggen: open "
              f"http://{args.host}:{args.port}/inloggen en kies een rol "
              f"({', '.join(names)}).")
    print(f"Meldroute luistert op http://{args.host}:{args.port}/ (stoppen: Ctrl+C)")
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads,
                   ident="Meldroute", _quiet=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return engine_cli.main(argv, add_web_commands)


if __name__ == "__main__":
    sys.exit(main())
