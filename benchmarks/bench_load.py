"""Pages per second under concurrent load: a step page and a save against a bare Flask page.

    python benchmarks/bench_load.py [--clients 16] [--duration 10] [--warmup 2]
                                    [--threads 8] [--workers 2] [--versions 10]
                                    [--step signaleren] [--server all|waitress|gunicorn]

Needs wrk (Debian: `apt-get install wrk`). With MELDROUTE_TEST_POSTGRES set (a SQLAlchemy
URL of a throwaway database: its public schema is dropped before and after, as the web
tests do) it also measures gunicorn + PostgreSQL; that needs gunicorn in the environment
(`pip install gunicorn`, or the `board` extra).

What runs, for each server set-up:

* waitress + SQLite: the real `meldroute serve --threads N` on a free loopback port, with a
  fresh temporary instance folder (MELDROUTE_INSTANCE, MELDROUTE_DATABASE_URL pointing at
  SQLite in it; every other MELDROUTE_* variable is dropped), production settings (no
  --demo); and benchmarks/bare_app.py under waitress with the same arguments.
* gunicorn + PostgreSQL: `gunicorn -w WORKERS meldroute.webapp.wsgi:app` against
  MELDROUTE_TEST_POSTGRES, and the bare page under the same gunicorn command (sync workers).

One account per client (role ib at the demo school) signs in through the real pages
(password, then a TOTP code), so every client has its own server-side session and CSRF
token. Each client then creates a dossier and walks it through steps 1-5 as staff would,
saving each step until it has --versions versions (10: a realistic history). The bare page
renders a template to the size of the step page. Then, with the same load for each (one
connection per client, closed loop, --duration seconds after --warmup seconds not counted):

* bare page: GET / of the bare app;
* step page: GET of --step of the client's own dossier, signed in; after the first view
  it is served from the kept pages (webapp/pagecache.py), as a repeated view of an
  unchanged dossier is;
* rendered afresh: the same page from a second app server on the same database, started
  with MELDROUTE_KEPT_PAGES=0 (it keeps no pages) for this page only and stopped after it,
  so every view is rendered, as the first view after a change is;
* save: POST of that step (the form with its CSRF token and the current base_version, which
  the client counts up after each save), answered by a redirect that is not followed.

Every response is checked (200 for a GET; for a save, a redirect to the dossier): anything
else counts as an error, as do socket errors and time-outs (30 s). Prints pages/s, p50 and
p99 latency and errors per page, and the ratios step/bare, fresh/bare and save/bare, as pages/s of
the bare page divided by pages/s of the page (10x: the page costs ten bare pages). Also
the server's CPU time per page (user + system of its process group, from /proc): on a
machine that other work keeps busy, pages/s and latency drop with the CPU share the
server gets, while CPU time per page moves much less (SQLite works inside the server's
process). With PostgreSQL on this machine its own processes' CPU time per page (the
children of its server process: the app's backends, the WAL writer, ...) is a column of
its own, and a ratio of server + PostgreSQL CPU per page against the bare page's.

The load generator is wrk, driven by a Lua script this file writes: one wrk thread per
client with one connection each, so each thread carries one client's cookie, token and
base_version. wrk is written in C and uses a fraction of a core, which matters on a
2-core machine where the load generator shares the CPU with the server (locust, or a
thread pool of Python clients, would take a noticeable share from the server, most of all
for the bare page, and so squeeze the ratios).

Servers, the temporary folders and the seeded data are removed at the end, also after an
error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
BASE = re.compile(r'name="base_version" value="(\d+)"')
SCHOOL, ROLE = "regenboog", "ib"
PASSWORD = "een lange zin als wachtwoord voor de meting"
STEPS = ["signaleren", "consulteren", "gesprek", "afwegen", "beslissen"]


class BenchError(RuntimeError):
    pass


# -- what staff fill in --------------------------------------------------------------


def stages(step: str, today: dt.date, version: int) -> list[dict[str, Any]]:
    """The form a person posts for ``step``: the whole form, with the answers the route
    reaches (a save needs the question it opens on the same page answered), edited text
    in each version."""
    day = (today - dt.timedelta(days=9)).isoformat()
    if step == "signaleren":
        return [{"observaties-0-datum": day, "observaties-0-waargenomen_door": ["leerkracht"],
                 "observaties-0-feit": f"De leerling had een blauwe plek op de arm en zei "
                                       f"gevallen te zijn (versie {version}).",
                 "observaties-0-bron": "zelf gezien",
                 "interpretatie": f"Zorgen over de thuissituatie (versie {version}).",
                 "signaleren_checklist": ["1", "2"]}]
    if step == "consulteren":
        return [{"geconsulteerd": ["cjg", "veilig_thuis"],
                 "consultatie_datum": (today - dt.timedelta(days=5)).isoformat(),
                 "uitkomst_consultatie": f"Advies: gesprek met ouders (versie {version})."}]
    if step == "gesprek":
        return [{"gesprek_gevoerd": "y", "gesprek_datum": (today - dt.timedelta(days=4)
                                                           ).isoformat(),
                 "hoofdboodschap": f"Wij maken ons zorgen (versie {version})."}]
    if step == "afwegen":  # the answers the route reaches are needed in the same save
        return [{"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "nee",
                 "oordeel_veilig_thuis": f"Hulp op gang brengen (versie {version})."}]
    if step == "beslissen":
        plan = {"hulp_termijn": (today + dt.timedelta(days=45)).isoformat(),
                "hulp_casemanager": "ib",
                "hulp_rollen": "IB-er: casemanager; leerkracht: volgt de leerling.",
                "hulp_taken": f"Wekelijks contact met ouders; verwijzing naar CJG "
                              f"(versie {version})."}
        # the plan's fields are on the form once the route asks for them (a second save)
        return [{"hulp_mogelijk": "ja", "hulp_aanvaard": "ja"},
                {"hulp_mogelijk": "ja", "hulp_aanvaard": "ja", **plan}]
    raise BenchError(f"no form for step {step!r} (known: {', '.join(STEPS)})")


# -- processes, ports, clean-up --------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def group_cpu(group: int) -> float:
    """CPU seconds (user + system) used so far by the processes of a process group (the
    server and, for gunicorn, its workers): the cost of the pages, which a busy machine
    disturbs much less than pages/s and latency."""
    total = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat_fields(entry.path)
            if fields and int(fields[2]) == group:  # pgrp; utime and stime in clock ticks
                total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _stat_fields(path: str) -> list[str] | None:
    try:  # state, ppid, pgrp, ..., utime (11), stime (12): after the command's ")"
        return Path(path, "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None  # gone meanwhile


def postmaster_of(url: str) -> int | None:
    """The PostgreSQL server process behind ``url`` when it runs on this machine (the
    parent of this connection's backend), else None."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            fields = _stat_fields(f"/proc/{backend}")
    finally:
        engine.dispose()
    return int(fields[1]) if fields else None


def cluster_cpu(postmaster: int | None) -> float:
    """CPU seconds used so far by the PostgreSQL server's own processes (the children of
    ``postmaster``: the app's backends, the WAL writer, ...). A backend that ended
    meanwhile takes its share with it; the app's pooled connections last the run."""
    if postmaster is None:
        return 0.0
    total = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat_fields(entry.path)
            if fields and int(fields[1]) == postmaster:
                total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def load_avg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


class Processes:
    """Servers started here, each in its own process group, stopped at exit (TERM, then
    KILL of the group after 10 s)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], port: int,
              cwd: Path | None = None) -> int:
        """Start a server and wait until it listens; its process group id."""
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.running.append((name, proc))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BenchError(f"{name} stopped (exit {proc.returncode}):\n{self.tail(name)}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port),
                                                                        timeout=1):
                return proc.pid
            time.sleep(0.1)
        raise BenchError(f"{name} does not listen on port {port} after 60 s:\n"
                         f"{self.tail(name)}")

    def stop(self, group: int) -> None:
        """Stop the server whose process group is ``group`` (TERM, then KILL after 10 s)."""
        self._stop([(n, p) for n, p in self.running if p.pid == group])

    def tail(self, name: str) -> str:
        text = (self.logs / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-20:])

    def stop_all(self) -> None:
        self._stop(list(reversed(self.running)))

    def _stop(self, servers: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
        for _, proc in servers:  # all of them TERM first: they stop side by side
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for server in servers:
            proc = server[1]
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            self.running.remove(server)


# -- one browser -----------------------------------------------------------------------


class Client:
    """One person's browser: a connection and the cookies the server set (sent over plain
    HTTP on loopback, also when the server marks them Secure, as a TLS proxy would)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.token = ""

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str,
                fields: dict[str, Any] | None = None) -> tuple[int, str, str]:
        headers = {"Cookie": self.cookie_header()} if self.cookies else {}
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in header.lower() or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        return response.status, response.getheader("Location") or "", text

    def expect(self, method: str, path: str, status: int, fields: dict[str, Any] | None = None,
               location: str = "") -> tuple[str, str]:
        got, where, text = self.request(method, path, fields)
        if got != status or location not in where:
            raise BenchError(f"{method} {path}: {got} {where} (expected {status} "
                             f"{location}):\n{text[:800]}")
        return where, text

    def sign_in(self, username: str, secret: str) -> None:
        import pyotp

        _, page = self.expect("GET", "/inloggen", 200)
        token = TOKEN.search(page)
        assert token, "no CSRF token on /inloggen"
        self.expect("POST", "/inloggen", 302, {"csrf_token": token.group(1),
                                               "username": username, "password": PASSWORD},
                    "/inloggen/code")
        self.expect("POST", "/inloggen/code", 302, {"csrf_token": token.group(1),
                                                    "code": pyotp.TOTP(secret).now()},
                    "/dossiers")
        _, page = self.expect("GET", "/dossiers/nieuw", 200)
        token = TOKEN.search(page)
        assert token, "no CSRF token on /dossiers/nieuw"
        self.token = token.group(1)

    def close(self) -> None:
        self.conn.close()


