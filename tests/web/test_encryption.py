"""Encryption at rest and key rotation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text

from meldroute.webapp import crypto
from meldroute.webapp.cli import main
from meldroute.webapp.models import Dossier, StepRecord

from .conftest import CANARY, stored_dossier


def test_the_database_file_holds_no_plain_text(app, browser):
    stored_dossier(browser)
    url = app.config["DATABASE_URL"]
    if not url.startswith("sqlite"):
        with app.extensions["meldroute.db_sessions"]() as db:
            raw = db.execute(text("SELECT pupil_name FROM dossiers")).scalar_one()
            data = db.execute(text("SELECT data FROM step_records")).scalar_one()
        assert CANARY not in raw and CANARY not in data
        return
    app.extensions["meldroute.db_engine"].dispose()  # flush WAL into the file
    files = [Path(url.removeprefix("sqlite:///"))]
    files += [f.with_name(f.name + suffix) for f in files for suffix in ("-wal", "-journal")]
    content = b"".join(f.read_bytes() for f in files if f.exists())
    assert CANARY.encode() not in content
    assert b"blauwe plek" not in content  # the observation itself


def test_the_key_stays_outside_the_database(app, browser):
    stored_dossier(browser)
    keys = (Path(app.config["INSTANCE_PATH"]) / "keys").read_text().split()
    with app.extensions["meldroute.db_sessions"]() as db:
        for table in ("dossiers", "step_records", "users", "audit_events", "web_sessions"):
            rows = db.execute(text(f"SELECT * FROM {table}")).all()
            assert not any(k in str(r) for r in rows for k in keys)


def test_key_rotation_keeps_every_dossier_readable(app, browser, cli_env, capsys):
    dossier = stored_dossier(browser)
    instance = Path(app.config["INSTANCE_PATH"])
    old_keys = (instance / "keys").read_text().split()
    with app.extensions["meldroute.db_sessions"]() as db:
        before = db.execute(text("SELECT data FROM step_records")).scalar_one()
    assert main(["keys", "rotate"]) == 0
    assert "opnieuw versleuteld" in capsys.readouterr().out
    new_keys = (instance / "keys").read_text().split()
    assert len(new_keys) == 2 and new_keys[1:] == old_keys
    crypto.configure(crypto.load_keyring(instance))
    with app.extensions["meldroute.db_sessions"]() as db:
        after = db.execute(text("SELECT data FROM step_records")).scalar_one()
        assert after != before
        assert f"Kind {CANARY}" == db.get(Dossier, dossier).pupil_name
    # the new key alone now reads everything
    crypto.configure(crypto.KeyRing((new_keys[0],), "test"))
    with app.extensions["meldroute.db_sessions"]() as db:
        record = db.scalars(select(StepRecord)).one()
        assert CANARY in json.loads(record.data)["interpretatie"]
    assert f"Kind {CANARY}" in browser.get(f"/dossiers/{dossier}")


def test_a_wrong_key_cannot_read(app, browser):
    stored_dossier(browser)
    from cryptography.fernet import Fernet

    crypto.configure(crypto.KeyRing((Fernet.generate_key().decode(),), "test"))
    with app.extensions["meldroute.db_sessions"]() as db, pytest.raises(crypto.KeyError_):
        db.scalars(select(Dossier)).one().pupil_name  # noqa: B018
    crypto.configure(crypto.load_keyring(Path(app.config["INSTANCE_PATH"])))
