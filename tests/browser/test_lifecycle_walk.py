"""A dossier's whole life in the browser: signaleren, a melding, Veilig Thuis's
response, nazorg and closing; the acute-danger guidance on every page on the way.
Screenshots at desktop and phone width in test-output/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import TODAY, answer, record_steps_one_to_three, save, sign_in, sign_out

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def shoot(page: Any, output_dir: Path, name: str) -> None:
    for label, size in (("desktop", DESKTOP), ("telefoon", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(output_dir / f"levensloop-{name}-{label}.png"),
                        full_page=True)
    page.set_viewport_size(DESKTOP)


def assert_acute_guidance(page: Any) -> None:
    box = page.get_by_role("region", name="Acuut gevaar?")
    assert box.is_visible()
    assert box.locator('a[href="tel:112"]').inner_text() == "112"
    assert box.locator('a[href="tel:+318002000"]').count() == 1
    assert "directie" in box.inner_text()


def stage(page: Any) -> str:
    return str(page.locator("p.stage strong").inner_text())


def test_a_dossier_from_signaleren_to_afgesloten(page, live_app, output_dir):
    dossier = record_steps_one_to_three(page, live_app)
    # the aandachtsfunctionaris takes the IB-er's part in afwegen only, so sees no dossier
    # it did not open (until dossiers name people): the IB-er weighs
    sign_in(page, live_app, "Demo intern begeleider")
    page.goto(dossier)
    assert_acute_guidance(page)
    assert stage(page) == "Afwegen en beslissen"
    answer(page, "sterk_vermoeden", "nee")
    answer(page, "actie_nodig", "ja")
    answer(page, "onveilig", "ja")
    save(page, 4)
    assert stage(page) == "Melden bij Veilig Thuis"
    shoot(page, output_dir, "1-melden")
    sign_out(page)

    sign_in(page, live_app, "Demo directeur")
    page.goto(dossier)
    page.get_by_role("link", name="5 Beslissen").click()
    page.get_by_label("Datum melding bij Veilig Thuis").fill(TODAY.isoformat())
    page.get_by_label("De voorgenomen melding is met de ouder besproken").check()
    save(page, 5)
    assert stage(page) == "Wachten op het besluit van Veilig Thuis"
    status = page.locator("section.status").inner_text()
    assert "termijn van Veilig Thuis" in status
    shoot(page, output_dir, "2-wacht-op-veilig-thuis")

    page.get_by_label("Neemt over").check()
    page.get_by_role("button", name="Reactie van Veilig Thuis vastleggen").click()
    page.get_by_text("Vastgelegd.").wait_for()
    assert stage(page) == "Nazorg"
    shoot(page, output_dir, "3-nazorg")

    page.get_by_role("link", name="6 Eventuele nazorg").click()
    assert_acute_guidance(page)
    page.get_by_label("Evaluatie van het geheel").fill("Samen met Veilig Thuis geëvalueerd.")
    page.get_by_label("Nazorg van betrokkenen").fill("Gesprek met de leerkracht.")
    save(page, 6)
    assert "Sluit het dossier." in page.locator("section.status").inner_text()
    page.get_by_role("link", name="Dossier afsluiten").click()
    page.get_by_label("Reden").fill("Nazorg gedaan; Veilig Thuis heeft het overgenomen.")
    page.get_by_role("button", name="Dossier afsluiten").click()
    page.get_by_text("Het dossier is afgesloten.", exact=True).wait_for()
    assert stage(page) == "Afgesloten"
    shoot(page, output_dir, "4-afgesloten")

    page.get_by_role("link", name="Dossiers", exact=True).click()
    page.get_by_role("link", name="Archief (afgesloten)").click()  # closed: in the archive
    assert "Afgesloten" in page.locator("table.dossiers tbody tr").first.inner_text()
    shoot(page, output_dir, "5-overzicht")


def test_an_acute_dossier_is_first_for_the_coordinator(page, live_app, output_dir):
    sign_in(page, live_app, "Demo leerkracht")
    page.get_by_role("link", name="Nieuw dossier").first.click()
    assert_acute_guidance(page)
    shoot(page, output_dir, "nieuw-dossier")
    page.get_by_label("Initialen van de leerling").fill("G.H.")
    page.get_by_label("Groep").fill("4")
    page.get_by_label("Volledige naam").fill("Gijs Fictief")
    page.get_by_label("Er is acuut gevaar").check()
    page.get_by_role("button", name="Dossier aanmaken").click()
    page.get_by_text("Dit dossier is gemarkeerd als acuut gevaar").wait_for()
    assert stage(page) == "Melden bij Veilig Thuis"
    shoot(page, output_dir, "acuut-dossier")
    page.get_by_role("link", name="Contacten").click()
    assert_acute_guidance(page)
    shoot(page, output_dir, "contacten")
    sign_out(page)

    sign_in(page, live_app, "Demo intern begeleider")
    box = page.get_by_role("region", name="Acuut gevaar gemeld (1)")
    assert "G.H." in box.inner_text()
    first = page.locator("table.dossiers tbody tr").first
    assert "G.H." in first.inner_text() and "Acuut gevaar" in first.inner_text()
    shoot(page, output_dir, "overzicht-acuut")