@dataclass
class Seeded:
    """A signed-in client and its dossier: the paths and form the load uses."""

    cookie: str
    token: str
    dossier: int
    versions: dict[str, int] = field(default_factory=dict)

    def page(self, port: int, step: str) -> str:
        """The step page as this client sees it."""
        client = Client(port)
        client.cookies = dict(pair.split("=", 1) for pair in self.cookie.split("; "))
        try:
            return client.expect("GET", f"/dossiers/{self.dossier}/stap/{step}", 200)[1]
        finally:
            client.close()


def seed(port: int, username: str, secret: str, versions: int, today: dt.date) -> Seeded:
    """Sign in, create a dossier, walk steps 1-5 and save each until it has ``versions``
    versions."""
    client = Client(port)
    try:
        client.sign_in(username, secret)
        where, _ = client.expect("POST", "/dossiers/nieuw", 302, {
            "csrf_token": client.token, "pupil_initials": "B.M.", "pupil_group": "5b",
            "pupil_name": "Bench Mark"}, "/dossiers/")
        dossier = int(where.rstrip("/").rsplit("/", 1)[1])
        done = dict.fromkeys(STEPS, 0)

        def save(step: str, form: dict[str, Any]) -> None:
            client.expect("POST", f"/dossiers/{dossier}/stap/{step}", 302, {
                **form, "action": "save", "csrf_token": client.token,
                "base_version": done[step]}, f"/dossiers/{dossier}")
            done[step] += 1

        for step in STEPS:  # the first walk, a question at a time
            for form in stages(step, today, 1):
                save(step, form)
        for step in STEPS:  # edits, until every step has its history
            while done[step] < versions:
                save(step, stages(step, today, done[step] + 1)[-1])
        return Seeded(client.cookie_header(), client.token, dossier, done)
    finally:
        client.close()


