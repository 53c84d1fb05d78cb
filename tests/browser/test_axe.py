"""axe-core on every page, for every role, at desktop (1280×800) and phone (390×844) width.

Each role signs in as a person would and visits every page it can reach; axe runs on each
at both widths and any violation fails the test with its rule id and elements. A page
that scrolls sideways on the phone fails too. Screenshots of every page at both widths
go to test-output/ (axe-<role>-<page>-<width>.png).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import check_page, record_steps_one_to_three, save, serve_app, sign_out

pytestmark = pytest.mark.browser

BOARD = "stichting-demo"
PASSWORD = "een lange zin als wachtwoord voor de test"
SCHOOL_ROLES = ["leerkracht", "intern begeleider", "lid van het zorgteam", "directeur",
                "college van bestuur", "aandachtsfunctionaris", "schoolbeheerder"]
STEPS = ["signaleren", "consulteren", "gesprek", "afwegen", "beslissen", "nazorg"]
SETTINGS = "/scholen/regenboog/instellingen"


def _prepare(db: Any, registry: Any) -> None:
    """A board that owns the demo school with its board admin, a platform admin (both
    demo users: one click to sign in) and a real account that still has to set up 2FA."""
    from meldroute.webapp import school_configs, security
    from meldroute.webapp.models import Membership, User

    school_configs.save(db, "board", BOARD, {"id": BOARD, "name": "Stichting Demo",
                                             "contacts": {"cjg": {"name": "CJG Bestuur",
                                                                  "phone": "0412-000201"}}},
                        "regenboog-schooladmin", "test")
    data = school_configs.data_of(school_configs.latest(db, "school", "regenboog"))
    school_configs.save(db, "school", "regenboog", {**data, "board": BOARD},
                        "regenboog-schooladmin", "bij het bestuur")
    board_admin = User(username="demo-bestuur", display_name="Demo bestuursadmin", demo=True)
    board_admin.memberships.append(Membership(board_id=BOARD, role="bestuursadmin"))
    admin = User(username="demo-beheer", display_name="Demo beheerder", demo=True,
                 is_admin=True)
    admin.memberships.append(Membership(school_id="regenboog", role="leerkracht"))
    person = User(username="nieuw.account", display_name="Nieuw Account",
                  password_hash=security.hash_password(PASSWORD))
    person.memberships.append(Membership(school_id="regenboog", role="ib"))
    db.add_all([board_admin, admin, person])
    db.commit()


@pytest.fixture(scope="module")
def axe_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_app(tmp_path_factory.mktemp("axe"), _prepare)


@pytest.fixture(scope="module")
def dossier(axe_app: str, chromium: Any) -> str:
    """A dossier with steps 1 to 3 recorded and step 1 recorded twice (a version diff)."""
    context = chromium.new_context(locale="nl-NL")
    page = context.new_page()
    url = record_steps_one_to_three(page, axe_app)
    _demo_sign_in(page, axe_app, "Demo leerkracht")
    page.goto(f"{url}/stap/signaleren")
    page.get_by_label("Interpretatie en zorgen").fill("Zorgen over verwaarlozing en angst.")
    # the recorded "waargenomen door" ticks are shown again: saving needs no re-ticking
    save(page, 1)
    sign_out(page)
    context.close()
    return url


def _demo_sign_in(page: Any, base: str, who: str) -> None:
    page.goto(f"{base}/inloggen")
    page.get_by_role("button", name=who, exact=True).click()
    page.wait_for_load_state()


class Visit:
    """Visits pages and collects what axe finds on each."""

    def __init__(self, page: Any, base: str, role: str, output_dir: Path) -> None:
        self.page, self.base, self.role, self.output_dir = page, base, role, output_dir
        self.found: dict[str, dict[str, list[str]]] = {}
        self.seen: list[str] = []

    def check(self, name: str) -> None:
        self.page.wait_for_load_state()
        self.seen.append(name)
        slug = re.sub(r"[^a-z0-9-]+", "-", f"{self.role}-{name}".lower()).strip("-")
        problems = check_page(self.page, slug, self.output_dir)
        if problems:
            self.found[f"{name} ({self.page.url})"] = problems

    def go(self, name: str, path: str) -> None:
        self.page.goto(path if path.startswith("http") else self.base + path)
        self.check(name)

    def then(self, name: str, action: Callable[[Any], None]) -> None:
        action(self.page)
        self.check(name)

    def report(self) -> str:
        lines = [f"axe found problems for {self.role}:"]
        for name, widths in self.found.items():
            for width, violations in widths.items():
                lines += [f"  {name} [{width}]"] + [f"    {v}" for v in violations]
        return "\n".join(lines)


def _submit(button: str) -> Callable[[Any], None]:
    def action(page: Any) -> None:
        page.get_by_role("button", name=button).first.click()
    return action


def _dossier_pages(visit: Visit, dossier: str) -> None:
    visit.go("dossier", dossier)
    for step in STEPS:
        visit.go(f"stap-{step}", f"{dossier}/stap/{step}")
    visit.go("versies", f"{dossier}/stap/signaleren/versies")
    visit.go("versie", f"{dossier}/stap/signaleren/versie/1")
    visit.go("versie-2", f"{dossier}/stap/signaleren/versie/2")
    visit.go("versies-vergelijken", f"{dossier}/stap/signaleren/versies?a=1&b=2")
    visit.go("logboek", f"{dossier}/logboek")


def _school_pages(visit: Visit, dossier: str) -> None:
    visit.go("overzicht", "/dossiers")
    visit.go("nieuw-dossier", "/dossiers/nieuw")
    visit.then("nieuw-dossier-fouten", _submit("Dossier aanmaken"))
    _dossier_pages(visit, dossier)
    visit.go("contacten", "/contacten")
    visit.go("404", "/bestaat-niet")


def _settings_pages(visit: Visit) -> None:
    visit.go("instellingen", SETTINGS)
    visit.go("contact-wijzigen", f"{SETTINGS}/contacten/veilig_thuis")

    def bad_contact(page: Any) -> None:
        page.get_by_label("Telefoon").fill("12345")
        page.get_by_role("button", name="Opslaan").click()
    visit.then("contact-fouten", bad_contact)
    visit.go("contact-toevoegen", f"{SETTINGS}/contacten/nieuw")
    visit.go("contact-verwijderen", f"{SETTINGS}/contacten/cjg/verwijderen")
    visit.go("rollen", f"{SETTINGS}/rollen")
    visit.go("mensen", f"{SETTINGS}/mensen")
    visit.go("versies-instellingen", f"{SETTINGS}/versies")
    visit.go("versie-herstellen", f"{SETTINGS}/versies/1/herstellen")
    visit.go("proefdossier", f"{SETTINGS}/proefdossier")

    def tryout(page: Any) -> None:
        page.check('input[name="sterk_vermoeden"][value="ja"]')
        page.get_by_role("button", name="Bekijk de uitkomst").click()
    visit.then("proefdossier-uitkomst", tryout)


def _enrol_and_account(visit: Visit) -> None:
    import pyotp

    page = visit.page
    visit.go("inloggen", "/inloggen")

    def wrong_password(page: Any) -> None:
        page.get_by_label("Gebruikersnaam").fill("nieuw.account")
        page.get_by_label("Wachtwoord").fill("fout")
        page.get_by_role("button", name="Inloggen", exact=True).click()
    visit.then("inloggen-fout", wrong_password)
    page.get_by_label("Gebruikersnaam").fill("nieuw.account")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen", exact=True).click()
    visit.check("tweestapsverificatie")
    secret = re.search(r"secret=([A-Z2-7]+)", page.content())
    assert secret, "the enrolment page shows the key"
    page.get_by_label("Code uit de authenticator-app").fill("000000")
    page.get_by_role("button").last.click()
    visit.check("tweestapsverificatie-fout")
    page.get_by_label("Code uit de authenticator-app").fill(pyotp.TOTP(secret.group(1)).now())
    page.get_by_role("button").last.click()
    page.wait_for_load_state()
    visit.go("account", "/account")
    visit.then("account-fouten", _submit("Wachtwoord wijzigen"))


ROLES = [*SCHOOL_ROLES, "bestuursadmin", "beheerder", "nieuw-account"]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_has_no_axe_violations(role, axe_app, dossier, chromium, output_dir):
    context = chromium.new_context(locale="nl-NL", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    visit = Visit(page, axe_app, role.replace(" ", "-"), output_dir)
    try:
        if role == "nieuw-account":
            _enrol_and_account(visit)
        elif role == "bestuursadmin":
            _demo_sign_in(page, axe_app, "Demo bestuursadmin")
            visit.check("bestuur")
            visit.go("bestuur-contact", f"/besturen/{BOARD}/contacten/cjg")
            visit.then("bestuur-contact-fouten", _bad_board_contact)
            _settings_pages(visit)
            visit.go("404", "/bestaat-niet")
        elif role == "beheerder":
            _demo_sign_in(page, axe_app, "Demo beheerder")
            visit.go("gebruikers", "/beheer/gebruikers")
            visit.then("gebruikers-fouten", _submit("Toevoegen"))
        else:
            _demo_sign_in(page, axe_app, f"Demo {role}")
            _school_pages(visit, dossier)
            if role == "schoolbeheerder":
                _settings_pages(visit)
    finally:
        context.close()
    assert visit.seen
    assert not visit.found, visit.report()


def _bad_board_contact(page: Any) -> None:
    page.get_by_label("Naam").first.fill("")
    page.get_by_role("button", name="Opslaan").click()


def test_keyboard_users_skip_to_the_content_and_land_on_the_errors(axe_app, chromium):
    context = chromium.new_context(locale="nl-NL", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        _demo_sign_in(page, axe_app, "Demo leerkracht")
        page.goto(f"{axe_app}/dossiers/nieuw")
        page.keyboard.press("Tab")  # the first stop: the skip link, visible when focused
        skip = page.get_by_role("link", name="Naar de inhoud")
        assert skip.evaluate("el => el === document.activeElement")
        assert skip.is_visible()
        assert skip.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")  # the next stop is in the content, not the menu
        assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
        page.get_by_role("button", name="Dossier aanmaken").click()  # nothing filled in
        page.wait_for_load_state()
        # focus on the summary of what to fix; each item jumps to its field
        assert page.evaluate("document.activeElement.className") == "error-summary"
        page.locator(".error-summary a").first.click()
        assert page.evaluate("document.activeElement.id") == "pupil_initials"
    finally:
        context.close()
