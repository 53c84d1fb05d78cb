"""The dossier page as a person uses it: the melden route from a new dossier to a
recorded melding in at most 6 saves (clicks, typed fields and page loads counted and
written to test-output/walk-counts.json), the hulp route counted too, an empty save that
stores nothing, and close → reopen → close. Screenshots at both widths in test-output/."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import TODAY, check_page, save, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def shoot(page: Any, output_dir: Path, name: str) -> None:
    for label, size in (("desktop", DESKTOP), ("telefoon", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(output_dir / f"dossier-{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


class Person:
    """Does what a person does, and counts it: clicks, typed fields, page loads, saves."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.clicks = self.typed = self.loads = self.saves = 0
        page.on("load", self._loaded)

    def _loaded(self, _: Any) -> None:
        self.loads += 1

    def click(self, locator: Any) -> None:
        locator.click()
        self.clicks += 1

    def choose(self, name: str, value: str) -> None:
        self.page.check(f'input[name="{name}"][value="{value}"]')
        self.clicks += 1

    def tick(self, label: str) -> None:
        self.page.get_by_label(label).check()
        self.clicks += 1

    def type(self, target: str, text: str) -> None:
        if target.startswith(("input", "textarea")):
            self.page.fill(target, text)
        else:
            self.page.get_by_label(target).fill(text)
        self.typed += 1

    def save(self, step: int) -> None:
        self.click(self.page.get_by_role("button", name=f"Stap {step} opslaan"))
        self.page.get_by_text("is opgeslagen").wait_for()
        self.saves += 1

    def counts(self) -> dict[str, int]:
        return {"saves": self.saves, "clicks": self.clicks, "typed": self.typed,
                "page_loads": self.loads}


def new_dossier_to_weighing(who: Person) -> str:
    page = who.page
    who.click(page.get_by_role("link", name="Nieuw dossier").first)
    who.type("Initialen van de leerling", "E.F.")
    who.type("Groep", "6a")
    who.type("Volledige naam", "Eva Fictief")
    who.click(page.get_by_role("button", name="Dossier aanmaken"))
    page.get_by_role("heading", name="Stap 1: Signaleren").wait_for()
    url = str(page.url)
    who.type('input[name="observaties-0-datum"]', (TODAY - dt.timedelta(days=2)).isoformat())
    who.choose("observaties-0-waargenomen_door", "leerkracht")
    who.type('textarea[name="observaties-0-feit"]', "Leerling kwam drie dagen zonder lunch.")
    who.save(1)
    who.choose("geconsulteerd", "veilig_thuis")
    who.type("Datum consultatie", TODAY.isoformat())
    who.type("Uitkomst van de consultaties", "Advies: gesprek met ouders.")
    who.save(2)
    who.tick("Het gesprek met ouders is gevoerd")
    who.type("Datum gesprek", TODAY.isoformat())
    who.save(3)
    return url


def record(output_dir: Path, route: str, counts: dict[str, int]) -> None:
    path = output_dir / "walk-counts.json"
    found = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    found[route] = counts
    path.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def test_melden_from_a_new_dossier_in_at_most_six_saves(page, live_app, output_dir):
    sign_in(page, live_app, "Demo intern begeleider")
    who = Person(page)
    new_dossier_to_weighing(who)
    # the weighing on one page: later questions appear as the answers reach them
    assert not page.locator('input[name="onveilig"]').first.is_visible()
    assert not page.locator('input[name="bevoegd_gezag_ingelicht"]').first.is_visible()
    who.choose("sterk_vermoeden", "nee")
    who.choose("actie_nodig", "ja")
    assert not page.locator('input[name="bevoegd_gezag_ingelicht"]').first.is_visible()
    who.choose("onveilig", "ja")
    shoot(page, output_dir, "afwegen-een-formulier")
    who.save(4)
    page.get_by_role("heading", name="Stap 5: Beslissen").wait_for()
    who.type("Datum melding bij Veilig Thuis", TODAY.isoformat())
    who.tick("De voorgenomen melding is met de ouder besproken")
    who.save(5)
    assert page.locator("p.stage strong").inner_text() == \
        "Wachten op het besluit van Veilig Thuis"
    counts = who.counts()
    record(output_dir, "melden", counts)
    assert counts["saves"] <= 6, counts
    shoot(page, output_dir, "melding-gedaan")


def test_hulp_route_counted(page, live_app, output_dir):
    sign_in(page, live_app, "Demo intern begeleider")
    who = Person(page)
    new_dossier_to_weighing(who)
    who.choose("sterk_vermoeden", "nee")
    who.choose("actie_nodig", "ja")
    who.choose("onveilig", "nee")
    who.save(4)
    page.get_by_role("heading", name="Stap 5: Beslissen").wait_for()
    who.choose("hulp_mogelijk", "ja")
    who.choose("hulp_aanvaard", "ja")
    who.save(5)
    who.type('input[name="hulp_termijn"]', (TODAY + dt.timedelta(days=42)).isoformat())
    who.choose("hulp_casemanager", "ib")
    who.type("Wie heeft welke rol", "Intern begeleider is casemanager.")
    who.type("Taken van alle betrokkenen en specifiek van de casemanager",
             "Wekelijks contact met ouders.")
    who.save(5)
    who.choose("hulp_resultaat", "ja")
    who.type("Waarom je afweging 5 al voor de afgesproken termijn beantwoordt",
             "De hulp is eerder afgerond.")
    who.save(5)
    page.get_by_role("heading", name="Stap 6: Eventuele nazorg").wait_for()
    who.type("Afspraken over het monitoren van de veiligheid van alle betrokkenen",
             "Maandelijks overleg.")
    who.save(6)
    assert page.locator("p.stage strong").inner_text() == "Klaar om af te sluiten"
    record(output_dir, "hulp", who.counts())


