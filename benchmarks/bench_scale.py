"""How pages grow with the data: the overview of 2,000 dossiers against 20, and a dossier
with 200 versions per step against one with a single version.

    python benchmarks/bench_scale.py [--rounds 40] [--dossiers 2000] [--versions 200]

In process, through the Flask test client (no network), on SQLite in a temporary folder,
demo mode. Two schools: the demo school holds 20 dossiers, a second school --dossiers;
the IB-er of each opens the overview (the first page). In the demo school, one dossier
has its first four steps recorded once, another the same steps with --versions versions
each; the IB-er opens step 1 of each. The two pages of a pair are requested in turns,
--rounds times, after one warm-up round. Prints the median time per page and the ratios
(targets: overview at most 3x, dossier at most 1.5x).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from meldroute.engine.loader import shipped_dir
from meldroute.webapp.app import create_app
from meldroute.webapp.db import upgrade
from meldroute.webapp.demo import ensure_demo_users
from meldroute.webapp.models import Dossier, StepRecord, User
from meldroute.webapp.services import create_dossier

TODAY = dt.date(2026, 11, 27)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
BASE = re.compile(r'name="base_version" value="(\d+)"')
OTHER_SCHOOL = """id: zonnebloem
name: Basisschool De Zonnebloem
contacts:
  veilig_thuis:
    name: Veilig Thuis (regio)
    phone: "0800-2000"
"""
WALK = [
    ("signaleren", {"observaties-0-datum": "2026-11-20",
                    "observaties-0-waargenomen_door": ["leerkracht"],
                    "observaties-0-feit": "De leerling had een blauwe plek op de arm.",
                    "observaties-0-bron": "zelf gezien",
                    "interpretatie": "Zorgen over de thuissituatie.",
                    "signaleren_checklist": ["1", "2"]}),
    ("consulteren", {"geconsulteerd": ["cjg", "veilig_thuis"],
                     "consultatie_datum": "2026-11-24",
                     "uitkomst_consultatie": "Advies: gesprek met ouders voeren."}),
    ("gesprek", {"gesprek_gevoerd": "y", "gesprek_datum": "2026-11-25",
                 "hoofdboodschap": "Wij maken ons zorgen."}),
    ("afwegen", {"sterk_vermoeden": "nee", "actie_nodig": "nee"}),
]


def sign_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    with app.extensions["meldroute.db_sessions"]() as db:
        user = db.scalar(select(User).where(User.username == username))
        assert user is not None
        user_id = user.id
    page = client.get("/inloggen").get_data(as_text=True)
    token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
    assert client.post("/inloggen", data={"csrf_token": token, "user": user_id}
                       ).status_code == 302
    return client


def walked_dossier(client: FlaskClient) -> int:
    page = client.get("/dossiers/nieuw").get_data(as_text=True)
    response = client.post("/dossiers/nieuw", data={
        "csrf_token": TOKEN.search(page).group(1),  # type: ignore[union-attr]
        "pupil_initials": "A.B.", "pupil_group": "5b", "pupil_name": "Fictieve Leerling"})
    dossier = int(response.headers["Location"].rstrip("/").split("/")[-1])
    for step, data in WALK:
        page = client.get(f"/dossiers/{dossier}/stap/{step}").get_data(as_text=True)
        form = {"action": "save", "csrf_token": TOKEN.search(page).group(1),  # type: ignore
                "base_version": BASE.search(page).group(1), **data}  # type: ignore
        response = client.post(f"/dossiers/{dossier}/stap/{step}", data=form)
        assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    return dossier


def add_versions(app: Flask, dossier: int, versions: int) -> None:
    """Copies of each recorded step's version 1, up to ``versions`` versions."""
    with app.extensions["meldroute.db_sessions"]() as db:
        firsts = db.scalars(select(StepRecord).where(StepRecord.dossier_id == dossier)).all()
        for first in firsts:
            db.add_all(StepRecord(dossier_id=dossier, step_id=first.step_id, version=v,
                                  data=first.data, author_id=first.author_id,
                                  created_at=first.created_at,
                                  school_config_id=first.school_config_id,
                                  board_config_id=first.board_config_id)
                       for v in range(2, versions + 1))
        db.commit()


def add_dossiers(app: Flask, school_id: str, count: int) -> None:
    registry = app.extensions["meldroute.registry"]
    with app.app_context(), app.extensions["meldroute.db_sessions"]() as db:
        owner = db.scalar(select(User).where(User.username == f"{school_id}-leerkracht"))
        template = create_dossier(db, registry, registry.school(school_id), owner, "T.0.",
                                  "3", "Verzonnen Kind", TODAY)
        db.add_all(Dossier(school_id=school_id, pupil_initials=f"T.{n}.", pupil_group="3",
                           pupil_name="Verzonnen Kind",
                           protocol_digest=template.protocol_digest,
                           created_by_id=owner.id, current_step=template.current_step,
                           next_question=template.next_question,
                           responsible=template.responsible)
                   for n in range(1, count))
        db.commit()


def pair(rounds: int, small: Callable[[], Any], large: Callable[[], Any]
         ) -> tuple[float, float]:
    times: tuple[list[float], list[float]] = ([], [])
    for n in range(rounds + 1):
        for get, into in ((small, times[0]), (large, times[1])):
            start = time.perf_counter()
            get()
            if n:  # the first round warms up
                into.append(time.perf_counter() - start)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def getter(client: FlaskClient, url: str) -> Callable[[], Any]:
    def get() -> Any:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return get


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--versions", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'scale.db'}"
        upgrade(url)
        other = Path(tmp) / "zonnebloem.yaml"
        other.write_text(OTHER_SCHOOL, encoding="utf-8")
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(Path(tmp) / "instance"),
                          "SECRET_KEY": "bench", "DEMO": True, "CLOCK": lambda: TODAY,
                          "SESSION_COOKIE_SECURE": False,
                          "SCHOOL_PATHS": [shipped_dir("schools") / "demo.yaml", other]})
        with app.app_context(), app.extensions["meldroute.db_sessions"]() as db:
            # the demo users of both schools (by default only the demo school's)
            ensure_demo_users(db, app.extensions["meldroute.registry"],
                              ["regenboog", "zonnebloem"])
        ib = sign_in(app, "regenboog-ib")
        one, many = walked_dossier(ib), walked_dossier(ib)
        add_versions(app, many, args.versions)
        add_dossiers(app, "regenboog", 20 - 2)
        add_dossiers(app, "zonnebloem", args.dossiers)
        other_ib = sign_in(app, "zonnebloem-ib")
        small, large = pair(args.rounds, getter(ib, "/dossiers"),
                            getter(other_ib, "/dossiers"))
        print(f"overview, 20 dossiers:            {small:7.1f} ms")
        print(f"overview, {args.dossiers} dossiers:          {large:7.1f} ms   "
              f"ratio {large / small:.2f}x (target <= 3x)")
        single, versioned = pair(args.rounds, getter(ib, f"/dossiers/{one}/stap/signaleren"),
                                 getter(ib, f"/dossiers/{many}/stap/signaleren"))
        print(f"dossier, 1 version per step:      {single:7.1f} ms")
        print(f"dossier, {args.versions} versions per step:  {versioned:7.1f} ms   "
              f"ratio {versioned / single:.2f}x (target <= 1.5x)")
        app.extensions["meldroute.db_engine"].dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
