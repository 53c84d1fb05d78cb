"""Issue 14 in the browser: a coordinator searches the overview, names people on a
dossier and reads Mijn taken; the named aandachtsfunctionaris opens the dossier. axe on
each new page at desktop and phone width (screenshots in test-output/)."""

from __future__ import annotations

from typing import Any

from .conftest import check_page, sign_in, sign_out


def test_daily_work_pages_in_the_browser(live_app: str, page: Any, output_dir: Any) -> None:
    sign_in(page, live_app, "Demo leerkracht")
    page.get_by_role("link", name="Nieuw dossier").first.click()
    page.get_by_label("Initialen van de leerling").fill("E.F.")
    page.get_by_label("Groep").fill("6a")
    page.get_by_label("Volledige naam").fill("Eva Fictief")
    page.get_by_role("button", name="Dossier aanmaken").click()
    page.get_by_role("heading", name="Stap 1: Signaleren").wait_for()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Dossier 20") and "-001" in heading
    dossier_url = page.url
    page.get_by_role("link", name="Mijn taken").click()
    assert "Stap 1 (Signaleren) vastleggen" in page.content()
    sign_out(page)

    sign_in(page, live_app, "Demo intern begeleider")
    page.get_by_label("Zoeken", exact=True).fill("e.f")
    page.get_by_role("button", name="Zoeken").click()
    page.get_by_text("1 dossier gevonden.").wait_for()
    problems = {"overview": check_page(page, "daily-overview", output_dir)}
    page.goto(dossier_url)
    page.get_by_role("link", name="Betrokken personen").click()
    page.get_by_label("Medewerker").select_option(label="Demo aandachtsfunctionaris")
    page.get_by_label("Rol in dit dossier").select_option(label="Aandachtsfunctionaris")
    page.get_by_role("button", name="Koppelen").click()
    page.get_by_text("De persoon is aan het dossier gekoppeld.").wait_for()
    page.get_by_label("Iemand buiten de school").check()
    page.get_by_role("button", name="Koppelen").click()  # no name, no organisation
    page.get_by_text("Vul de naam in.", exact=True).wait_for()
    problems["people-refused"] = check_page(page, "daily-people-refused", output_dir)
    page.get_by_label("Naam", exact=True).fill("Wim Wijkteam")
    page.get_by_label("Organisatie").fill("Wijkteam Oost")
    page.get_by_role("button", name="Koppelen").click()
    page.get_by_text("Wim Wijkteam (Wijkteam Oost)", exact=True).wait_for()
    problems["people"] = check_page(page, "daily-people", output_dir)
    page.get_by_role("link", name="Mijn taken").click()
    page.get_by_role("link", name="Alle taken van de school").click()
    page.get_by_role("heading", name="Alle taken van de school").wait_for()
    problems["tasks"] = check_page(page, "daily-tasks", output_dir)
    sign_out(page)

    sign_in(page, live_app, "Demo aandachtsfunctionaris")  # named: need to know
    page.goto(dossier_url)
    page.get_by_role("heading", name="Stap 1: Signaleren").wait_for()
    assert {k: v for k, v in problems.items() if v} == {}