def test_an_empty_save_stores_nothing_and_says_where(page, live_app, output_dir):
    sign_in(page, live_app, "Demo intern begeleider")
    who = Person(page)
    new_dossier_to_weighing(who)
    page.get_by_role("button", name="Stap 4 opslaan").click()
    page.get_by_text("Niet opgeslagen").first.wait_for()
    assert page.locator("#sterk_vermoeden-fout").inner_text() == "Kies een antwoord."
    assert page.locator(".recorded article").count() == 3  # steps 1-3, nothing new
    shoot(page, output_dir, "lege-stap")


def test_close_reopen_close(page, live_app, output_dir):
    sign_in(page, live_app, "Demo intern begeleider")
    who = Person(page)
    url = new_dossier_to_weighing(who)
    assert page.get_by_role("link", name="Dossier afsluiten").count() == 0
    who.choose("sterk_vermoeden", "nee")
    who.choose("actie_nodig", "nee")
    who.save(4)
    page.get_by_role("link", name="Dossier afsluiten").click()
    page.get_by_role("heading", name="Dossier afsluiten").wait_for()
    shoot(page, output_dir, "afsluiten-bevestigen")
    page.get_by_label("Reden").fill("Geen actie nodig na de afweging.")
    page.get_by_role("button", name="Dossier afsluiten").click()
    page.get_by_text("Het dossier is afgesloten.", exact=True).wait_for()
    assert page.locator("section.step form").count() == 0
    assert page.get_by_role("button", name="Stap 4 opslaan").count() == 0
    shoot(page, output_dir, "afgesloten")
    page.get_by_role("link", name="Dossier weer openen").click()
    page.get_by_label("Reden").fill("Nieuwe signalen van de leerkracht.")
    page.get_by_role("button", name="Dossier weer openen").click()
    page.get_by_text("Het dossier is weer geopend.").wait_for()
    assert page.locator("section.step form").count() == 1
    page.get_by_role("link", name="Dossier afsluiten").click()
    page.get_by_label("Reden").fill("Opnieuw gewogen: geen actie nodig.")
    page.get_by_role("button", name="Dossier afsluiten").click()
    page.get_by_text("Het dossier is afgesloten.", exact=True).wait_for()
    page.goto(url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1] + "/logboek")
    log = page.locator("main").inner_text()
    assert log.count("afgesloten") >= 2 and "weer geopend" in log
    shoot(page, output_dir, "logboek-afsluiten")


def _in_first_screen(page: Any, locator: Any) -> bool:
    """The element is shown, and all of it within the first screen (no scrolling)."""
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and \
        box["y"] + box["height"] <= page.viewport_size["height"]


def test_a_refused_save_says_so_on_the_first_screen_of_a_phone(page, live_app, output_dir):
    """A second tab saves a step the first tab had open: the first tab's save is refused,
    and on a phone the person reads why (and that nothing was stored) without scrolling,
    above the acute-danger box; what they typed stays in the form."""
    sign_in(page, live_app, "Demo intern begeleider")
    who = Person(page)
    dossier = new_dossier_to_weighing(who).split("/stap/")[0]  # .../dossiers/<id>
    step_2 = f"{dossier}/stap/consulteren"
    page.set_viewport_size(PHONE)
    page.goto(step_2)
    other = page.context.new_page()
    other.goto(step_2)
    other.get_by_label("Uitkomst van de consultaties").fill("Tweede advies: huisbezoek.")
    save(other, 2)
    other.close()
    page.get_by_label("Uitkomst van de consultaties").fill("Advies: eerst de jeugdarts.")
    page.get_by_role("button", name="Stap 2 opslaan").click()
    message = page.get_by_role("alert").filter(has_text="Iemand anders heeft deze stap")
    message.wait_for()
    assert "niet opgeslagen" in message.inner_text()
    assert _in_first_screen(page, message)
    assert page.get_by_label("Uitkomst van de consultaties").input_value() == \
        "Advies: eerst de jeugdarts."
    page.screenshot(path=str(output_dir / "dossier-conflict-telefoon.png"))
    assert check_page(page, "dossier-conflict", output_dir) == {}  # axe, both widths
    page.set_viewport_size(PHONE)
    # a save refused for what it holds: the summary of what to fix, on the first screen
    page.goto(f"{dossier}/stap/afwegen")
    page.get_by_role("button", name="Stap 4 opslaan").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert _in_first_screen(page, summary.get_by_role("heading"))
    page.set_viewport_size(DESKTOP)
