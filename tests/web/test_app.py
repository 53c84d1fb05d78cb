"""The app factory, the database migrations and the `meldroute serve` command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from meldroute.engine import ConfigError
from meldroute.webapp.app import DatabaseNotReady, create_app
from meldroute.webapp.db import upgrade
from meldroute.webapp.models import Base


def test_migrations_match_the_models(database_url):
    upgrade(database_url)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_a_broken_school_file_stops_the_start_with_file_and_line(tmp_path, database_url):
    upgrade(database_url)
    bad = tmp_path / "school.yaml"
    bad.write_text('id: kapot\nname: Kapotte school\ncontacts:\n  cjg:\n    name: CJG\n'
                   '    phone: "12345"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x",
                    "SCHOOL_PATHS": [bad], "INSTANCE_PATH": str(tmp_path)})
    assert [str(p) for p in err.value.problems] == [
        f"{bad}:6:12: '12345' is geen geldig Nederlands telefoonnummer "
        "(bijvoorbeeld 0412-673700)"]


def test_a_database_without_migrations_stops_the_start(tmp_path):
    with pytest.raises(DatabaseNotReady, match="meldroute db upgrade"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'leeg.db'}", "SECRET_KEY": "x",
                    "INSTANCE_PATH": str(tmp_path)})


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MELDROUTE_SECRET_KEY", raising=False)
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    first = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "inst")})
    second = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "inst")})
    for each in (first, second):
        each.extensions["meldroute.db_engine"].dispose()
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) == 64
    assert oct((tmp_path / "inst" / "secret_key").stat().st_mode & 0o777) == "0o600"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_meldroute_serve_demo_starts_on_an_empty_folder(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MELDROUTE_")}
    meldroute = Path(sys.executable).parent / "meldroute"
    process = subprocess.Popen([str(meldroute), "serve", "--demo", "--port", str(port)],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/inloggen") as page:
                    body = page.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        assert "Demo intern begeleider" in body
        assert (tmp_path / "instance" / "meldroute.db").exists()
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert "Demo-modus" in output and f"http://127.0.0.1:{port}/" in output
