"""Browser tests: the demo app on a local port, driven by Playwright in Debian's Chromium.

Skipped when no Chromium is found, except in CI (CI=true), where that fails the run.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from meldroute.webapp.app import create_app
from meldroute.webapp.db import upgrade
from meldroute.webapp.demo import ensure_demo_users

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("MELDROUTE_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no Chromium found (install Debian's chromium)")
        pytest.skip("no Chromium found")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def serve_app(tmp_path: Path, prepare: Any = None) -> Iterator[str]:
    """The demo app on a free local port, its database in ``tmp_path``; ``prepare(db,
    registry)`` runs before it serves (extra users, a board)."""
    url = f"sqlite:///{tmp_path / 'meldroute.db'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path), "DEMO": True,
                      "SECRET_KEY": "browser-test"})
    with app.extensions["meldroute.db_sessions"]() as db:
        ensure_demo_users(db, app.extensions["meldroute.registry"])
        if prepare is not None:
            prepare(db, app.extensions["meldroute.registry"])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["meldroute.db_engine"].dispose()


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[str]:
    yield from serve_app(tmp_path)


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(locale="nl-NL")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


# --- what a person does in the browser --------------------------------------------------

TODAY = dt.date.today()


def sign_in(page: Any, base: str, who: str) -> None:
    page.goto(f"{base}/inloggen")
    page.get_by_role("button", name=who, exact=True).click()
    page.get_by_role("heading", name="Dossiers").wait_for()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Uitloggen").click()


def save(page: Any, step: int) -> None:
    page.get_by_role("button", name=f"Stap {step} opslaan").click()
    page.get_by_text("is opgeslagen").wait_for()


def answer(page: Any, question: str, value: str) -> None:
    """Choose an answer (every question of a step is on one form; save once)."""
    page.check(f'input[name="{question}"][value="{value}"]')


def record_steps_one_to_three(page: Any, base: str) -> str:
    sign_in(page, base, "Demo leerkracht")
    page.get_by_role("link", name="Nieuw dossier").first.click()
    page.get_by_label("Initialen van de leerling").fill("E.F.")
    page.get_by_label("Groep").fill("6a")
    page.get_by_label("Volledige naam").fill("Eva Fictief")
    page.get_by_role("button", name="Dossier aanmaken").click()
    page.get_by_role("heading", name="Stap 1: Signaleren").wait_for()
    dossier_url = page.url

    page.fill('input[name="observaties-0-datum"]', (TODAY - dt.timedelta(days=3)).isoformat())
    page.check('input[name="observaties-0-waargenomen_door"][value="leerkracht"]')
    page.fill('textarea[name="observaties-0-feit"]', "Leerling kwam drie dagen zonder lunch.")
    page.fill('input[name="observaties-0-bron"]', "zelf gezien")
    page.get_by_role("button", name="Regel toevoegen").click()
    page.fill('input[name="observaties-1-datum"]', (TODAY - dt.timedelta(days=1)).isoformat())
    page.check('input[name="observaties-1-waargenomen_door"][value="ib"]')
    page.fill('textarea[name="observaties-1-feit"]', "Leerling vertelde bang te zijn thuis.")
    page.get_by_label("Interpretatie en zorgen").fill("Zorgen over verwaarlozing.")
    save(page, 1)

    page.get_by_role("heading", name="Stap 2: Consulteren").wait_for()
    page.check('input[name="geconsulteerd"][value="cjg"]')
    page.check('input[name="geconsulteerd"][value="veilig_thuis"]')
    page.get_by_label("Datum consultatie").fill(TODAY.isoformat())
    page.get_by_label("Uitkomst van de consultaties").fill("Advies: gesprek met ouders.")
    save(page, 2)

    page.get_by_role("heading", name="Stap 3: Gesprek voeren").wait_for()
    page.get_by_label("Het gesprek met ouders is gevoerd").check()
    page.get_by_label("Datum gesprek").fill(TODAY.isoformat())
    page.get_by_label("Hoofdboodschap", exact=True).fill("Wij maken ons zorgen.")
    save(page, 3)
    page.get_by_role("heading", name="Stap 4: Afwegen").wait_for()
    sign_out(page)
    return str(dossier_url)


# --- accessibility: axe-core in the page --------------------------------------------------

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}


def axe_violations(page: Any) -> list[str]:
    """axe-core's violations on the page as it is now, one line per rule: the rule id,
    what it means and the elements (CSS selectors). Runs axe's default rule set, which
    holds every WCAG 2.0/2.1 A and AA rule, and the best practices."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"]})
    found = []
    for v in results.response["violations"]:
        targets = ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:5])
        found.append(f"{v['id']} ({v['impact']}): {v['help']} — {targets}")
    return found


def check_page(page: Any, name: str, output_dir: Path) -> dict[str, list[str]]:
    """axe at desktop and phone width, with a screenshot of each in ``output_dir``
    (``axe-<name>-<width>.png``); the violations per width (empty when none)."""
    found = {}
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(output_dir / f"axe-{name}-{width}.png"), full_page=True)
        violations = axe_violations(page)
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > size["width"]:  # the page scrolls sideways
            violations.append(f"too wide: {wide} px at a {size['width']} px wide window")
        if violations:
            found[width] = violations
    page.set_viewport_size(DESKTOP)
    return found
