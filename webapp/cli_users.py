"""``meldroute user add`` and ``meldroute user reset``: accounts from the terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import reset, security
from .cli_common import print_problems, read_password, record_cli, web_app
from .context import db_sessions_of, now_of, registry_of
from .models import Membership, User
from .web_sessions import end_web_sessions


def add_user_parser(user: argparse.ArgumentParser) -> None:
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    add = user_sub.add_parser("add", help="een account toevoegen")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="naam zoals anderen die zien")
    add.add_argument("--school", required=True, help="id van de school")
    add.add_argument("--role", required=True, action="append",
                     help="rol op die school (mag vaker)")
    add.add_argument("--email", help="e-mailadres (voor de link bij een herstel)")
    add.add_argument("--admin", action="store_true",
                     help="platformbeheerder: beheert accounts (opent zelf geen dossiers)")
    add.add_argument("--password-stdin", action="store_true",
                     help="wachtwoord van standaardinvoer (anders gevraagd)")
    add.set_defaults(func=cmd_user_add)
    reset = user_sub.add_parser("reset", help="nieuw wachtwoord; 2FA opnieuw instellen")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")
    reset.add_argument("--link", action="store_true",
                       help="geen wachtwoord: een eenmalige link (24 uur) om er zelf een te "
                            "kiezen en 2FA opnieuw in te stellen")
    reset.add_argument("--keep-totp", action="store_true",
                       help="tweestapsverificatie behouden (alleen het wachtwoord)")
    reset.set_defaults(func=cmd_user_reset)


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {"user": add_user_parser}


def cmd_user_add(args: argparse.Namespace) -> int:
    problems = security.account_problems(args.username, args.email, args.name)
    if problems:
        return print_problems(problems)
    with web_app() as app:
        registry = registry_of(app)
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
        password = read_password(args)
        problems = security.password_problems(password, [school.name], args.username)
        if problems:
            return print_problems(problems)
        with db_sessions_of(app)() as db:
            if db.scalar(select(User).where(User.username == args.username)):
                print(f"gebruiker '{args.username}' bestaat al", file=sys.stderr)
                return 2
            user = User(username=args.username, display_name=args.name, is_admin=args.admin,
                        email=args.email, password_hash=security.hash_password(password))
            for role in args.role:
                user.memberships.append(Membership(school_id=school.id, role=role))
            db.add(user)
            db.flush()
            record_cli(app, db, "user.add", f"user {user.id} {school.id}:{','.join(args.role)}")
            db.commit()
        print(f"Gebruiker {args.username} aangemaakt; tweestapsverificatie wordt bij de eerste "
              "keer inloggen ingesteld.")
        return 0


def cmd_user_reset(args: argparse.Namespace) -> int:
    with web_app() as app, db_sessions_of(app)() as db:
        user = db.scalar(select(User).where(User.username == args.username))
        if user is None:
            print(f"onbekende gebruiker '{args.username}'", file=sys.stderr)
            return 2
        if args.link:
            return _reset_link(app, db, user)
        password = read_password(args)
        problems = security.password_problems(password, [], user.username)
        if problems:
            return print_problems(problems)
        user.password_hash = security.hash_password(password)
        user.must_change_password = True
        if not args.keep_totp:
            user.totp_secret, user.totp_last_step = None, None
        ended = end_web_sessions(db, user.id)
        record_cli(app, db, "user.reset", f"user {user.id}")
        db.commit()
    print(f"Wachtwoord van {args.username} hersteld ({ended} sessie(s) beëindigd); bij de "
          "volgende keer inloggen kiest de gebruiker een eigen wachtwoord"
          + ("." if args.keep_totp else " en stelt 2FA opnieuw in."))
    return 0


def _reset_link(app: Flask, db: Session, user: User) -> int:
    """A one-time link instead of a password (the operator passes it on in person)."""
    token = reset.issue(db, user, None, now_of(app))
    ended = end_web_sessions(db, user.id)
    record_cli(app, db, "user.reset", f"user {user.id} link")
    db.commit()
    print(f"Eenmalige link voor {user.display_name} ({ended} sessie(s) beëindigd), "
          f"{reset.RESET_HOURS} uur geldig; zet het adres van de app ervoor:\n"
          f"/wachtwoord-herstellen/{token}")
    return 0
