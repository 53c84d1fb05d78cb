"""Issue 12, item 7: a database remembers its key set. A copy started without its keys is
refused (never a fresh key for encrypted data); ``keys rotate`` while a server runs keeps
every page readable (the server re-reads the key file)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import delete, select, text

from meldroute.webapp import crypto
from meldroute.webapp.app import create_app
from meldroute.webapp.cli import main
from meldroute.webapp.cli_audit_keys import reencrypt
from meldroute.webapp.context import db_engine_of, db_sessions_of
from meldroute.webapp.key_check import KeysDoNotFit
from meldroute.webapp.models import KeyCheck, StepRecord

from .conftest import CANARY, SIGNALEREN, Browser, stored_dossier


@pytest.fixture
def restore_ring(app: Flask) -> Iterator[None]:
    yield
    crypto.configure(crypto.load_keyring(Path(app.config["INSTANCE_PATH"])))


def start(app: Flask, instance: Path, **config: Any) -> Flask:
    """Another instance (its own folder, so its own keys) on the app's database."""
    other = create_app({
        "DATABASE_URL": app.config["DATABASE_URL"], "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test", "TESTING": True, "SESSION_COOKIE_SECURE": False,
        "SCHOOL_PATHS": app.config["SCHOOL_PATHS"], "CLOCK": app.config["CLOCK"],
        "NOW": app.config["NOW"], **config})
    db_engine_of(other).dispose()
    return other


def test_a_copied_database_without_its_key_does_not_start(
        app: Flask, browser: Browser, tmp_path: Path, restore_ring: None) -> None:
    stored_dossier(browser)
    bare = tmp_path / "nieuw"
    with pytest.raises(KeysDoNotFit) as refused:
        start(app, bare)
    message = str(refused.value.problems[0])
    assert "geen encryptiesleutel" in message and "versleutelde gegevens" in message
    assert "\n" not in message
    assert not (bare / "keys").exists()  # no key generated for encrypted data


def test_a_copied_database_with_other_keys_does_not_start(
        app: Flask, browser: Browser, tmp_path: Path, restore_ring: None) -> None:
    stored_dossier(browser)
    other = tmp_path / "ander"
    other.mkdir()
    (other / "keys").write_text(Fernet.generate_key().decode() + "\n")
    with pytest.raises(KeysDoNotFit) as refused:
        start(app, other)
    expected = crypto.fingerprint(crypto.ring().keys[0])
    assert expected in str(refused.value.problems[0])
    # with the keys that belong to it, the copy starts and reads every dossier
    shutil.copy(Path(app.config["INSTANCE_PATH"]) / "keys", other / "keys")
    shutil.copy(Path(app.config["INSTANCE_PATH"]) / "audit_key", other / "audit_key")
    start(app, other)


def test_serve_says_so_in_one_line_and_exits_2(
        app: Flask, browser: Browser, cli_env: None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    stored_dossier(browser)
    monkeypatch.setenv("MELDROUTE_INSTANCE", str(tmp_path / "kopie"))
    capsys.readouterr()
    assert main(["serve", "--port", "0"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "sleutel" in lines[0], captured.err
    assert "luistert" not in captured.out
    assert "Traceback" not in captured.err


def test_a_database_from_before_the_key_check(
        app: Flask, browser: Browser, tmp_path: Path, restore_ring: None) -> None:
    """Its first encrypted values decide; the row is written on the first good start."""
    stored_dossier(browser)
    with db_sessions_of(app)() as db:
        db.execute(delete(KeyCheck))
        db.commit()
    other = tmp_path / "ander"
    other.mkdir()
    (other / "keys").write_text(Fernet.generate_key().decode() + "\n")
    with pytest.raises(KeysDoNotFit):
        start(app, other)
    start(app, Path(app.config["INSTANCE_PATH"]))
    with db_sessions_of(app)() as db:
        row = db.get(KeyCheck, 1)
        assert row is not None and row.fingerprint == crypto.ring().fingerprints[0]


def test_a_fresh_database_gets_a_key_and_its_fingerprint(app: Flask) -> None:
    with db_sessions_of(app)() as db:
        row = db.get(KeyCheck, 1)
    keys = (Path(app.config["INSTANCE_PATH"]) / "keys").read_text().split()
    assert row is not None and row.fingerprint == crypto.fingerprint(keys[0])
    assert keys[0] not in row.canary and keys[0] not in row.fingerprint


def test_keys_rotate_while_a_server_runs(app: Flask, browser: Browser,
                                         restore_ring: None) -> None:
    """Another process rotates: this server has only the old key in memory."""
    dossier = stored_dossier(browser)
    served = crypto.ring()
    rotated = crypto.add_key(crypto.read_key_file(Path(served.source)))
    reencrypt(app, rotated)  # as `meldroute keys rotate` does, in its own process
    assert crypto.ring() is served
    assert f"Kind {CANARY}" in browser.get(f"/dossiers/{dossier}")
    response = browser.post_step(dossier, "signaleren",
                                  {**SIGNALEREN, "interpretatie": "Nieuwe zorg"})
    assert response.status_code == 302, browser.last
    newest_only = crypto.KeyRing(rotated.keys[:1], "test")
    with db_sessions_of(app)() as db:
        stored = db.scalars(select(StepRecord.id).order_by(StepRecord.id.desc())).first()
        raw = db.execute(text("SELECT data FROM step_records WHERE id = :i"),
                         {"i": stored}).scalar_one()
    assert "Nieuwe zorg" in json.loads(newest_only.decrypt(raw))["interpretatie"]
    # the next start with the rotated key file passes the key check
    start(app, Path(app.config["INSTANCE_PATH"]))


def test_keys_from_the_environment(app: Flask, browser: Browser, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch,
                                   restore_ring: None) -> None:
    stored_dossier(browser)
    keys = (Path(app.config["INSTANCE_PATH"]) / "keys").read_text().split()
    monkeypatch.setenv("MELDROUTE_KEYS", Fernet.generate_key().decode())
    with pytest.raises(KeysDoNotFit) as refused:
        start(app, tmp_path / "ander")
    assert str(refused.value.problems[0]).startswith("MELDROUTE_KEYS:")
    monkeypatch.setenv("MELDROUTE_KEYS", ",".join(keys))
    monkeypatch.setenv("MELDROUTE_AUDIT_KEY", (Path(app.config["INSTANCE_PATH"]) /
                                               "audit_key").read_text().strip())
    start(app, tmp_path / "ander")
    assert not (tmp_path / "ander" / "keys").exists()



def test_the_key_check_row_follows_a_rotation_on_every_database(app: Flask) -> None:
    """``record`` after re-encrypting: the existing row is updated, not left behind
    because the database said it inserted one (psycopg's rowcount of ON CONFLICT)."""
    from meldroute.webapp import key_check
    from meldroute.webapp.upserts import insert_if_absent

    newer = crypto.KeyRing((Fernet.generate_key().decode(),), "env")
    with db_sessions_of(app)() as db:
        assert db.get(KeyCheck, 1) is not None  # made when the app started
        assert insert_if_absent(db, KeyCheck, key_check.row_values(newer), keys=["id"]) \
            is False
        key_check.record(db, newer)
        db.commit()
        assert db.get(KeyCheck, 1).fingerprint == crypto.fingerprint(newer.keys[0])
