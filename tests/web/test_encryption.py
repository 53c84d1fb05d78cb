"""Encryption at rest, key rotation, retention, and the admin commands."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select, text

from meldroute.webapp import crypto
from meldroute.webapp.cli import main
from meldroute.webapp.models import AuditEvent, Dossier, StepRecord, User

from .conftest import SIGNALEREN

CANARY = "KANARIE-plain-9d1e"


def stored_dossier(browser) -> int:
    browser.login("ib")
    dossier = browser.new_dossier(name=f"Kind {CANARY}")
    assert browser.post_step(dossier, "signaleren", {
        **SIGNALEREN, "interpretatie": f"Zorg {CANARY}"}).status_code == 302
    return dossier


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


def test_retention_dry_run_lists_and_run_deletes_with_an_audit_entry(app, browser, cli_env,
                                                                    capsys, now):
    dossier = stored_dossier(browser)
    with app.extensions["meldroute.db_sessions"]() as db:
        row = db.get(Dossier, dossier)
        row.closed_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=2 * 366)
        fresh = db.get(Dossier, browser.new_dossier())
        fresh.closed_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=300)
        db.commit()
    assert main(["retention", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"dossier {dossier} (regenboog)" in out and "1 dossier(s)" in out
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.get(Dossier, dossier) is not None
    assert main(["retention"]) == 0
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.get(Dossier, dossier) is None
        assert db.get(Dossier, fresh.id) is not None
        assert db.scalars(select(StepRecord).where(StepRecord.dossier_id == dossier)).all() \
            == []
        deleted = db.scalars(select(AuditEvent).where(AuditEvent.action == "dossier.delete")
                             ).one()
        assert deleted.dossier_id == dossier and CANARY not in deleted.detail
    assert main(["audit", "verify"]) == 0
    assert "keten klopt" in capsys.readouterr().out


def test_user_add_and_reset_on_the_command_line(app, cli_env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("kort\n"))
    assert main(["user", "add", "juf.c", "--name", "Juf C", "--school", "regenboog",
                 "--role", "leerkracht", "--password-stdin"]) == 2
    assert "minstens 12 tekens" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("een heel lang eigen wachtwoord\n"))
    assert main(["user", "add", "juf.c", "--name", "Juf C", "--school", "regenboog",
                 "--role", "leerkracht", "--role", "zorgteam", "--password-stdin"]) == 0
    with app.extensions["meldroute.db_sessions"]() as db:
        user = db.scalar(select(User).where(User.username == "juf.c"))
        assert sorted(user.roles_at("regenboog")) == ["leerkracht", "zorgteam"]
        assert user.password_hash.startswith("$argon2id$") and user.totp_secret is None
        user.totp_secret = "JBSWY3DPEHPK3PXP"
        db.commit()
    monkeypatch.setattr("sys.stdin", io.StringIO("nog een heel lang wachtwoord\n"))
    assert main(["user", "reset", "juf.c", "--password-stdin"]) == 0
    with app.extensions["meldroute.db_sessions"]() as db:
        user = db.scalar(select(User).where(User.username == "juf.c"))
        assert user.must_change_password and user.totp_secret is None
    assert main(["audit", "verify"]) == 0


def test_audit_verify_on_the_command_line_names_the_broken_entry(app, browser, cli_env,
                                                                 capsys):
    stored_dossier(browser)
    with app.extensions["meldroute.db_sessions"]() as db:
        db.execute(text("UPDATE audit_events SET result = 'ok?' WHERE seq = 2"))
        db.commit()
    assert main(["audit", "verify"]) == 1
    assert "regel 2" in capsys.readouterr().err
