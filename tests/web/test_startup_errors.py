"""Errors that tell the truth: the web commands and the app's start.

``WEB_TABLE`` is the web commands' part of the exit-code table (docs/exit-codes.md), run
through the real `meldroute` entry point on a copy of a prepared instance: 0 all well,
1 problems found (a file with problems, a broken audit chain), 2 could not run (a setting,
the keys, the secret key, the instance folder, the database, the port, a file that cannot
be read). Every failure: one Dutch line on standard error, never a traceback.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from ..clirun import ENTRY, assert_fails_clearly, clean_env, run_meldroute
from ..conftest import DEMO_FILE

PASSWORD = "een heel lang eigen wachtwoord\n"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


DB_DOWN = {"MELDROUTE_DATABASE_URL":
           f"postgresql+psycopg://meldroute:geheim@127.0.0.1:{_closed_port()}/meldroute"}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """An instance folder with a database at the latest revision, keys, a user and an
    audit trail, and the files the commands read."""
    folder = tmp_path_factory.mktemp("prepared")
    assert run_meldroute(["db", "upgrade"], folder).returncode == 0
    done = run_meldroute(["user", "add", "juf.a", "--name", "Juf A", "--school", "regenboog",
                          "--role", "leerkracht", "--password-stdin"], folder, stdin=PASSWORD)
    assert done.returncode == 0, done.stderr
    demo = DEMO_FILE.read_text(encoding="utf-8")
    (folder / "school.yaml").write_text(demo, encoding="utf-8")
    (folder / "school_fout.yaml").write_text(demo.replace('"0412-000104"', '"12345"'),
                                             encoding="utf-8")
    (folder / "bestuur_fout.yaml").write_text("id: bestuur\nname: Bestuur\nkleur: rood\n",
                                              encoding="utf-8")
    return folder


@pytest.fixture
def instance(prepared, tmp_path) -> Path:
    """A copy of the prepared folder for one test; the instance is ``tmp_path/instance``."""
    shutil.copytree(prepared, tmp_path, dirs_exist_ok=True, symlinks=True)
    return tmp_path / "instance"


def _tamper(instance: Path) -> None:
    with sqlite3.connect(instance / "meldroute.db") as db:
        db.execute("UPDATE audit_events SET result = 'ok?' WHERE seq = 1")


def _write(name: str, text: str) -> Callable[[Path], None]:
    return lambda instance: (instance / name).write_text(text, encoding="utf-8")


SETUPS: dict[str, Callable[[Path], None]] = {
    "": lambda instance: None,
    "lege sleutels": _write("keys", ""),
    "onzin-sleutels": _write("keys", "geen sleutel\n"),
    "lege secret_key": _write("secret_key", "\n"),
    "logboek gewijzigd": _tamper,
}
GOOD_KEY = Fernet.generate_key().decode()
USER_ADD = ["user", "add", "juf.b", "--name", "Juf B", "--school", "regenboog", "--role",
            "leerkracht", "--password-stdin"]

# (command line, set-up of the instance, environment, exit status)
WEB_TABLE = [
    (["db", "upgrade"], "", {}, 0),
    (["db", "upgrade"], "", DB_DOWN, 2),
    (["db", "upgrade"], "", {"MELDROUTE_DATABASE_URL": "geen-url"}, 2),
    (["serve", "--port", "0"], "", {"MELDROUTE_IDLE_TIMEOUT_MINUTES": "abc"}, 2),
    (["serve", "--port", "0"], "", {"MELDROUTE_ABSOLUTE_TIMEOUT_HOURS": "0"}, 2),
    (["serve", "--port", "0"], "", DB_DOWN, 2),
    (["serve", "--port", "0"], "lege sleutels", {}, 2),
    (["serve", "--port", "0"], "onzin-sleutels", {}, 2),
    (["serve", "--port", "0"], "", {"MELDROUTE_KEYS": "onzin"}, 2),
    (["serve", "--port", "0"], "", {"MELDROUTE_KEYS": " , "}, 2),
    (["serve", "--port", "0"], "lege secret_key", {}, 2),
    (["serve", "--port", "0"], "", {"MELDROUTE_INSTANCE": "school.yaml/instance"}, 2),
    (["serve", "--port", "0"], "", {"MELDROUTE_SCHOOLS": "school_fout.yaml"}, 1),
    (["serve", "--port", "0"], "", {"MELDROUTE_SCHOOLS": "/dev/zero"}, 2),
    (USER_ADD, "", {}, 0),
    (USER_ADD[:6] + ["nergens"] + USER_ADD[7:], "", {}, 2),
    (USER_ADD, "", DB_DOWN, 2),
    (["user", "reset", "niemand", "--password-stdin"], "", {}, 2),
    (["audit", "verify"], "", {}, 0),
    (["audit", "verify"], "logboek gewijzigd", {}, 1),
    (["audit", "verify"], "", DB_DOWN, 2),
    (["audit", "verify"], "lege sleutels", {}, 2),
    (["keys", "rotate"], "", {}, 0),
    (["keys", "rotate"], "", {"MELDROUTE_KEYS": GOOD_KEY}, 2),
    (["keys", "rotate"], "", DB_DOWN, 2),
    (["keys", "reencrypt"], "", {}, 0),
    (["keys", "reencrypt"], "", DB_DOWN, 2),
    (["retention", "--dry-run"], "", {}, 0),
    (["retention"], "", DB_DOWN, 2),
    (["school", "import", "school.yaml"], "", {}, 0),
    (["school", "import", "school_fout.yaml"], "", {}, 1),
    (["school", "import", "bestaat-niet.yaml"], "", {}, 2),
    (["school", "import", "/dev/zero"], "", {}, 2),
    (["school", "import", "school.yaml"], "", DB_DOWN, 2),
    (["school", "export", "regenboog"], "", {}, 0),
    (["school", "export", "nergens"], "", {}, 2),
    (["school", "export", "regenboog"], "", DB_DOWN, 2),
    (["board", "import", "bestuur_fout.yaml"], "", {}, 1),
    (["board", "import", "bestaat-niet.yaml"], "", {}, 2),
    (["board", "export", "nergens"], "", {}, 2),
]


def _row_id(row: tuple[list[str], str, dict[str, str], int]) -> str:
    argv, setup, env, _ = row
    what = [setup] if setup else []
    what += ["database onbereikbaar" if env == DB_DOWN else f"{k}={v}" for k, v in env.items()
             ][:1]
    return " ".join(argv) + (f" [{', '.join(what)}]" if what else "")


@pytest.mark.parametrize(("argv", "setup", "env", "code"), WEB_TABLE,
                         ids=[_row_id(row) for row in WEB_TABLE])
def test_web_exit_codes(instance, argv, setup, env, code):
    SETUPS[setup](instance)
    done = run_meldroute(argv, instance.parent, env, stdin=PASSWORD, timeout=180)
    assert "luistert op" not in done.stdout
    if code == 2:
        line = assert_fails_clearly(done, 2)
        assert len(line) < 400
        return
    assert "Traceback" not in done.stderr
    assert done.returncode == code, done.stderr
    if code == 1 and argv[0] != "audit":  # every problem as file:line:col
        assert all(line.count(":") >= 3 for line in done.stderr.splitlines()), done.stderr


@pytest.mark.parametrize(("setup", "env", "expected"), [
    ("", {"MELDROUTE_IDLE_TIMEOUT_MINUTES": "abc"},
     "MELDROUTE_IDLE_TIMEOUT_MINUTES moet een geheel getal groter dan 0 zijn, niet 'abc'"),
    ("", {"MELDROUTE_KEPT_PAGES": "-1"},
     "MELDROUTE_KEPT_PAGES moet een geheel getal van 0 tot en met 10000 zijn, niet '-1'"),
    ("", {"MELDROUTE_KEPT_PAGES": "9" * 5000},  # too long for Python's int(): no traceback
     "MELDROUTE_KEPT_PAGES moet een geheel getal van 0 tot en met 10000 zijn, niet '"
     + "9" * 39 + "…'"),
    ("", DB_DOWN, "database niet bereikbaar (postgresql+psycopg://meldroute:***@127.0.0.1:"),
    ("lege sleutels", {}, "het sleutelbestand {instance}/keys is leeg: zet de sleutel(s) terug"),
    ("onzin-sleutels", {}, "het sleutelbestand {instance}/keys: sleutel 1 is geen geldige "
                           "Fernet-sleutel"),
    ("", {"MELDROUTE_KEYS": "onzin"}, "MELDROUTE_KEYS: sleutel 1 is geen geldige Fernet-sleutel"),
    ("lege secret_key", {}, "{instance}/secret_key is leeg: verwijder het bestand"),
])
def test_start_up_failures_name_what_to_fix(instance, setup, env, expected):
    SETUPS[setup](instance)
    done = run_meldroute(["serve", "--port", "0"], instance.parent, env, timeout=180)
    assert assert_fails_clearly(done, 2).startswith(expected.format(instance=instance))
    assert done.stdout == ""


def test_audit_verify_tells_could_not_check_from_broken(instance):
    down = run_meldroute(["audit", "verify"], instance.parent, DB_DOWN)
    assert assert_fails_clearly(down, 2).startswith("database niet bereikbaar")
    _tamper(instance)
    broken = run_meldroute(["audit", "verify"], instance.parent)
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert broken.stderr.startswith("Logboek NIET in orde: regel 1:")


def test_serve_on_an_occupied_port(instance):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_meldroute(["serve", "--port", str(port)], instance.parent, timeout=180)
    line = assert_fails_clearly(done, 2)
    assert line == (f"poort {port} op 127.0.0.1 is al in gebruik: stop het programma dat die "
                    "poort gebruikt, of kies een andere poort met --port")
    assert done.stdout == ""


def test_serve_says_it_listens_only_when_it_does(instance):
    with subprocess.Popen([*ENTRY, "serve", "--port", "0"], cwd=instance.parent,
                          env=clean_env(instance.parent), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None and server.stderr is not None
            line = server.stdout.readline()
            assert line.startswith("Meldroute luistert op http://127.0.0.1:")
            port = int(line.split("127.0.0.1:")[1].split("/")[0])
            with socket.create_connection(("127.0.0.1", port), timeout=10):
                pass  # the socket listened before the line was printed
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=60) == 0
            assert "Traceback" not in server.stderr.read()
        finally:
            if server.poll() is None:
                server.kill()


def _read_only(folder: Path) -> list[str]:
    """A command prefix that runs with ``folder`` read-only: as root (who may write in
    any folder) a read-only bind mount in a user namespace; else the folder's mode."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rm", "true"], check=False).returncode:
        pytest.skip("as root, a read-only folder needs unshare (user namespaces)")
    mount = f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}"'
    return [unshare, "-rm", "sh", "-c", f'{mount} && exec "$@"', "sh"]


def test_serve_with_a_read_only_instance_folder(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    prefix = _read_only(instance)
    try:
        done = subprocess.run([*prefix, *ENTRY, "serve", "--port", "0"], cwd=tmp_path,
                              env=clean_env(tmp_path), capture_output=True, text=True,
                              timeout=180, check=False)
    finally:
        instance.chmod(0o755)
    line = assert_fails_clearly(done, 2)
    assert line == (f"de instance-map {instance} is niet schrijfbaar: geef Meldroute "
                    "schrijfrechten op die map of kies een andere met MELDROUTE_INSTANCE")


@pytest.mark.parametrize("env", [{"MELDROUTE_IDLE_TIMEOUT_MINUTES": "abc"}, DB_DOWN],
                         ids=["instelling", "database onbereikbaar"])
def test_the_wsgi_entry_logs_one_line(instance, env):
    """gunicorn imports meldroute.webapp.wsgi: one line in the log, no traceback wall."""
    done = subprocess.run([sys.executable, "-c", "import meldroute.webapp.wsgi"],
                          cwd=instance.parent, env=clean_env(instance.parent, env),
                          capture_output=True, text=True, timeout=180, check=False)
    assert assert_fails_clearly(done, 2).startswith("Meldroute start niet: ")
