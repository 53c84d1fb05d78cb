"""``meldroute audit verify|anchor`` and ``meldroute keys rotate|reencrypt``: the audit
trail's chain and anchor, and the encryption keys."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from . import audit, audit_anchor, crypto, key_check
from .cli_common import record_cli, web_app
from .context import db_sessions_of

# every encrypted column: (table, column, primary key)
ENCRYPTED = tuple((table, column, "id") for table, column in key_check.encrypted_columns())


def add_audit_parser(audit_cmd: argparse.ArgumentParser) -> None:
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    verify = audit_sub.add_parser("verify", help="de keten van het logboek en het anker "
                                                 "controleren")
    verify.add_argument("--anker", metavar="FILE",
                        help="het anker uit dit bestand (bij MELDROUTE_AUDIT_ANCHOR=syslog: "
                             "een uittreksel van de syslog)")
    verify.set_defaults(func=cmd_audit_verify)
    anchor = audit_sub.add_parser("anchor", help="nu een ankerpunt schrijven (cron, elk uur)")
    anchor.set_defaults(func=cmd_audit_anchor)


def add_keys_parser(keys: argparse.ArgumentParser) -> None:
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    rotate = keys_sub.add_parser("rotate", help="nieuwe sleutel en alles opnieuw versleutelen")
    rotate.set_defaults(func=cmd_keys_rotate)
    reencrypt = keys_sub.add_parser("reencrypt",
                                    help="alles opnieuw versleutelen met de nieuwste sleutel")
    reencrypt.set_defaults(func=cmd_keys_reencrypt)


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "audit": add_audit_parser, "keys": add_keys_parser}


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """0 the chain and the anchor hold; 1 the chain is broken or an anchor line forged;
    2 could not check (the database, the keys, the settings — printed by
    ``cli_common.reporting`` — the anchor unreadable, or a key that is not this trail's)."""
    with web_app() as app:
        trail: audit.Trail = app.extensions[audit_anchor.TRAIL]
        with db_sessions_of(app)() as db:
            signed = audit.signed_entries(db)
        reading, where = read_anchor(trail, args.anker, signed)
        if reading is not None and reading.forged and not reading.valid:
            print(f"audit verify: de auditsleutel ({trail.key.place}, vingerafdruk "
                  f"{trail.key.fingerprint}) hoort niet bij het anker {where}: geen enkele "
                  f"ankerregel klopt. Zet de sleutel terug die bij dit logboek hoort "
                  f"({key_check.BACKUP_HELP}).", file=sys.stderr)
            return 2
        with db_sessions_of(app)() as db:
            count, broken = audit.verify(db, trail.key, reading.anchored if reading else {})
        return report(count, broken, reading, where)


def read_anchor(trail: audit.Trail, given: str | None, signed: bool
                ) -> tuple[audit_anchor.Reading | None, str]:
    """The anchor (None: in syslog and no extract given); SystemExit 2 when a file that
    should be there cannot be read."""
    sink = trail.anchor.sink if isinstance(trail.anchor, audit_anchor.Anchor) else None
    if given is None and (sink is None or isinstance(sink, audit_anchor.SyslogSink)):
        return None, "syslog"
    path = Path(given) if given else Path(sink.where if sink else "")
    if not path.exists() and not given and not signed:
        return audit_anchor.Reading(), str(path)  # nothing signed, nothing anchored yet
    try:
        return audit_anchor.read_file(path, trail.key), str(path)
    except OSError as exc:
        print(f"audit verify: het anker {path} is niet te lezen "
              f"({exc.strerror or exc.__class__.__name__}): controleer "
              f"MELDROUTE_AUDIT_ANCHOR of geef het bestand met --anker", file=sys.stderr)
        raise SystemExit(2) from None


def report(count: int, broken: audit.Broken | None, reading: audit_anchor.Reading | None,
           where: str) -> int:
    if reading is not None and reading.forged:
        print(f"Anker NIET in orde: regel {reading.forged[0]} van {where} is niet ondertekend "
              "met de auditsleutel (vervalst of beschadigd).", file=sys.stderr)
        return 1
    if broken is not None:
        print(f"Logboek NIET in orde: regel {broken.seq}: {broken.reason}.", file=sys.stderr)
        return 1
    if reading is None:
        anchored = "anker in syslog niet gecontroleerd (geef een uittreksel met --anker)"
    elif reading.highest is None:
        anchored = f"nog geen ankerpunt in {where}"
    else:
        anchored = f"verankerd tot en met regel {reading.highest} ({where})"
    print(f"Logboek in orde: {count} regels, keten klopt; {anchored}.")
    for note in reading.notes if reading else []:
        print(f"Let op: {note}.")
    return 0


def cmd_audit_anchor(args: argparse.Namespace) -> int:
    """A checkpoint of the newest committed entry now (for cron: at least hourly)."""
    with web_app() as app:
        trail: audit.Trail = app.extensions[audit_anchor.TRAIL]
        with db_sessions_of(app)() as db:
            newest = audit.last_committed(db)
        if newest is None or not isinstance(trail.anchor, audit_anchor.Anchor):
            print("Het logboek is leeg: geen ankerpunt geschreven.")
            return 0
        sink = trail.anchor.sink
        if not audit_anchor.write(sink, audit_anchor.checkpoint_line(trail.key, *newest)):
            print(f"audit anchor: kon niet schrijven naar {sink.where}: controleer "
                  "MELDROUTE_AUDIT_ANCHOR en de rechten", file=sys.stderr)
            return 2
        print(f"Ankerpunt geschreven: regel {newest[0]} naar {sink.where}.")
        return 0


def reencrypt(app: Flask, ring: crypto.KeyRing) -> int:
    """Every encrypted value again with the ring's newest key; how many there were.

    The database's key check is rewritten in the same transaction. A value a running
    server changed meanwhile is left as that server wrote it (it reads the new key file
    before it encrypts), never overwritten with the old value.
    """
    count = 0
    with db_sessions_of(app)() as db:
        for table, column, key in ENCRYPTED:
            rows = db.execute(text(f"SELECT {key}, {column} FROM {table} "
                                   f"WHERE {column} IS NOT NULL")).all()
            for row_id, value in rows:
                db.execute(text(f"UPDATE {table} SET {column} = :v "
                                f"WHERE {key} = :i AND {column} = :old"),
                           {"v": ring.rotate(value), "i": row_id, "old": value})
                count += 1
        key_check.record(db, ring)
        record_cli(app, db, "keys.reencrypt", f"{count} waarden")
        db.commit()
    return count


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    if os.environ.get("MELDROUTE_KEYS"):
        print("de sleutels komen uit MELDROUTE_KEYS: zet daar een nieuwe sleutel vooraan "
              "(Fernet.generate_key()) en voer 'meldroute keys reencrypt' uit", file=sys.stderr)
        return 2
    with web_app() as app:
        ring = crypto.add_key(crypto.ring())
        crypto.configure(ring)
        count = reencrypt(app, ring)
        print(f"Nieuwe sleutel toegevoegd aan {ring.source}; {count} waarden opnieuw versleuteld. "
              "De oude sleutel staat er nog (om te lezen); verwijder hem pas als ook de back-ups "
              "zijn vervangen.")
        return 0


def cmd_keys_reencrypt(args: argparse.Namespace) -> int:
    with web_app() as app:
        count = reencrypt(app, crypto.ring())
        print(f"{count} waarden opnieuw versleuteld met de nieuwste sleutel.")
        return 0