def prepare_database(url: str, instance: Path, users: int) -> list[tuple[str, str]]:
    """Migrate, then add one account per client (password + TOTP set up), in this process
    with the instance folder the server will use (its encryption key and secret key)."""
    from meldroute.webapp import security
    from meldroute.webapp.app import create_app
    from meldroute.webapp.db import upgrade
    from meldroute.webapp.models import Membership, User

    upgrade(url)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance)})
    password_hash = security.hash_password(PASSWORD)  # one Argon2 hash serves every account
    accounts = [(f"bench{i:02d}", security.new_totp_secret()) for i in range(1, users + 1)]
    try:
        with app.extensions["meldroute.db_sessions"]() as db:
            for username, secret in accounts:
                user = User(username=username, display_name=f"Meting {username}",
                            password_hash=password_hash, totp_secret=secret)
                user.memberships.append(Membership(school_id=SCHOOL, role=ROLE))
                db.add(user)
            db.commit()
    finally:
        app.extensions["meldroute.db_engine"].dispose()
    return accounts


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


# -- the load ----------------------------------------------------------------------------

LUA = r"""
-- written by benchmarks/bench_load.py: one wrk thread per client, one connection each
local clients = %(clients)s
local mode = "%(mode)s"
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  client = clients[id]
  base = client.base
  bad = 0
  sample = ""
end

function request()
  if mode == "post" then
    return wrk.format("POST", client.path, {["Cookie"] = client.cookie,
      ["Content-Type"] = "application/x-www-form-urlencoded"},
      client.body .. "&base_version=" .. base)
  end
  return wrk.format("GET", client.path, {["Cookie"] = client.cookie})
end

function response(status, headers, body)
  if mode == "post" then
    local location = headers["Location"] or headers["location"] or ""
    if status == 302 and string.find(location, client.expect, 1, true) then
      base = base + 1
      return
    end
    sample = status .. " " .. location .. " " .. string.sub(body, 1, 300)
  elseif status == 200 then
    return
  else
    sample = status .. " " .. string.sub(body, 1, 300)
  end
  bad = bad + 1
end

function done(summary, latency, requests)
  local bad_total, sample = 0, ""
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
    if sample == "" then sample = thread:get("sample") end
  end
  if sample ~= "" then io.write("SAMPLE " .. string.gsub(sample, "%%s+", " ") .. "\n") end
  local e = summary.errors
  io.write(string.format('BENCH {"requests": %%d, "duration_us": %%d, "p50_us": %%d, ' ..
    '"p99_us": %%d, "bad": %%d, "socket": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad_total, e.connect + e.read + e.write + e.timeout))
end
"""


