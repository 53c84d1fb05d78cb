"""A person walks a dossier from signaleren to melden, and one to hulp_afsluiten."""

from __future__ import annotations

import datetime as dt

import pytest

from .conftest import TODAY, answer, record_steps_one_to_three, save, sign_in, sign_out

pytestmark = pytest.mark.browser

def test_signaleren_to_melden(page, live_app, output_dir):
    dossier = record_steps_one_to_three(page, live_app)
    # the aandachtsfunctionaris takes the IB-er's part in afwegen only, so sees no dossier
    # it did not open (until dossiers name people): the IB-er weighs
    sign_in(page, live_app, "Demo intern begeleider")
    page.goto(dossier)
    page.get_by_text("Nu aan zet: aandachtsfunctionaris").wait_for()
    answer(page, "sterk_vermoeden", "nee")
    answer(page, "actie_nodig", "twijfel")
    answer(page, "onveilig", "ja")
    save(page, 4)

    page.get_by_text("Melden bij Veilig Thuis.", exact=True).first.wait_for()
    link = page.locator('a[href="tel:+31412673700"]').first
    assert link.inner_text() == "0412-673700"
    assert "Melden bij Veilig Thuis, omdat je inschat" in page.content()
    assert page.locator(".route li.current").inner_text().strip().endswith("Beslissen")
    page.screenshot(path=str(output_dir / "dossier-melden.png"), full_page=True)

    page.get_by_role("link", name="Dossiers", exact=True).click()
    row = page.locator("table.dossiers tbody tr").first
    assert "E.F." in row.inner_text() and "Eva Fictief" not in page.content()
    assert "Melden bij Veilig Thuis." in row.inner_text()


def test_signaleren_to_hulp_afsluiten(page, live_app, output_dir):
    dossier = record_steps_one_to_three(page, live_app)
    # the aandachtsfunctionaris takes the IB-er's part in afwegen only, so sees no dossier
    # it did not open (until dossiers name people): the IB-er weighs
    sign_in(page, live_app, "Demo intern begeleider")
    page.goto(dossier)
    answer(page, "sterk_vermoeden", "nee")
    answer(page, "actie_nodig", "ja")
    answer(page, "onveilig", "nee")
    save(page, 4)
    sign_out(page)

    sign_in(page, live_app, "Demo directeur")
    page.goto(dossier)
    page.get_by_role("heading", name="Stap 5: Beslissen").wait_for()
    # question 5 waits until question 4 is answered ja (hidden as you answer)
    assert not page.locator('input[name="hulp_resultaat"]').first.is_visible()
    answer(page, "hulp_mogelijk", "ja")
    assert page.locator('input[name="hulp_termijn"]').count() == 0
    answer(page, "hulp_aanvaard", "ja")
    assert page.locator('input[name="hulp_resultaat"]').first.is_visible()
    save(page, 5)

    page.get_by_text("Hulp in gang zetten.", exact=True).first.wait_for()
    page.fill('input[name="hulp_termijn"]', (TODAY + dt.timedelta(days=42)).isoformat())
    page.check('input[name="hulp_casemanager"][value="ib"]')
    page.get_by_label("Wie heeft welke rol").fill("Intern begeleider is casemanager.")
    page.get_by_label("Taken van alle betrokkenen").fill("Wekelijks contact met ouders.")
    save(page, 5)
    # question 5 before the agreed term: allowed once the reason is recorded
    page.check('input[name="hulp_resultaat"][value="ja"]')
    page.get_by_label("Waarom je afweging 5 al voor de afgesproken termijn beantwoordt").fill(
        "De hulp is eerder afgerond dan afgesproken.")
    save(page, 5)

    page.get_by_role("heading", name="Stap 6: Eventuele nazorg").wait_for()
    page.get_by_label("Afspraken over het monitoren").fill("Maandelijks overleg.")
    save(page, 6)
    assert "Hulp afsluiten met vastgelegde afspraken" in page.content()
    page.screenshot(path=str(output_dir / "dossier-hulp-afsluiten.png"), full_page=True)
