"""A person walks a dossier from signaleren to melden, and one to hulp_afsluiten."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytestmark = pytest.mark.browser

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


def answer(page: Any, question: str, value: str, step: int) -> None:
    page.check(f'input[name="{question}"][value="{value}"]')
    save(page, step)


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


def test_signaleren_to_melden(page, live_app, output_dir):
    dossier = record_steps_one_to_three(page, live_app)
    sign_in(page, live_app, "Demo aandachtsfunctionaris")
    page.goto(dossier)
    page.get_by_text("Nu aan zet: aandachtsfunctionaris").wait_for()
    answer(page, "sterk_vermoeden", "nee", 4)
    answer(page, "actie_nodig", "twijfel", 4)
    answer(page, "onveilig", "ja", 4)

    page.get_by_text("Melden bij Veilig Thuis.", exact=True).first.wait_for()
    link = page.locator('a[href="tel:+31412673700"]').first
    assert link.inner_text() == "0412-673700"
    assert "Melden bij Veilig Thuis, omdat:" in page.content()
    assert page.locator(".route li.current").inner_text().strip().endswith("Beslissen")
    page.screenshot(path=str(output_dir / "dossier-melden.png"), full_page=True)

    page.get_by_role("link", name="Dossiers", exact=True).click()
    row = page.locator("table.dossiers tbody tr").first
    assert "E.F." in row.inner_text() and "Eva Fictief" not in page.content()
    assert "Melden bij Veilig Thuis." in row.inner_text()


def test_signaleren_to_hulp_afsluiten(page, live_app, output_dir):
    dossier = record_steps_one_to_three(page, live_app)
    sign_in(page, live_app, "Demo aandachtsfunctionaris")
    page.goto(dossier)
    answer(page, "sterk_vermoeden", "nee", 4)
    answer(page, "actie_nodig", "ja", 4)
    answer(page, "onveilig", "nee", 4)
    sign_out(page)

    sign_in(page, live_app, "Demo directeur")
    page.goto(dossier)
    page.get_by_role("heading", name="Stap 5: Beslissen").wait_for()
    answer(page, "hulp_mogelijk", "ja", 5)
    assert page.locator('input[name="hulp_termijn"]').count() == 0
    answer(page, "hulp_aanvaard", "ja", 5)

    page.get_by_text("Hulp in gang zetten.", exact=True).first.wait_for()
    page.fill('input[name="hulp_termijn"]', (TODAY + dt.timedelta(days=42)).isoformat())
    page.check('input[name="hulp_casemanager"][value="ib"]')
    page.get_by_label("Wie heeft welke rol").fill("Intern begeleider is casemanager.")
    page.get_by_label("Taken van alle betrokkenen").fill("Wekelijks contact met ouders.")
    save(page, 5)
    answer(page, "hulp_resultaat", "ja", 5)

    page.get_by_role("heading", name="Stap 6: Eventuele nazorg").wait_for()
    page.get_by_label("Afspraken over het monitoren").fill("Maandelijks overleg.")
    save(page, 6)
    assert "Hulp afsluiten met vastgelegde afspraken" in page.content()
    page.screenshot(path=str(output_dir / "dossier-hulp-afsluiten.png"), full_page=True)
