"""Size and render time of the dossier PDF (/dossiers/<id>/pdf, WeasyPrint) for a dossier
with many timeline entries.

    python benchmarks/bench_pdf.py [--entries 50] [--rounds 5]

A demo-school dossier with steps 1-3 recorded, then notes until the timeline has
``--entries`` entries (the start, three steps, the open deadlines and the notes); the PDF
is fetched through the Flask test client (no network), signed in as the demo IB-er.
Prints the PDF's size, its pages, and the median time of a request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from meldroute.webapp.app import create_app
from meldroute.webapp.db import upgrade
from meldroute.webapp.demo import ensure_demo_users
from meldroute.webapp.models import DossierNote, User
from meldroute.webapp.services import create_dossier, save_step

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.web.conftest import sign_in_as  # noqa: E402

NOTE = ("Veilig Thuis gebeld over de zorgen; teruggebeld met het advies het gesprek met "
        "ouders te voeren en de afweging daarna opnieuw te maken. Nummer {}.")
STEPS = {
    "signaleren": {"observaties": [{"datum": "2026-11-20", "waargenomen_door": ["leerkracht"],
                                    "feit": "Blauwe plek op de arm.", "bron": "zelf gezien"}],
                   "interpretatie": "Zorgen over de thuissituatie."},
    "consulteren": {"geconsulteerd": ["cjg"], "consultatie_datum": "2026-11-24",
                    "uitkomst_consultatie": "Advies: gesprek met ouders voeren."},
    "gesprek": {"gesprek_gevoerd": True, "gesprek_datum": "2026-11-25",
                "hoofdboodschap": "Wij maken ons zorgen."},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, help="write the last PDF to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": tmp, "SECRET_KEY": "bench",
                          "SESSION_COOKIE_SECURE": False, "DEMO": True})
        registry = app.extensions["meldroute.registry"]
        today = app.config["CLOCK"]()
        with app.app_context(), app.extensions["meldroute.db_sessions"]() as db:
            ensure_demo_users(db, registry)
            ib = db.scalar(select(User).where(User.username == "regenboog-ib"))
            school = registry.school("regenboog")
            protocol = registry.protocol_for(school)
            dossier = create_dossier(db, registry, school, ib, "A.B.", "5b", "Fictieve Leerling",
                                     today)
            db.commit()
            for step, answers in STEPS.items():
                save_step(db, registry, dossier, protocol.step(step), answers, ib, 0, today)
            notes = args.entries - 1 - len(STEPS)
            moment = dt.datetime.now(dt.UTC)
            for i in range(notes):
                db.add(DossierNote(dossier_id=dossier.id, text=NOTE.format(i + 1),
                                   author_id=ib.id, created_at=moment))
            db.commit()
            dossier_id, user_id = dossier.id, ib.id
        client = app.test_client()
        sign_in_as(app, client, user_id, "regenboog")
        times, size, pages = [], 0, 0
        for _ in range(args.rounds):
            start = time.perf_counter()
            response = client.get(f"/dossiers/{dossier_id}/pdf")
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
            size = len(response.data)
        from pypdf import PdfReader

        pages = len(PdfReader(io.BytesIO(response.data)).pages)
        if args.out:
            args.out.write_bytes(response.data)
        app.extensions["meldroute.db_engine"].dispose()
    print(f"PDF van een dossier met {args.entries} tijdlijnregels ({notes} notities): "
          f"{size / 1024:.0f} KiB, {pages} pagina's; mediaan {statistics.median(times):.2f} s "
          f"per verzoek (min {min(times):.2f} s, max {max(times):.2f} s, {args.rounds} keer)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
