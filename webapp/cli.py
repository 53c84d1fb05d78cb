"""The `meldroute` command: the engine's commands plus ``serve`` and ``db``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
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

    user = sub.add_parser("user", help="accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    add = user_sub.add_parser("add", help="een account toevoegen")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="naam zoals anderen die zien")
    add.add_argument("--school", required=True, help="id van de school")
    add.add_argument("--role", required=True, action="append",
                     help="rol op die school (mag vaker)")
    add.add_argument("--admin", action="store_true", help="mag accounts beheren")
    add.add_argument("--password-stdin", action="store_true",
                     help="wachtwoord van standaardinvoer (anders gevraagd)")
    add.set_defaults(func=cmd_user_add)
    reset = user_sub.add_parser("reset", help="nieuw wachtwoord; 2FA opnieuw instellen")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")
    reset.add_argument("--keep-totp", action="store_true",
                       help="tweestapsverificatie behouden (alleen het wachtwoord)")
    reset.set_defaults(func=cmd_user_reset)

    audit_cmd = sub.add_parser("audit", help="het logboek")
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    verify = audit_sub.add_parser("verify", help="de keten van het logboek controleren")
    verify.set_defaults(func=cmd_audit_verify)

    keys = sub.add_parser("keys", help="encryptiesleutels")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    rotate = keys_sub.add_parser("rotate", help="nieuwe sleutel en alles opnieuw versleutelen")
    rotate.set_defaults(func=cmd_keys_rotate)
    reencrypt = keys_sub.add_parser("reencrypt",
                                    help="alles opnieuw versleutelen met de nieuwste sleutel")
    reencrypt.set_defaults(func=cmd_keys_reencrypt)

    school = sub.add_parser("school", help="schoolconfiguraties (in de database)")
    school_sub = school.add_subparsers(dest="school_command", required=True, metavar="COMMAND")
    s_import = school_sub.add_parser("import", help="een schoolbestand importeren (nieuwe versie)")
    s_import.add_argument("file", type=Path)
    s_import.add_argument("--school", help="alleen als het bestand van deze school is")
    s_import.add_argument("--reason", default="import", help="korte reden van de wijziging")
    s_import.set_defaults(func=cmd_school_import, kind="school")
    s_export = school_sub.add_parser("export", help="de huidige configuratie als YAML")
    s_export.add_argument("school_id")
    s_export.set_defaults(func=cmd_school_export, kind="school")

    board = sub.add_parser("board", help="schoolbesturen en hun standaardinstellingen")
    board_sub = board.add_subparsers(dest="board_command", required=True, metavar="COMMAND")
    b_import = board_sub.add_parser("import", help="een bestuursbestand importeren")
    b_import.add_argument("file", type=Path)
    b_import.add_argument("--reason", default="import")
    b_import.set_defaults(func=cmd_school_import, kind="board", school=None)
    b_export = board_sub.add_parser("export", help="de standaardinstellingen als YAML")
    b_export.add_argument("school_id", metavar="board_id")
    b_export.set_defaults(func=cmd_school_export, kind="board")

    retention = sub.add_parser("retention", help="dossiers na hun bewaartermijn verwijderen")
    retention.add_argument("--dry-run", action="store_true", help="alleen tonen")
    retention.set_defaults(func=cmd_retention)


@contextlib.contextmanager
def _app() -> Iterator[Any]:
    """The app for a command, its database connections closed afterwards."""
    from meldroute.webapp import create_app

    app = create_app()
    try:
        yield app
    finally:
        app.extensions["meldroute.engine"].dispose()


def _password(args: argparse.Namespace) -> str:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Wachtwoord: ")
    if getpass.getpass("Nogmaals: ") != first:
        raise SystemExit("De wachtwoorden zijn niet gelijk.")
    return first


def _cli_audit(session: Any, action: str, detail: str = "", **kwargs: Any) -> None:
    import datetime as dt
    import getpass as gp

    from meldroute.webapp import audit

    audit.append(session, action=action, actor=f"cli:{gp.getuser()}", actor_id=None,
                 address="cli", now=dt.datetime.now(dt.UTC), detail=detail, **kwargs)


def cmd_user_add(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from meldroute.webapp import security
    from meldroute.webapp.models import Membership, User

    with _app() as app:
        registry = app.extensions["meldroute.registry"]
        school = registry.school(args.school)
        if school is None:
            print(f"onbekende school '{args.school}' (bekend: {', '.join(registry.schools)})",
                  file=sys.stderr)
            return 2
        known = list(dict.fromkeys([*registry.protocol_for(school).roles, *school.roles]))
        unknown = [r for r in args.role if r not in known]
        if unknown:
            print(f"onbekende rol {', '.join(unknown)} (bekend: {', '.join(known)})",
                  file=sys.stderr)
            return 2
        password = _password(args)
        problems = security.password_problems(password, [school.name], args.username)
        if problems:
            for p in problems:
                print(p, file=sys.stderr)
            return 2
        with app.extensions["meldroute.sessions"]() as session:
            if session.scalar(select(User).where(User.username == args.username)):
                print(f"gebruiker '{args.username}' bestaat al", file=sys.stderr)
                return 2
            user = User(username=args.username, display_name=args.name, is_admin=args.admin,
                        password_hash=security.hash_password(password))
            for role in args.role:
                user.memberships.append(Membership(school_id=school.id, role=role))
            session.add(user)
            session.flush()
            _cli_audit(session, "user.add", f"user {user.id} {school.id}:{','.join(args.role)}")
            session.commit()
        print(f"Gebruiker {args.username} aangemaakt; tweestapsverificatie wordt bij de eerste "
              "keer inloggen ingesteld.")
        return 0


def cmd_user_reset(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from meldroute.webapp import security
    from meldroute.webapp.models import User
    from meldroute.webapp.sessions import end_sessions

    with _app() as app:
        with app.extensions["meldroute.sessions"]() as session:
            user = session.scalar(select(User).where(User.username == args.username))
            if user is None:
                print(f"onbekende gebruiker '{args.username}'", file=sys.stderr)
                return 2
            password = _password(args)
            problems = security.password_problems(password, [], user.username)
            if problems:
                for p in problems:
                    print(p, file=sys.stderr)
                return 2
            user.password_hash = security.hash_password(password)
            user.must_change_password = True
            if not args.keep_totp:
                user.totp_secret, user.totp_last_step = None, None
            ended = end_web_sessions(session, user.id)
            _cli_audit(session, "user.reset", f"user {user.id}")
            session.commit()
        print(f"Wachtwoord van {args.username} hersteld ({ended} sessie(s) beëindigd); bij de "
              "volgende keer inloggen kiest de gebruiker een eigen wachtwoord"
              + ("." if args.keep_totp else " en stelt 2FA opnieuw in."))
        return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from meldroute.webapp import audit

    with _app() as app:
        with app.extensions["meldroute.sessions"]() as session:
            count, broken = audit.verify(session)
        if broken is not None:
            print(f"Logboek NIET in orde: regel {broken.seq}: {broken.reason}.", file=sys.stderr)
            return 1
        print(f"Logboek in orde: {count} regels, keten klopt.")
        return 0


def _reencrypt(app: Any, ring: Any) -> int:
    from sqlalchemy import text

    count = 0
    with app.extensions["meldroute.sessions"]() as session:
        for table, column, key in (("dossiers", "pupil_name", "id"),
                                   ("dossiers", "pupil_birthdate", "id"),
                                   ("step_records", "data", "id"),
                                   ("users", "totp_secret", "id")):
            rows = session.execute(text(f"SELECT {key}, {column} FROM {table} "
                                        f"WHERE {column} IS NOT NULL")).all()
            for row_id, value in rows:
                session.execute(text(f"UPDATE {table} SET {column} = :v WHERE {key} = :i"),
                                {"v": ring.rotate(value), "i": row_id})
                count += 1
        _cli_audit(session, "keys.reencrypt", f"{count} waarden")
        session.commit()
    return count


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from meldroute.webapp import crypto

    with _app() as app:
        try:
            ring = crypto.add_key(crypto.ring())
        except crypto.KeyError_ as err:
            print(str(err), file=sys.stderr)
            return 2
        crypto.configure(ring)
        count = _reencrypt(app, ring)
        print(f"Nieuwe sleutel toegevoegd aan {ring.source}; {count} waarden opnieuw versleuteld. "
              "De oude sleutel staat er nog (om te lezen); verwijder hem pas als ook de back-ups "
              "zijn vervangen.")
        return 0


def cmd_keys_reencrypt(args: argparse.Namespace) -> int:
    from meldroute.webapp import crypto

    with _app() as app:
        count = _reencrypt(app, crypto.ring())
        print(f"{count} waarden opnieuw versleuteld met de nieuwste sleutel.")
        return 0


def cmd_retention(args: argparse.Namespace) -> int:
    import datetime as dt

    from meldroute.webapp import retention

    with _app() as app:
        now = dt.datetime.now(dt.UTC)
        with app.extensions["meldroute.sessions"]() as session:
            items = retention.due(session, app.extensions["meldroute.registry"], now)
            for item in items:
                print(f"dossier {item.dossier_id} ({item.school_id}): afgesloten "
                      f"{item.closed_at:%Y-%m-%d}, bewaren tot {item.delete_after:%Y-%m-%d}")
            if args.dry_run:
                print(f"{len(items)} dossier(s) over hun bewaartermijn (niets verwijderd).")
                return 0
            import getpass as gp

            deleted = retention.purge(session, items, now, f"cli:{gp.getuser()}")
        print(f"{deleted} dossier(s) verwijderd.")
        return 0


def cmd_school_import(args: argparse.Namespace) -> int:
    """Check a school (or board) file like `meldroute check` does, then store it as a new
    version. Nothing is stored when anything is wrong."""
    import getpass as gp

    from meldroute.engine import read_document, schema_problems
    from meldroute.webapp import configs

    try:
        doc = read_document(args.file)
    except ConfigError as err:
        return _print_problems(err.problems)
    problems = schema_problems(doc, args.kind)
    if problems:
        return _print_problems(problems)
    data = doc.data
    if args.school and data["id"] != args.school:
        return _print_problems([doc.problem(("id",), f"dit bestand is van school "
                                                     f"'{data['id']}', niet van "
                                                     f"'{args.school}'")])
    with _app() as app:
        registry = app.extensions["meldroute.registry"]
        with app.extensions["meldroute.sessions"]() as session:
            check = school_configs.check_school if args.kind == "school" else school_configs.check_board
            problems = check(session, registry.protocols, doc)
            if problems:
                return _print_problems(problems)
            previous = school_configs.latest(session, args.kind, data["id"])
            if previous is not None and school_configs.data_of(previous) == school_configs.normalized(
                    data, args.kind):
                print(f"{data['id']}: ongewijzigd (versie {previous.version}).")
                return 0
            version = school_configs.save(session, args.kind, data["id"], data,
                                   f"cli:{gp.getuser()}", args.reason)
            _cli_audit(session, f"{args.kind}.config", f"{data['id']} versie {version.version}",
                       school_id=data["id"] if args.kind == "school" else None)
            session.commit()
    print(f"{data['id']}: versie {version.version} opgeslagen.")
    return 0


def cmd_school_export(args: argparse.Namespace) -> int:
    from meldroute.webapp import configs

    with _app() as app, app.extensions["meldroute.sessions"]() as session:
        version = school_configs.latest(session, args.kind, args.school_id)
        if version is None:
            print(f"onbekend{'e school' if args.kind == 'school' else ' bestuur'} "
                  f"'{args.school_id}'", file=sys.stderr)
            return 2
        sys.stdout.write(school_configs.export_yaml(school_configs.data_of(version), args.kind))
    return 0


def _print_problems(problems: Any) -> int:
    for problem in problems:
        print(str(problem), file=sys.stderr)
    return 2


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
        # demo: plain HTTP on this machine, so the session cookie cannot be Secure
        app = create_app({"DEMO": args.demo, "SESSION_COOKIE_SECURE": not args.demo})
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
    proxy = os.environ.get("MELDROUTE_TRUSTED_PROXY")  # e.g. 127.0.0.1 behind nginx
    extra: dict[str, Any] = {"trusted_proxy": proxy, "trusted_proxy_count": 1,
                             "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto"
                             } if proxy else {}
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads,
                   ident="Meldroute", _quiet=True, **extra)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return engine_cli.main(argv, add_web_commands)


if __name__ == "__main__":
    sys.exit(main())
