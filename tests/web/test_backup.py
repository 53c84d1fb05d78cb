"""Issue 12, item 8: ``meldroute backup`` and ``meldroute restore``."""

from __future__ import annotations

import glob
import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select

from meldroute.webapp import audit, crypto
from meldroute.webapp.cli import main
from meldroute.webapp.context import db_engine_of, db_sessions_of
from meldroute.webapp.models import Dossier, StepRecord

from .conftest import CANARY, SIGNALEREN, Browser, records, stored_dossier
from .test_keys import start

PASSPHRASE = "een lange wachtzin voor de test"
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


@pytest.fixture
def backup_env(app: Flask, cli_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELDROUTE_BACKUP_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("MELDROUTE_KEYS", raising=False)
    if PG_BIN and not app.config["DATABASE_URL"].startswith("sqlite"):
        monkeypatch.setenv("PATH", f"{PG_BIN[-1]}{os.pathsep}{os.environ['PATH']}")


def elsewhere(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the command line at a new instance (SQLite) or the same database (PostgreSQL)."""
    instance = tmp_path / "elders"
    monkeypatch.setenv("MELDROUTE_INSTANCE", str(instance))
    if app.config["DATABASE_URL"].startswith("sqlite"):
        monkeypatch.setenv("MELDROUTE_DATABASE_URL", f"sqlite:///{instance / 'meldroute.db'}")
    return instance


def test_backup_and_restore_into_a_new_instance(
        app: Flask, browser: Browser, backup_env: None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    dossier = stored_dossier(browser)
    dest = tmp_path / "backup"
    assert main(["backup", str(dest)]) == 0, capsys.readouterr().err
    manifest = json.loads((dest / "backup.json").read_text())
    keys = (Path(app.config["INSTANCE_PATH"]) / "keys").read_text().split()
    key_file = (dest / "sleutels.enc").read_text()
    assert not any(k in key_file for k in keys)  # encrypted with the passphrase
    assert manifest["key_fingerprint"] == crypto.fingerprint(keys[0])
    assert oct((dest / "sleutels.enc").stat().st_mode & 0o777) == "0o600"
    instance = elsewhere(app, tmp_path, monkeypatch)
    url = os.environ["MELDROUTE_DATABASE_URL"]
    args = ["restore", str(dest)] + ([] if url.startswith("sqlite") else ["--force"])
    assert main(args) == 0, capsys.readouterr().err
    assert "lezen de gegevens" in capsys.readouterr().out
    assert (instance / "keys").read_text().split() == keys
    if url.startswith("sqlite"):  # the restored dossiers: readable by their owner only
        assert oct((instance / "meldroute.db").stat().st_mode & 0o777) == "0o600"
    restored = start(app, instance, DATABASE_URL=url)
    with db_sessions_of(restored)() as db:
        assert db.get(Dossier, dossier).pupil_name == f"Kind {CANARY}"  # type: ignore[union-attr]
        assert audit.verify(db)[1] is None
    db_engine_of(restored).dispose()


def test_restore_refuses_to_overwrite_without_force(
        app: Flask, browser: Browser, backup_env: None, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    stored_dossier(browser)
    dest = tmp_path / "backup"
    assert main(["backup", str(dest)]) == 0
    browser.new_dossier(name="Na de back-up")
    capsys.readouterr()
    assert main(["restore", str(dest)]) == 2
    err = capsys.readouterr().err
    assert "bevat al gegevens" in err and "--force" in err and len(err.splitlines()) == 1
    with db_sessions_of(app)() as db:
        assert len(db.scalars(select(Dossier)).all()) == 2
    db_engine_of(app).dispose()
    assert main(["restore", str(dest), "--force"]) == 0, capsys.readouterr().err
    with db_sessions_of(app)() as db:
        assert len(db.scalars(select(Dossier)).all()) == 1
        assert audit.verify(db)[1] is None


def test_restore_checks_the_keys_before_it_writes(
        app: Flask, browser: Browser, backup_env: None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    stored_dossier(browser)
    dest = tmp_path / "backup"
    assert main(["backup", str(dest)]) == 0
    instance = elsewhere(app, tmp_path, monkeypatch)
    monkeypatch.setenv("MELDROUTE_BACKUP_PASSPHRASE", "een andere wachtzin")
    capsys.readouterr()
    assert main(["restore", str(dest), "--force"]) == 2
    assert "verkeerde wachtwoordzin" in capsys.readouterr().err
    monkeypatch.setenv("MELDROUTE_BACKUP_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("MELDROUTE_KEYS", Fernet.generate_key().decode())
    assert main(["restore", str(dest), "--force"]) == 2
    assert "niet" in capsys.readouterr().err
    assert not (instance / "keys").exists()
    if app.config["DATABASE_URL"].startswith("sqlite"):
        assert not (instance / "meldroute.db").exists()


def test_backup_is_consistent_while_the_app_saves(
        app: Flask, browser: Browser, backup_env: None, tmp_path: Path) -> None:
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("the online backup API is SQLite's; pg_dump takes a snapshot itself")
    dossier = stored_dossier(browser)
    stop = threading.Event()
    saved: list[int] = []

    def save() -> None:
        while not stop.is_set():
            response = browser.post_step(dossier, "signaleren", {
                **SIGNALEREN, "interpretatie": f"versie {len(saved)}"})
            assert response.status_code == 302
            saved.append(1)

    writer = threading.Thread(target=save)
    writer.start()
    try:
        for number in range(3):
            assert main(["backup", str(tmp_path / f"backup{number}")]) == 0
    finally:
        stop.set()
        writer.join(60)
    assert saved and records(app) == len(saved) + 1
    for number in range(3):
        copy = tmp_path / f"backup{number}" / "meldroute.db"
        with sqlite3.connect(copy) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        restored = start(app, Path(app.config["INSTANCE_PATH"]),
                         DATABASE_URL=f"sqlite:///{copy}")
        with db_sessions_of(restored)() as db:
            assert audit.verify(db)[1] is None  # the chain matches the rows: one snapshot
            assert db.scalars(select(StepRecord)).all()
        db_engine_of(restored).dispose()


def test_without_pg_dump_backup_says_how(
        app: Flask, backup_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    if app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    monkeypatch.setenv("PATH", str(tmp_path / "leeg"))
    assert main(["backup", str(tmp_path / "backup")]) == 2
    err = capsys.readouterr().err
    assert "pg_dump staat niet op PATH" in err and "--format=custom" in err
