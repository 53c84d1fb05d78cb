"""``meldroute serve``, ``meldroute db upgrade`` and ``meldroute retention``: running the
app, its database, and deleting dossiers past their retention period."""

from __future__ import annotations

import argparse
import errno
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

from flask import Flask
from waitress.server import create_server

from . import cli_purge, retention, settings, startup
from .app import create_app
from .cli_common import cli_actor, web_app
from .context import db_sessions_of, now_of, registry_of
from .db import head_revision, upgrade
from .demo import DEMO_SCHOOL, check_demo_database, ensure_demo_users


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


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    url = settings.database_url()
    startup.check_database_folder(url)
    upgrade(url)
    print(f"Database {startup.shown_url(url)} bijgewerkt tot revisie {head_revision()}.")
    return 0


def _listen_failure(exc: OSError | ValueError, host: str, port: int) -> str:
    """Why the server cannot listen on host:port, in Dutch, with what to do."""
    where = f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        return f"onbekend adres '{host}': kies een ander met --host (bijvoorbeeld 127.0.0.1)"
    if isinstance(exc, ValueError):
        return f"ongeldig adres of poort ({where}): kies --host en --port opnieuw"
    if exc.errno == errno.EADDRINUSE:
        return (f"poort {port} op {host} is al in gebruik: stop het programma dat die poort "
                "gebruikt, of kies een andere poort met --port")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (f"geen rechten om op {where} te luisteren (poorten onder 1024 vragen "
                "beheerdersrechten): kies --port 8000 of hoger")
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"adres {host} hoort niet bij deze computer: kies een ander met --host"
    return f"kan niet luisteren op {where} ({exc.strerror or exc}): kies --host of --port"


def _server(app: Flask, args: argparse.Namespace) -> Any:
    """The waitress server, its socket listening already; SystemExit(2) if it cannot."""
    # X-Forwarded-* reach the app untouched: the app believes them only from the proxies
    # in MELDROUTE_TRUSTED_PROXY (hardening.TrustedProxyFix, the same under gunicorn)
    try:
        return create_server(app, host=args.host, port=args.port,
                             threads=args.threads, ident="Meldroute",
                             clear_untrusted_proxy_headers=False)
    except (OSError, ValueError) as exc:
        print(_listen_failure(exc, args.host, args.port), file=sys.stderr)
        raise SystemExit(2) from None


def cmd_serve(args: argparse.Namespace) -> int:
    if args.threads < 1 or not 0 <= args.port <= 65535:
        print("--threads moet 1 of meer zijn en --port tussen 0 en 65535", file=sys.stderr)
        return 2
    if args.demo:  # before anything is upgraded: never a database with real accounts
        check_demo_database(settings.database_url())
        cmd_db_upgrade(args)
    _stop_on_signals()
    # demo: plain HTTP on this machine, so the session cookie cannot be Secure
    app = create_app({"DEMO": args.demo, "SESSION_COOKIE_SECURE": not args.demo})
    if args.demo:
        _demo_users(app, args)
    server = _server(app, args)
    host, port = getattr(server, "effective_host", args.host), \
        getattr(server, "effective_port", args.port)
    try:  # Ctrl+C right after the line is printed stops cleanly too
        print(f"Meldroute luistert op http://{host}:{port}/ (stoppen: Ctrl+C)", flush=True)
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def _stop_on_signals() -> None:
    """Ctrl+C (SIGINT) and SIGTERM (systemd, a container) stop the server cleanly, also
    when it was started with SIGINT ignored or blocked (by a script, a job runner)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def _demo_users(app: Flask, args: argparse.Namespace) -> None:
    with app.app_context(), db_sessions_of(app)() as db:
        users = ensure_demo_users(db, registry_of(app))
        names = [u.display_name for u in users]
    if not names:
        print(f"Demo-modus: de demoschool '{DEMO_SCHOOL}' is niet geladen (MELDROUTE_SCHOOLS), "
              "dus er zijn geen demogebruikers.")
        return
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
        purged = cli_purge.purge(app, db)
    print(f"{deleted} dossier(s) verwijderd.")
    cli_purge.report(purged)
    return 0


