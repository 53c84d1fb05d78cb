"""Where a step page's time goes: the in-process step GET (and save) under cProfile.

    python benchmarks/profile_step.py [--rounds 200] [--versions 10] [--save] [--top 40]
                                      [--sort cumulative] [--out FILE] [--not-kept]
                                      [--postgres]

In process through the Flask test client, SQLite in a temporary folder, demo school, the
IB-er's dossier with steps 1-4 recorded --versions times (bench_scale.py's walk). Prints
the mean wall and CPU time per page, then cProfile's top entries by cumulative time.
A repeated view of an unchanged dossier is served from the kept pages (webapp/pagecache.py);
--not-kept empties them before every GET, to measure a page rendered afresh (the first
view after a change). --postgres uses the throwaway database MELDROUTE_TEST_POSTGRES names
instead of SQLite (its public schema is dropped before and after).

Then the profile's own time per package (the page's code, SQLAlchemy, WTForms, Flask,
the database driver, ...), as shares of the whole: where a flat profile's time goes.

Then the database round trips per page, counted with SQLAlchemy's events over --rounds
pages: the statements, the pings of pooled connections (the dialect's ping, as a pre-ping
makes), and the transactions' ends (commit or rollback). On PostgreSQL psycopg also sends
a BEGIN before a transaction's first statement (or its ping): one more per transaction.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import reset_postgres  # noqa: E402
from bench_scale import BASE, TODAY, TOKEN, add_versions, sign_in, walked_dossier  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import event  # noqa: E402

from meldroute.engine.loader import shipped_dir  # noqa: E402
from meldroute.webapp.app import create_app  # noqa: E402
from meldroute.webapp.db import upgrade  # noqa: E402
from meldroute.webapp.demo import ensure_demo_users  # noqa: E402
from meldroute.webapp.pagecache import PAGES  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--save", action="store_true", help="profile the save POST")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--out", help="also write the raw profile here (pstats)")
    parser.add_argument("--not-kept", action="store_true",
                        help="empty the kept pages before every GET (a fresh render)")
    parser.add_argument("--postgres", action="store_true",
                        help="PostgreSQL at MELDROUTE_TEST_POSTGRES instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'profile.db'}"
        if args.postgres:
            url = os.environ["MELDROUTE_TEST_POSTGRES"]
            reset_postgres(url)
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(Path(tmp) / "instance"),
                          "SECRET_KEY": "bench", "DEMO": True, "CLOCK": lambda: TODAY,
                          "SESSION_COOKIE_SECURE": False,
                          "SCHOOL_PATHS": [shipped_dir("schools") / "demo.yaml"]})
        with app.app_context(), app.extensions["meldroute.db_sessions"]() as db:
            ensure_demo_users(db, app.extensions["meldroute.registry"])
        ib = sign_in(app, "regenboog-ib")
        dossier = walked_dossier(ib)
        add_versions(app, dossier, args.versions)
        page_url = f"/dossiers/{dossier}/stap/signaleren"
        page = ib.get(page_url).get_data(as_text=True)
        token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
        base = int(BASE.search(page).group(1))  # type: ignore[union-attr]

        def once() -> None:
            nonlocal base
            if not args.save:
                if args.not_kept and PAGES in app.extensions:
                    app.extensions[PAGES].clear()
                assert ib.get(page_url).status_code == 200
                return
            response = ib.post(page_url, data={
                "action": "save", "csrf_token": token, "base_version": str(base),
                "observaties-0-datum": "2026-11-20",
                "observaties-0-waargenomen_door": ["leerkracht"],
                "observaties-0-feit": f"Een blauwe plek op de arm ({base}).",
                "observaties-0-bron": "zelf gezien", "interpretatie": "Zorgen.",
                "signaleren_checklist": ["1", "2"]})
            assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
            base += 1

        for _ in range(20):
            once()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.rounds):
            once()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        what = "save" if args.save else "step page" + (" (rendered afresh)" if args.not_kept
                                                        else " (kept)")
        print(f"{what}: {wall / args.rounds * 1000:.2f} ms "
              f"wall, {cpu / args.rounds * 1000:.2f} ms CPU per page")
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.rounds):
            once()
        profiler.disable()
        if args.out:
            profiler.dump_stats(args.out)
        stats = pstats.Stats(profiler)
        stats.sort_stats(args.sort).print_stats(args.top)
        print(by_package(stats))
        print(round_trips(app, once, args.rounds))
        app.extensions["meldroute.db_engine"].dispose()
        if args.postgres:
            reset_postgres(url)
    return 0


# where a function's code lives, by the first of these in its file's path (else "other");
# built-ins by their name: the database drivers' C code ("sqlite3", "psycopg"), else
# "{built-in}" (dict.get, isinstance, ...)
ROOT = Path(__file__).resolve().parent.parent
OWN = ("engine", "forms", "webapp")  # the package's code (pyproject.toml's packages)
STDLIB = Path(sysconfig.get_paths()["stdlib"])
PACKAGES = ("meldroute", "sqlalchemy", "psycopg", "wtforms", "flask_wtf", "flask", "werkzeug",
            "jinja2", "markupsafe", "itsdangerous", "cryptography", "benchmarks")


def package_of(filename: str, name: str) -> str:
    """The package a profiled function belongs to (see PACKAGES)."""
    if filename == "~":
        return next((d for d in ("sqlite3", "psycopg") if d in name), "{built-in}")
    path = Path(filename)
    if any(path.is_relative_to(ROOT / folder) for folder in OWN):
        return "meldroute"  # the package's folders, installed in place (editable)
    if path.parts[-2:] in (("werkzeug", "test.py"), ("flask", "testing.py")):
        return "test client"  # the benchmark's client, not the page's server
    if path.is_relative_to(STDLIB) and "site-packages" not in path.parts:
        return "stdlib"
    return next((package for package in PACKAGES if package in path.parts), "other")


def by_package(stats: pstats.Stats) -> str:
    """The profile's own (self) time per package, largest first, as shares of the whole.
    Built-ins count apart, the database driver's (its execute, its commit) by name."""
    own: Counter[str] = Counter()
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        own[package_of(filename, name)] += row[2]  # (calls, primitive calls, own time, ...)
    total = sum(own.values()) or 1.0
    return "own time per package: " + ", ".join(
        f"{name} {seconds / total:.0%}" for name, seconds in own.most_common())


def round_trips(app: Flask, once: Callable[[], None], rounds: int) -> str:
    """The database round trips per page, counted over ``rounds`` pages."""
    engine = app.extensions["meldroute.db_engine"]
    counted: Counter[str] = Counter()
    real_ping = engine.dialect.do_ping

    def ping(dbapi_connection: Any) -> bool:
        counted["pings"] += 1
        return bool(real_ping(dbapi_connection))

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", lambda *_: counted.update(["statements"])),
        ("begin", lambda *_: counted.update(["transactions"])),
        ("commit", lambda *_: counted.update(["ends"])),
        ("rollback", lambda *_: counted.update(["ends"]))]
    engine.dialect.do_ping = ping
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        for _ in range(rounds):
            once()
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
        del engine.dialect.do_ping
    per = {name: counted[name] / rounds for name in
           ("statements", "pings", "transactions", "ends")}
    begins = per["transactions"] if engine.dialect.name == "postgresql" else 0.0
    total = per["statements"] + per["pings"] + per["ends"] + begins
    return ("round trips per page: " + ", ".join(f"{v:.2f} {k}" for k, v in per.items())
            + f"; {total:.2f} in all" + (" (with a BEGIN per transaction)" if begins else ""))


if __name__ == "__main__":
    sys.exit(main())
