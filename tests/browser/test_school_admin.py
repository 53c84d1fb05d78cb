"""A school admin, as a new user would: changes Veilig Thuis and remaps a role, sees the
try-it panel use the new number at once, and a new dossier shows it."""

from __future__ import annotations

import pytest

from .conftest import record_steps_one_to_three, sign_in, sign_out

pytestmark = pytest.mark.browser

NEW_NUMBER = "0412-000199"


def test_school_admin_changes_contacts_and_roles(page, live_app, output_dir):
    sign_in(page, live_app, "Demo schoolbeheerder")
    page.get_by_role("link", name="Instellingen").click()
    page.get_by_role("heading", name="Instellingen van Basisschool De Regenboog").wait_for()

    row = page.locator("table.contacts tr", has_text="veilig_thuis")
    row.get_by_role("link", name="Wijzigen").click()
    page.get_by_label("Telefoon").fill("12345")
    page.get_by_role("button", name="Opslaan").click()
    page.locator("#phone-fout").get_by_text("geen geldig Nederlands telefoonnummer").wait_for()
    page.get_by_label("Telefoon").fill(NEW_NUMBER)
    page.get_by_label("Reden van de wijziging").fill("nieuw regionaal nummer")
    page.get_by_role("button", name="Opslaan").click()
    page.get_by_text("Contact opgeslagen").wait_for()
    assert NEW_NUMBER in page.locator("table.contacts").inner_text()

    page.get_by_role("link", name="Rollen", exact=True).click()
    # the empty row after the demo school's two remaps (one per route)
    page.select_option('select[name="remap_2_protocol"]', "meldcode-onderwijs")
    page.select_option('select[name="remap_2_role"]', "directeur")
    page.select_option('select[name="remap_2_to"]', "aandachtsfunctionaris")
    page.check('input[name="remap_2_steps"][value="beslissen"]')
    page.get_by_role("button", name="Opslaan").click()
    page.get_by_text("Rollen opgeslagen").wait_for()
    assert "aandachtsfunctionaris neemt de rol van directeur over in stap 5" in page.content()

    page.get_by_role("link", name="Proefdossier").click()
    page.check('input[name="sterk_vermoeden"][value="nee"]')
    page.check('input[name="actie_nodig"][value="ja"]')
    page.check('input[name="onveilig"][value="ja"]')
    page.get_by_role("button", name="Bekijk de uitkomst").click()
    result = page.locator("section.status")
    result.wait_for()
    text = result.inner_text()
    assert "Melden bij Veilig Thuis." in text and NEW_NUMBER in text
    assert "Verantwoordelijk: aandachtsfunctionaris" in text
    page.screenshot(path=str(output_dir / "proefdossier.png"), full_page=True)

    page.get_by_role("link", name="Versies").click()
    assert "nieuw regionaal nummer" in page.content()
    sign_out(page)

    dossier = record_steps_one_to_three(page, live_app)
    # the aandachtsfunctionaris takes the director's part in step 5 only: that opens no
    # one else's dossier; the director (coordinating) opens it
    sign_in(page, live_app, "Demo directeur")
    page.goto(dossier)
    contact = page.locator(".status ul.contacts")
    assert NEW_NUMBER in contact.inner_text()
    assert page.locator('a[href="tel:+31412000199"]').count() >= 1
