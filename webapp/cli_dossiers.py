"""``meldroute dossiers migrate``: open dossiers to another protocol version."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from .cli_common import record_cli, web_app
from .context import db_sessions_of, registry_of, today_of
from .pinning import Move, UnknownVersion, move, plan, target


def add_dossiers_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dossiers_command", required=True, metavar="COMMAND")
    migrate = sub.add_parser(
        "migrate", help="open dossiers naar een andere protocolversie",
        description="Verplaats open dossiers naar een andere versie van hun protocol: alleen "
                    "dossiers waarvan uitkomst en fase niet veranderen (of alle, met "
                    "--force). Elke verplaatsing komt in het logboek.")
    migrate.add_argument("--to", required=True, metavar="VERSION",
                         help="versielabel van het protocol (bijv. 2026.1) of de digest")
    migrate.add_argument("--protocol", metavar="ID",
                         help="protocol-id, als het versielabel bij meer protocollen hoort")
    migrate.add_argument("--dry-run", action="store_true", help="alleen tonen")
    migrate.add_argument("--force", action="store_true",
                         help="ook dossiers waarvan uitkomst of fase verandert")
    migrate.set_defaults(func=cmd_migrate)


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "dossiers": add_dossiers_parser}


def _line(m: Move, moving: bool, dry_run: bool) -> str:
    what = m.error and f"de nieuwe versie kan het niet doorrekenen ({m.error})" or \
        "; ".join(m.changes) or "uitkomst en fase blijven gelijk"
    verdict = ("gaat mee" if dry_run else "verplaatst") if moving else \
        "blijft (--force om toch te verplaatsen)" if m.error is None else "blijft"
    return f"dossier {m.dossier_id} ({m.school_id}), versie {m.old_version}: {what}: {verdict}"


def cmd_migrate(args: argparse.Namespace) -> int:
    with web_app() as app, db_sessions_of(app)() as db:
        registry, today = registry_of(app), today_of(app)
        try:
            to = target(db, registry, args.to, args.protocol)
        except UnknownVersion as err:
            print(str(err), file=sys.stderr)
            return 2
        moves = plan(db, registry, to, today)
        moved = 0
        for m in moves:
            moving = m.safe or (args.force and m.error is None)
            print(_line(m, moving, args.dry_run))
            if moving and not args.dry_run:
                detail = f"protocol {to.id} → {to.version} ({to.digest[:12]})" + (
                    "" if m.safe else " (--force)")

                def audited(m: Move = m, detail: str = detail) -> None:
                    record_cli(app, db, "dossier.migrate", dossier_id=m.dossier_id,
                               school_id=m.school_id, detail=detail)

                move(db, registry, m.dossier_id, to, today, audited)
                moved += 1
    total = sum(m.safe or (args.force and m.error is None) for m in moves)
    print(f"{len(moves)} open dossier(s) op een andere versie dan {to.id} {to.version}; "
          + (f"{total} zou(den) meegaan (niets verplaatst)." if args.dry_run
             else f"{moved} verplaatst."))
    return 0
