"""A teacher opens a staff-route dossier (meldplicht) and the bevoegd gezag walks it to
the aangifte; the IB-er never sees it. With axe on the new pages, at 1280 and 390 px."""

from __future__ import annotations

import re

import pytest

from .conftest import TODAY, answer, check_page, save, sign_in, sign_out

pytestmark = pytest.mark.browser


def test_staff_route_to_aangifte_doen(page, live_app, output_dir):
    sign_in(page, live_app, "Demo leerkracht")
    page.get_by_role("link", name="Nieuw dossier").first.click()
    page.get_by_text("Waar gaat je zorg over?").wait_for()
    assert check_page(page, "nieuw-dossier-routes", output_dir) == {}
    page.get_by_label("Over het gedrag van een medewerker").check()
    page.get_by_label("Initialen van de leerling").fill("G.H.")
    page.get_by_label("Groep").fill("7b")
    page.get_by_label("Volledige naam").fill("Gijs Fictief")
    page.get_by_label("Over welke medewerker gaat het?").select_option(label=(
        "Iemand zonder account in Meldroute (bijvoorbeeld een vrijwilliger of chauffeur)"))
    page.get_by_role("button", name="Dossier aanmaken").click()
    page.get_by_role("heading", name="Stap 1: Bevoegd gezag inlichten").wait_for()
    dossier = page.url
    page.get_by_label("Wat is je ter ore gekomen (feitelijk)").fill(
        "Een leerling liet berichten zien van een volwassene die op school helpt.")
    page.get_by_label("Sinds wanneer weet je het").fill(TODAY.isoformat())
    answer(page, "bevoegd_gezag_ingelicht", "ja")
    save(page, 1)
    page.get_by_text("Nu aan zet: directeur").wait_for()
    sign_out(page)

    # the IB-er coordinates the Meldcode, not this route: not in the list, not by its address
    sign_in(page, live_app, "Demo intern begeleider")
    assert "G.H." not in page.locator("main").inner_text()
    assert page.goto(dossier).status == 404
    sign_out(page)

    sign_in(page, live_app, "Demo college van bestuur")
    # the overview links a dossier by its number; the staff route counts in its own series
    page.get_by_role("link", name=re.compile(r"^\d{4}-V\d{3}$")).first.click()
    page.get_by_role("heading", name="Stap 2: Overleg met de vertrouwensinspecteur").wait_for()
    assert page.locator('a[href="tel:+319001113111"]').count() >= 1
    answer(page, "vertrouwensinspecteur_geraadpleegd", "ja")
    page.get_by_label("Datum van het overleg met de vertrouwensinspecteur").fill(
        TODAY.isoformat())
    answer(page, "redelijk_vermoeden", "ja")
    save(page, 2)
    page.get_by_text("Aangifte doen bij de politie.", exact=True).first.wait_for()
    assert "Vertel de medewerker en de ouders van de leerling eerst" in page.content()
    assert page.locator('a[href="tel:+319008844"]').count() >= 1
    assert check_page(page, "meldplicht-aangifte", output_dir) == {}
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(output_dir / "meldplicht-aangifte-375.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