def lua_string(value: str) -> str:
    if not value.isascii() or "]]" in value:
        raise BenchError(f"cannot pass {value[:40]!r} to wrk")
    return f"[[{value}]]"


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_s: float = 0.0
    db_cpu_s: float = 0.0  # PostgreSQL's processes (0 for SQLite, inside the server)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """Server CPU time per page."""
        return self.cpu_s * 1000 / self.requests if self.requests else 0.0

    @property
    def db_cpu_ms(self) -> float:
        """PostgreSQL's CPU time per page."""
        return self.db_cpu_s * 1000 / self.requests if self.requests else 0.0


def wrk(port: int, clients: list[dict[str, Any]], mode: str, seconds: int,
        work: Path) -> Result:
    """Run wrk for ``seconds`` with one thread and connection per client."""
    rows = ",\n".join("{" + ", ".join(
        f"{key} = {value}" if isinstance(value, int) else f"{key} = {lua_string(value)}"
        for key, value in client.items()) + "}" for client in clients)
    script = work / f"wrk-{mode}.lua"
    script.write_text(LUA % {"clients": "{\n" + rows + "\n}", "mode": mode})
    n = len(clients)
    argv = ["wrk", f"-t{n}", f"-c{n}", f"-d{seconds}s", "--timeout", "30s",
            "-s", str(script), f"http://127.0.0.1:{port}/"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    line = next((line for line in proc.stdout.splitlines() if line.startswith("BENCH ")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(line[6:])
    sample = next((line for line in proc.stdout.splitlines() if line.startswith("SAMPLE ")), "")
    if sample:
        print(f"    an unexpected response: {sample[7:]}", file=sys.stderr)
    return Result(data["requests"], data["duration_us"] / 1e6, data["p50_us"] / 1000,
                  data["p99_us"] / 1000, data["bad"] + data["socket"])


# -- one server set-up -------------------------------------------------------------------


@dataclass
class Setup:
    name: str
    app_port: int
    bare_port: int
    app_group: int
    bare_group: int
    seeded: list[Seeded]
    page_bytes: int
    # starts the same app keeping no pages (MELDROUTE_KEPT_PAGES=0): its port and group
    start_fresh: Callable[[], tuple[int, int]]
    postmaster: int | None = None  # PostgreSQL's, when it runs on this machine


def current_versions(setup: Setup, step: str) -> list[int]:
    """The newest version of ``step`` in each client's dossier, read from its page once
    the server is quiet (saves still in flight when wrk stopped are not in its count)."""
    time.sleep(1)
    versions = []
    for s in setup.seeded:
        found = BASE.search(s.page(setup.app_port, step))
        if not found:
            raise BenchError(f"no base_version on the page of dossier {s.dossier}")
        versions.append(int(found.group(1)))
    return versions


def measure(setup: Setup, args: argparse.Namespace, today: dt.date,
            work: Path, procs: Processes) -> dict[str, Result]:
    step = args.step
    get_clients = [{"path": f"/dossiers/{s.dossier}/stap/{step}", "cookie": s.cookie,
                    "base": 0, "body": "", "expect": ""} for s in setup.seeded]
    bare_clients = [{"path": "/", "cookie": "", "base": 0, "body": "", "expect": ""}
                    for _ in setup.seeded]
    form = {**stages(step, today, 0)[-1], "action": "save"}
    bodies = [urllib.parse.urlencode({**form, "csrf_token": s.token}, doseq=True)
              for s in setup.seeded]
    results: dict[str, Result] = {}
    plan = [("bare page (GET /)", setup.bare_port, setup.bare_group, bare_clients, "get"),
            (f"step page (GET {step})", setup.app_port, setup.app_group, get_clients, "get"),
            ("  rendered afresh", 0, 0, get_clients, "get"),  # on its own server, below
            (f"save (POST {step})", setup.app_port, setup.app_group, None, "post")]
    runs = ([(args.warmup, " warm-up")] if args.warmup > 0 else []) + [(args.duration, "")]
    for label, port, group, clients, mode in plan:
        if port == 0:  # started for this page only: it idles at no other page's cost
            port, group = setup.start_fresh()
        for seconds, note in runs:
            if clients is None:  # saves: base_version as the server has it now
                bases = current_versions(setup, step)
                run_clients = [{"path": f"/dossiers/{s.dossier}/stap/{step}", "cookie": s.cookie,
                                "base": base, "body": body, "expect": f"/dossiers/{s.dossier}"}
                               for s, body, base in zip(setup.seeded, bodies, bases, strict=True)]
            else:
                run_clients = clients
            print(f"  {setup.name}: {label}, {seconds} s{note} (load {load_avg()})",
                  file=sys.stderr)
            cpu, db_cpu = group_cpu(group), cluster_cpu(setup.postmaster)
            result = wrk(port, run_clients, mode, seconds, work)
            result.cpu_s = group_cpu(group) - cpu
            result.db_cpu_s = cluster_cpu(setup.postmaster) - db_cpu
        results[label] = result
        if group not in (setup.app_group, setup.bare_group):
            procs.stop(group)
    return results


def start_set_up(name: str, args: argparse.Namespace, procs: Processes, env: dict[str, str],
                 app_argv: Callable[[int], list[str]], bare_argv: list[str], today: dt.date,
                 accounts: list[tuple[str, str]], app_port: int, bare_port: int) -> Setup:
    print(f"{name}: starting the app, signing in {len(accounts)} clients, seeding "
          f"{len(accounts)} dossiers x {len(STEPS)} steps x {args.versions} versions",
          file=sys.stderr)
    app_group = procs.start(f"{name}-app", app_argv(app_port), env, app_port)
    pool = ThreadPoolExecutor(max_workers=4)
    try:
        seeded = list(pool.map(lambda account: seed(app_port, account[0], account[1],
                                                    args.versions, today),
                               accounts))
    finally:  # on Ctrl-C, do not wait for the other clients: the servers are stopped next
        pool.shutdown(wait=False, cancel_futures=True)
    page = seeded[0].page(app_port, args.step)
    found = BASE.search(page)
    if not found or int(found.group(1)) != seeded[0].versions[args.step]:
        raise BenchError(f"the step page shows base_version {found and found.group(1)}, "
                         f"expected {seeded[0].versions[args.step]}")
    size = len(page.encode())
    bare_group = procs.start(f"{name}-bare", bare_argv,
                             {**env, "MELDROUTE_BENCH_BYTES": str(size)}, bare_port, cwd=HERE)
    bare = Client(bare_port)
    _, bare_page = bare.expect("GET", "/", 200)
    bare.close()
    print(f"{name}: step page {size:,} bytes, bare page {len(bare_page.encode()):,} bytes",
          file=sys.stderr)

    def start_fresh() -> tuple[int, int]:
        port = free_port()
        group = procs.start(f"{name}-fresh", app_argv(port),
                            {**env, "MELDROUTE_KEPT_PAGES": "0"}, port)
        again = BASE.search(seeded[0].page(port, args.step))
        if not again or again.group(1) != found.group(1):  # type: ignore[union-attr]
            raise BenchError("the app that keeps no pages shows another step page")
        return port, group

    return Setup(name, app_port, bare_port, app_group, bare_group, seeded, size, start_fresh)


def run_waitress(args: argparse.Namespace, base_env: dict[str, str], today: dt.date,
                 work: Path, procs: Processes) -> tuple[Setup, dict[str, Result]]:
    instance = work / "instance-waitress"
    url = f"sqlite:///{instance / 'meldroute.db'}"
    instance.mkdir()
    accounts = prepare_database(url, instance, args.clients)
    env = {**base_env, "MELDROUTE_INSTANCE": str(instance), "MELDROUTE_DATABASE_URL": url}
    app_port, bare_port = free_port(), free_port()
    meldroute = BIN / "meldroute"

    def app_argv(port: int) -> list[str]:
        return [str(meldroute) if meldroute.exists() else "meldroute", "serve",
                "--host", "127.0.0.1", "--port", str(port), "--threads", str(args.threads)]

    bare_argv = [sys.executable, str(HERE / "bare_app.py"), "--port", str(bare_port),
                 "--threads", str(args.threads)]
    setup = start_set_up(f"waitress ({args.threads} threads) + SQLite", args, procs, env,
                         app_argv, bare_argv, today, accounts, app_port, bare_port)
    return setup, measure(setup, args, today, work, procs)


def run_gunicorn(args: argparse.Namespace, base_env: dict[str, str], today: dt.date,
                 work: Path, procs: Processes, url: str) -> tuple[Setup, dict[str, Result]]:
    instance = work / "instance-gunicorn"
    instance.mkdir()
    reset_postgres(url)
    accounts = prepare_database(url, instance, args.clients)
    env = {**base_env, "MELDROUTE_INSTANCE": str(instance), "MELDROUTE_DATABASE_URL": url}
    app_port, bare_port = free_port(), free_port()

    def gunicorn(port: int, app: str) -> list[str]:
        kind = ["-k", "gthread", "--threads", str(args.gunicorn_threads)] \
            if args.gunicorn_threads > 1 else []
        return [sys.executable, "-m", "gunicorn", "-w", str(args.workers), *kind, "-b",
                f"127.0.0.1:{port}", "--chdir", str(HERE), app]

    workers = f"{args.workers} sync workers" if args.gunicorn_threads <= 1 else \
        f"{args.workers} workers x {args.gunicorn_threads} threads"
    setup = start_set_up(f"gunicorn ({workers}) + PostgreSQL", args, procs,
                         env, lambda port: gunicorn(port, "meldroute.webapp.wsgi:app"),
                         gunicorn(bare_port, "bare_app:app"), today, accounts, app_port,
                         bare_port)
    setup.postmaster = postmaster_of(url)
    return setup, measure(setup, args, today, work, procs)


def report(setup: Setup, results: dict[str, Result], args: argparse.Namespace) -> None:
    print()
    print(f"{setup.name}: {args.clients} clients (one connection each, wrk), "
          f"{args.duration} s per page after {args.warmup} s warm-up; "
          f"{len(setup.seeded)} dossiers x {len(STEPS)} steps x {args.versions} versions; "
          f"pages of {setup.page_bytes:,} bytes")
    db = setup.postmaster is not None
    print(f"{'page':<26} {'pages/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7} "
          f"{'requests':>9} {'CPU ms/page':>12}" + (f" {'+ PostgreSQL':>13}" if db else ""))
    for label, r in results.items():
        print(f"{label:<26} {r.rate:9.1f} {r.p50_ms:9.1f} {r.p99_ms:9.1f} {r.errors:7d} "
              f"{r.requests:9d} {r.cpu_ms:12.2f}" + (f" {r.db_cpu_ms:13.2f}" if db else ""))
    bare, step, fresh, save = results.values()
    for name, r in (("step/bare", step), ("fresh/bare", fresh), ("save/bare", save)):
        ratio = bare.rate / r.rate if r.rate else float("inf")
        cpu = r.cpu_ms / bare.cpu_ms if bare.cpu_ms else float("inf")
        both = (r.cpu_ms + r.db_cpu_ms) / (bare.cpu_ms + bare.db_cpu_ms) \
            if bare.cpu_ms else float("inf")
        print(f"ratio {name}: {ratio:5.1f}x  (pages/s of the bare page / pages/s; "
              f"p50 {r.p50_ms / bare.p50_ms:.1f}x; server CPU per page {cpu:.1f}x"
              + (f"; with PostgreSQL's {both:.1f}x" if db else "") + ")")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per page (10)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="seconds of load before each measurement, not counted (2; 0: none)")
    parser.add_argument("--threads", type=int, default=8,
                        help="waitress threads, as `meldroute serve --threads` (8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--gunicorn-threads", type=int, default=1,
                        help="threads per gunicorn worker (1: sync workers; more: gthread)")
    parser.add_argument("--versions", type=int, default=10,
                        help="versions seeded per step (10; at least 3)")
    parser.add_argument("--step", default="signaleren", choices=STEPS,
                        help="the step page that is read and saved (signaleren)")
    parser.add_argument("--server", default="all", choices=["all", "waitress", "gunicorn"],
                        help="all: waitress, and gunicorn when MELDROUTE_TEST_POSTGRES is set")
    args = parser.parse_args()
    if args.clients < 1 or args.duration <= 0 or args.warmup < 0 or args.versions < 3:
        parser.error("--clients >= 1, --duration > 0, --warmup >= 0, --versions >= 3")
    if shutil.which("wrk") is None:
        parser.error("wrk not found (Debian: apt-get install wrk)")
    postgres = os.environ.get("MELDROUTE_TEST_POSTGRES")
    if args.server == "gunicorn" and not postgres:
        parser.error("--server gunicorn needs MELDROUTE_TEST_POSTGRES")
    if postgres and args.server != "waitress":
        try:
            import gunicorn  # noqa: F401
        except ImportError:
            parser.error("gunicorn is not installed here (pip install gunicorn)")
    # this process and the servers see no MELDROUTE_* settings but the ones set here
    for name in [n for n in os.environ if n.startswith("MELDROUTE_")]:
        del os.environ[name]
    base_env = dict(os.environ)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    today = dt.date.today()
    print(f"load average before: {load_avg()} ({os.cpu_count()} cores)")
    outcome: list[tuple[Setup, dict[str, Result]]] = []
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-load-")))
        procs = Processes(work)
        stack.callback(procs.stop_all)
        try:
            if args.server in ("all", "waitress"):
                outcome.append(run_waitress(args, base_env, today, work, procs))
                procs.stop_all()
            if postgres and args.server in ("all", "gunicorn"):
                stack.callback(reset_postgres, postgres)  # the seeded data goes,
                stack.callback(procs.stop_all)  # once the servers have stopped
                outcome.append(run_gunicorn(args, base_env, today, work, procs, postgres))
                procs.stop_all()
        except BenchError as err:
            print(f"bench_load: {err}", file=sys.stderr)
            for name, _ in procs.running:
                print(f"--- the end of {name}'s log:\n{procs.tail(name)}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("bench_load: interrupted; stopping the servers", file=sys.stderr)
            return 130
    for setup, results in outcome:
        report(setup, results, args)
    print(f"\nload average after: {load_avg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
