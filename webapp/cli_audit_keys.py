"""``meldroute audit verify`` and ``meldroute keys rotate|reencrypt``: the audit trail's
chain and the encryption keys."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from flask import Flask
from sqlalchemy import text

from . import audit, crypto, key_check
from .cli_common import record_cli, web_app
from .context import db_sessions_of

# every encrypted column: (table, column, primary key)
ENCRYPTED = tuple((table, column, "id") for table, column in key_check.encrypted_columns())


def add_audit_parser(audit_cmd: argparse.ArgumentParser) -> None:
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    verify = audit_sub.add_parser("verify", help="de keten van het logboek controleren")
    verify.set_defaults(func=cmd_audit_verify)


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
    """0 the chain holds, 1 it is broken; 2 could not check (database, keys, settings:
    printed by ``cli_common.reporting``)."""
    with web_app() as app:
        with db_sessions_of(app)() as db:
            count, broken = audit.verify(db)
        if broken is not None:
            print(f"Logboek NIET in orde: regel {broken.seq}: {broken.reason}.", file=sys.stderr)
            return 1
        print(f"Logboek in orde: {count} regels, keten klopt.")
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
