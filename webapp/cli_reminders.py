"""``meldroute reminders [--dry-run] [--dagen N] [--url URL]``: mail each person their
tasks due within N working days or overdue (for cron, e.g. every working day at 7:00).

Exit status: 0 done (also when mail is not set up: then nothing is sent and the command
says so); 2 a bad setting (``MELDROUTE_SMTP_URL``, no ``--url``/``MELDROUTE_BASE_URL``
while mail is set up, a negative number of days) or a mail the server did not take (the
others were sent; the failed ones are tried again next run).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from . import mail, reminders
from .cli_common import record_cli, web_app
from .context import db_sessions_of, registry_of, today_of


def add_reminders_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true",
                        help="alleen tellen wie een herinnering zou krijgen; niets versturen")
    parser.add_argument("--dagen", type=int, default=None, metavar="N",
                        help="termijnen die binnen N werkdagen aflopen (standaard "
                             f"MELDROUTE_REMINDER_DAYS of {reminders.DEFAULT_DAYS})")
    parser.add_argument("--url", default=None,
                        help="het adres van Meldroute voor de links (standaard "
                             "MELDROUTE_BASE_URL)")
    parser.set_defaults(func=cmd_reminders)


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "reminders": add_reminders_parser}


def _days(args: argparse.Namespace) -> int | None:
    raw = args.dagen if args.dagen is not None else os.environ.get(
        "MELDROUTE_REMINDER_DAYS", reminders.DEFAULT_DAYS)
    try:
        days = int(raw)
    except ValueError:
        return None
    return days if 0 <= days <= 60 else None


def cmd_reminders(args: argparse.Namespace) -> int:
    days = _days(args)
    if days is None:
        print("het aantal werkdagen (--dagen of MELDROUTE_REMINDER_DAYS) moet een getal van "
              "0 tot en met 60 zijn", file=sys.stderr)
        return 2
    try:
        config = mail.settings()
    except mail.MailSettingError as exc:
        print(exc, file=sys.stderr)
        return 2
    base_url = args.url or os.environ.get("MELDROUTE_BASE_URL", "")
    if config is not None and not args.dry_run and not base_url:
        print("geef het adres van Meldroute voor de links in de mail: --url "
              "https://meldroute.example.org of MELDROUTE_BASE_URL", file=sys.stderr)
        return 2
    with web_app() as app, db_sessions_of(app)() as db:
        outcome = reminders.run(db, registry_of(app), today_of(app), days, base_url, config,
                                args.dry_run)
        if not args.dry_run and config is not None:
            record_cli(app, db, "reminders.send", f"{outcome.mails} mails, "
                       f"{outcome.reminders} termijnen, {outcome.failed} mislukt")
            db.commit()
    return _report(outcome, args.dry_run or config is None, config is None)


def _report(outcome: reminders.Outcome, listed: bool, no_mail: bool) -> int:
    if listed:
        for line in outcome.lines:
            print(line)
        print(("Geen mail ingesteld (MELDROUTE_SMTP_URL): niets verstuurd. " if no_mail
               else "Proef (--dry-run): niets verstuurd. ") +
              f"{outcome.mails} persoon/personen met samen {outcome.reminders} termijn(en).")
    else:
        print(f"{outcome.mails} herinnering(en) verstuurd met samen {outcome.reminders} "
              f"termijn(en); {outcome.skipped} vandaag al eerder verstuurd.")
    if outcome.without_address:
        print(f"{outcome.without_address} persoon/personen met termijnen hebben geen "
              "e-mailadres.")
    if outcome.failed:
        print(f"{outcome.failed} mail(s) niet aangenomen door de mailserver; die worden bij "
              "de volgende keer opnieuw geprobeerd", file=sys.stderr)
        return 2
    return 0
