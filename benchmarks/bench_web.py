"""Server time to sign in, render a step form and save one, against a minimal Flask page.

    python benchmarks/bench_web.py [--rounds N]

All three go through the Flask test client in the same process and run (no network):
a minimal Flask app returning a small template (the baseline); signing in with password
(Argon2id) and TOTP code (two POSTs, server-side session); GET of a new dossier's step
page (evaluate + generated form + template + audit entry), and POST of that step
(validate, encrypt and store a version in SQLite, audit, re-evaluate, redirect). Each
round uses a new dossier. Prints medians and ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import tempfile
import time
from pathlib import Path

import pyotp
from flask import Flask, render_template_string

from meldroute.webapp import security
from meldroute.webapp.app import create_app
from meldroute.webapp.db import upgrade
from meldroute.webapp.models import Membership, User

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
BASE = re.compile(r'name="base_version" value="(\d+)"')


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()

    minimal = Flask("minimal")

    @minimal.route("/")
    def hello() -> str:
        return render_template_string("<!doctype html><title>{{ t }}</title><p>{{ t }}</p>",
                                      t="Meldroute")

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        clock = [dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)]
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": tmp, "SECRET_KEY": "bench",
                          "SESSION_COOKIE_SECURE": False, "NOW": lambda: clock[0]})
        secret = security.new_totp_secret()
        password = "een lang wachtwoord voor de meting"
        with app.extensions["meldroute.db_sessions"]() as db:
            user = User(username="ib", display_name="IB", totp_secret=secret,
                        password_hash=security.hash_password(password))
            user.memberships.append(Membership(school_id="regenboog", role="ib"))
            db.add(user)
            db.commit()

        def sign_in() -> tuple[object, float]:
            client = app.test_client()
            token = TOKEN.search(client.get("/inloggen").get_data(as_text=True)).group(1)
            clock[0] += dt.timedelta(seconds=30)  # a fresh TOTP time step each round
            start = time.perf_counter()
            client.post("/inloggen", data={"csrf_token": token, "username": "ib",
                                           "password": password})
            response = client.post("/inloggen/code", data={
                "csrf_token": token, "code": pyotp.TOTP(secret).at(clock[0])})
            elapsed = time.perf_counter() - start
            assert response.headers["Location"] == "/dossiers", response.status_code
            return client, elapsed

        client, _ = sign_in()
        token = TOKEN.search(client.get("/dossiers/nieuw").get_data(as_text=True)).group(1)

        def new_dossier() -> str:
            location = client.post("/dossiers/nieuw", data={
                "csrf_token": token, "pupil_initials": "B.M.", "pupil_group": "4",
                "pupil_name": "Bench Mark"}).headers["Location"]
            return str(location) + "/stap/signaleren"

        data = {"observaties-0-datum": "2026-11-20",
                "observaties-0-waargenomen_door": "leerkracht",
                "observaties-0-feit": "Een feitelijke observatie.", "action": "save"}

        baseline_client = minimal.test_client()
        base, login, render, save = [], [], [], []
        for _ in range(max(args.rounds // 10, 10)):
            login.append(sign_in()[1])
        for _ in range(args.rounds):
            start = time.perf_counter()
            assert baseline_client.get("/").status_code == 200
            base.append(time.perf_counter() - start)

            step_url = new_dossier()  # a dossier as staff meet it: step 1 still open
            start = time.perf_counter()
            page = client.get(step_url)
            render.append(time.perf_counter() - start)
            html = page.get_data(as_text=True)
            form = {**data, "csrf_token": TOKEN.search(html).group(1),
                    "base_version": BASE.search(html).group(1)}

            start = time.perf_counter()
            response = client.post(step_url, data=form)
            save.append(time.perf_counter() - start)
            assert response.status_code == 302, response.get_data(as_text=True)[:500]

        app.extensions["meldroute.db_engine"].dispose()

    b, r, s = median_ms(base), median_ms(render), median_ms(save)
    sign = median_ms(login)
    print(f"{args.rounds} rounds, Flask test client, SQLite (WAL) in a temporary folder")
    print(f"minimal Flask page (baseline): median {b:7.2f} ms")
    print(f"sign in (password + TOTP):     median {sign:7.2f} ms  ({sign / b:.0f}x baseline, "
          f"{len(login)} rounds)")
    print(f"render step form (GET):        median {r:7.2f} ms  ({r / b:.0f}x baseline)")
    print(f"save step (POST, new version): median {s:7.2f} ms  ({s / b:.0f}x baseline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
