"""Issue 12: a crash test. A real ``meldroute serve`` on SQLite is killed with SIGKILL at
random moments while two people save steps, and started again each time. Afterwards every
save the server acknowledged (a redirect after the POST) is in the database, SQLite's
integrity check passes and ``meldroute audit verify`` exits 0. The figures are printed.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from .conftest import BASE, SIGNALEREN, TOKEN

KILLS = 10
WORKERS = 2
COMMAND = [sys.executable, "-m", "meldroute.webapp.cli"]
DEMO_USER = re.compile(r'name="user" value="(\d+)">Demo intern begeleider')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # --demo: demo users sign in with one click over plain HTTP (the cookie without
        # Secure); it also runs the migrations, which have nothing to do after the first
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*COMMAND, "serve", "--demo", "--port", str(self.port), "--threads", "4"],
                env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


class Person:
    """One browser: a cookie, a dossier, saves until told to stop."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, form: dict[str, Any] | None = None
                ) -> tuple[int, str, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            body = urllib.parse.urlencode(form or {}, doseq=True)
            headers = {"Cookie": self.cookie} if self.cookie else {}
            if form is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body if form is not None else None, headers)
            response = connection.getresponse()
            html = response.read().decode()
            cookie = response.getheader("Set-Cookie")
            if cookie and cookie.startswith("meldroute="):
                self.cookie = cookie.split(";")[0]
            return response.status, response.getheader("Location") or "", html
        finally:
            connection.close()

    def sign_in(self) -> int:
        _status, _, html = self.request("GET", "/inloggen")
        token, user = TOKEN.search(html), DEMO_USER.search(html)
        assert token and user, html
        status, _, _ = self.request("POST", "/inloggen", {
            "csrf_token": token.group(1), "user": user.group(1)})
        assert status == 302
        _, _, html = self.request("GET", "/dossiers/nieuw")
        status, location, _ = self.request("POST", "/dossiers/nieuw", {
            "csrf_token": TOKEN.search(html).group(1),  # type: ignore[union-attr]
            "pupil_initials": "A.B.", "pupil_group": "5b", "pupil_name": "Fictief Kind"})
        assert status == 302
        return int(location.rstrip("/").split("/")[-1])

    def save(self, dossier: int, text: str, posted: list[int]) -> bool:
        """True when the server acknowledged the save."""
        path = f"/dossiers/{dossier}/stap/signaleren"
        status, _, html = self.request("GET", path)
        if status != 200:
            return False
        posted.append(1)
        status, _, _ = self.request("POST", path, {
            **SIGNALEREN, "interpretatie": text, "action": "save",
            "csrf_token": TOKEN.search(html).group(1),  # type: ignore[union-attr]
            "base_version": BASE.search(html).group(1)})  # type: ignore[union-attr]
        return status == 302


def stored_texts(env: dict[str, str]) -> set[tuple[int, str]]:
    """(dossier, text) of every stored version, read by a fresh process with the keys."""
    script = (
        "import json\n"
        "from meldroute.webapp.cli_common import web_app\n"
        "from meldroute.webapp.context import db_sessions_of\n"
        "from meldroute.webapp.models import StepRecord\n"
        "with web_app() as app, db_sessions_of(app)() as db:\n"
        "    print(json.dumps([[r.dossier_id, json.loads(r.data).get('interpretatie')]\n"
        "                      for r in db.query(StepRecord)]))\n")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, check=True)
    return {(d, t) for d, t in json.loads(done.stdout.strip().splitlines()[-1])}


def _work(server: Server, dossier: int, person: Person, name: str,
          acknowledged: set[tuple[int, str]], attempts: list[int],
          stop: threading.Event) -> None:
    number = 0
    while not stop.is_set():
        number += 1
        text = f"{name}-{number}"
        try:
            if person.save(dossier, text, attempts):
                acknowledged.add((dossier, text))
            else:
                time.sleep(0.05)  # starting up, or refused: not acknowledged
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)  # the server is down: try again


def _wait_for_saves(acknowledged: set[tuple[int, str]], count: int) -> None:
    deadline = time.monotonic() + 60
    while len(acknowledged) < count and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.slow
def test_kill_9_during_saves_loses_no_acknowledged_save(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MELDROUTE_")}
    env["MELDROUTE_INSTANCE"] = str(tmp_path / "instance")
    server = Server(env, free_port(), tmp_path / "server.log")
    server.start()
    people = [Person(server.port) for _ in range(WORKERS)]
    dossiers = [p.sign_in() for p in people]
    acknowledged: set[tuple[int, str]] = set()
    attempts: list[int] = []
    stop = threading.Event()
    threads = [threading.Thread(target=_work, args=(
        server, dossiers[i], people[i], f"w{i}", acknowledged, attempts, stop))
        for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    rng = random.Random()
    try:
        for _ in range(KILLS):
            _wait_for_saves(acknowledged, len(acknowledged) + 3)
            time.sleep(rng.uniform(0, 0.3))  # a random moment while people save
            server.kill()
            server.start()
        _wait_for_saves(acknowledged, len(acknowledged) + 3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        server.kill()
    stored = stored_texts(env)
    lost = acknowledged - stored
    database = tmp_path / "instance" / "meldroute.db"
    with sqlite3.connect(database) as connection:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
    verify = subprocess.run([*COMMAND, "audit", "verify"], env=env, capture_output=True,
                            text=True, check=False)
    with capsys.disabled():
        print(f"\ncrash test: {KILLS} kills (SIGKILL), {len(attempts)} saves posted, "
              f"{len(acknowledged)} acknowledged saves, {len(lost)} lost, "
              f"{len(stored)} versions stored, integrity_check {integrity}, "
              f"audit verify exit {verify.returncode}")
    assert len(acknowledged) >= 3 * KILLS
    assert not lost
    assert integrity == "ok"
    assert verify.returncode == 0, verify.stdout + verify.stderr
