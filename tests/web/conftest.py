"""Web fixtures: an app on a fresh database (SQLite, and PostgreSQL when
MELDROUTE_TEST_POSTGRES names one), demo users, and a client that signs in and posts
forms with their CSRF token as a browser would."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select, text

from meldroute.engine.loader import shipped_dir
from meldroute.webapp.app import create_app
from meldroute.webapp.db import upgrade
from meldroute.webapp.demo import ensure_demo_users
from meldroute.webapp.models import Dossier, StepRecord, User

TODAY = dt.date(2026, 11, 27)
OTHER_SCHOOL = """id: zonnebloem
name: Basisschool De Zonnebloem
contacts:
  veilig_thuis:
    name: Veilig Thuis (regio)
    phone: "0800-2000"
"""
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("MELDROUTE_TEST_POSTGRES") else [])


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


# every route of the app, for the permission matrix and the security headers
# endpoint -> (method, url template); {d} is the dossier, {u} a user to administer
ROUTES: dict[str, tuple[str, str]] = {
    "static": ("GET", "/static/meldroute.css"),
    "auth.login": ("GET", "/inloggen"),
    "auth.login:post": ("POST", "/inloggen"),
    "auth.code": ("GET", "/inloggen/code"),
    "auth.code:post": ("POST", "/inloggen/code"),
    "auth.enroll": ("GET", "/inloggen/tweestapsverificatie"),
    "auth.enroll:post": ("POST", "/inloggen/tweestapsverificatie"),
    "auth.logout": ("POST", "/uitloggen"),
    "auth.switch_school": ("POST", "/school"),
    "auth.account": ("GET", "/account"),
    "auth.account:post": ("POST", "/account"),
    "dossiers.home": ("GET", "/"),
    "dossiers.overview": ("GET", "/dossiers"),
    "dossiers.new": ("GET", "/dossiers/nieuw"),
    "dossiers.new:post": ("POST", "/dossiers/nieuw"),
    "dossiers.show": ("GET", "/dossiers/{d}"),
    "dossiers.step": ("GET", "/dossiers/{d}/stap/signaleren"),
    "dossiers.step:post": ("POST", "/dossiers/{d}/stap/signaleren"),
    "dossiers.version": ("GET", "/dossiers/{d}/stap/signaleren/versie/1"),
    "dossiers.versions": ("GET", "/dossiers/{d}/stap/signaleren/versies"),
    "dossiers.close": ("GET", "/dossiers/{d}/afsluiten"),
    "dossiers.close:post": ("POST", "/dossiers/{d}/afsluiten"),
    "dossiers.reopen": ("GET", "/dossiers/{d}/heropenen"),
    "dossiers.reopen:post": ("POST", "/dossiers/{d}/heropenen"),
    "dossiers.flag_as_acute": ("POST", "/dossiers/{d}/acuut"),
    # (after flag_as_acute: the dossier is acute, a coordinating role may lift it)
    "dossiers.unflag": ("GET", "/dossiers/{d}/acuut-opheffen"),
    "dossiers.unflag:post": ("POST", "/dossiers/{d}/acuut-opheffen"),
    "dossiers.record_fact": ("POST", "/dossiers/{d}/feit"),
    "dossiers.audit_log": ("GET", "/dossiers/{d}/logboek"),
    "dossiers.contacts": ("GET", "/contacten"),
    "admin.users": ("GET", "/beheer/gebruikers"),
    "admin.users:post": ("POST", "/beheer/gebruikers"),
    "admin.toggle_active": ("POST", "/beheer/gebruikers/{u}/actief"),
    "admin.end_user_sessions": ("POST", "/beheer/gebruikers/{u}/sessies-beeindigen"),
    "admin.reset": ("POST", "/beheer/gebruikers/{u}/herstel"),
    "settings.overview": ("GET", "/scholen/{s}/instellingen"),
    "settings.contact": ("GET", "/scholen/{s}/instellingen/contacten/cjg"),
    "settings.contact:post": ("POST", "/scholen/{s}/instellingen/contacten/cjg"),
    "settings.remove_contact": ("POST", "/scholen/{s}/instellingen/contacten/geen/verwijderen"),
    "settings.roles": ("GET", "/scholen/{s}/instellingen/rollen"),
    "settings.roles:post": ("POST", "/scholen/{s}/instellingen/rollen"),
    "settings.people": ("GET", "/scholen/{s}/instellingen/mensen"),
    "settings.people:post": ("POST", "/scholen/{s}/instellingen/mensen"),
    "settings.grants": ("GET", "/scholen/{s}/instellingen/toekenningen"),
    "settings.decide_grant": ("POST", "/scholen/{s}/instellingen/toekenningen/999999"),
    "reset.set_password": ("GET", "/wachtwoord-herstellen/geen-geldige-link"),
    "reset.set_password:post": ("POST", "/wachtwoord-herstellen/geen-geldige-link"),
    "settings.history": ("GET", "/scholen/{s}/instellingen/versies"),
    "settings.remove_contact:confirm": ("GET",
                                        "/scholen/{s}/instellingen/contacten/geen/verwijderen"),
    "settings.restore": ("POST", "/scholen/{s}/instellingen/versies/1/herstellen"),
    "settings.restore:confirm": ("GET", "/scholen/{s}/instellingen/versies/1/herstellen"),
    "settings.tryout": ("GET", "/scholen/{s}/instellingen/proefdossier"),
    "settings.tryout:post": ("POST", "/scholen/{s}/instellingen/proefdossier"),
    "board.home": ("GET", "/besturen/{b}"),
    "board.contact": ("GET", "/besturen/{b}/contacten/veilig_thuis"),
    "board.contact:post": ("POST", "/besturen/{b}/contacten/veilig_thuis"),
    "board.remove_contact": ("GET", "/besturen/{b}/contacten/geen/verwijderen"),
    "board.remove_contact:post": ("POST", "/besturen/{b}/contacten/geen/verwijderen"),
    # sign-in through a school's provider (test_oidc.py; none configured here)
    "oidc.start": ("POST", "/inloggen/oidc"),
    "oidc.callback": ("GET", "/inloggen/oidc/geen/terug"),
}
# issue 14: the timeline with its notes, the exports and the route picture
ROUTES.update({
    "timeline.show": ("GET", "/dossiers/{d}/tijdlijn"),
    "timeline.add_note": ("POST", "/dossiers/{d}/notities"),
    "exports.pdf": ("GET", "/dossiers/{d}/pdf"),
    "exports.melding": ("GET", "/dossiers/{d}/melding"),
    "routepicture.picture": ("GET", "/dossiers/{d}/route.svg"),
})


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url = os.environ["MELDROUTE_TEST_POSTGRES"]
        reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path / 'meldroute.db'}"


class Clock:
    def __init__(self, today: dt.date) -> None:
        self.today = today

    def __call__(self) -> dt.date:
        return self.today


class Now:
    """The app's clock for sessions, TOTP and throttling: moves only when told to."""

    def __init__(self) -> None:
        self.moment = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(TODAY)


@pytest.fixture
def now() -> Now:
    return Now()


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: Clock, now: Now) -> Iterator[Flask]:
    upgrade(database_url)
    other = tmp_path / "schools" / "zonnebloem.yaml"
    other.parent.mkdir()
    other.write_text(OTHER_SCHOOL, encoding="utf-8")
    app = create_app({
        "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test", "DEMO": True, "CLOCK": clock, "NOW": now, "TESTING": True,
        "SESSION_COOKIE_SECURE": False,
        "SCHOOL_PATHS": [shipped_dir("schools") / "demo.yaml", other],
    })
    with app.app_context(), app.extensions["meldroute.db_sessions"]() as db:
        ensure_demo_users(db, app.extensions["meldroute.registry"], ["regenboog", "zonnebloem"])
    yield app
    app.extensions["meldroute.db_engine"].dispose()


def count(app: Flask, model: Any) -> int:
    with app.extensions["meldroute.db_sessions"]() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def records(app: Flask) -> int:
    return count(app, StepRecord)


def dossiers(app: Flask) -> int:
    return count(app, Dossier)


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
BASE = re.compile(r'name="base_version" value="(\d+)"')


def make_user(app: Flask, username: str, school: str, *roles: str, admin: bool = False,
              password: str = "een lange zin als wachtwoord", totp: bool = True) -> User:
    """A real (non-demo) account with a password and, by default, 2FA set up."""
    from meldroute.webapp import security
    from meldroute.webapp.models import Membership

    with app.extensions["meldroute.db_sessions"]() as db:
        user = User(username=username, display_name=username.title(), is_admin=admin,
                    password_hash=security.hash_password(password),
                    totp_secret=security.new_totp_secret() if totp else None)
        for role in roles:
            user.memberships.append(Membership(school_id=school, role=role))
        db.add(user)
        db.commit()
        db.refresh(user)
        db.expunge(user)
        return user


def sign_in_as(app: Flask, client: FlaskClient, user_id: int, school: str) -> None:
    """A server-side session for ``user_id`` and its cookie (skips the login pages)."""
    import hashlib
    import secrets

    from meldroute.webapp.models import WebSession

    token = secrets.token_urlsafe(32)
    moment = app.config["NOW"]()
    with app.extensions["meldroute.db_sessions"]() as db:
        db.add(WebSession(id=hashlib.sha256(token.encode()).hexdigest(), user_id=user_id,
                          school_id=school, data="{}", created_at=moment,
                          last_seen_at=moment, authenticated_at=moment))
        db.commit()
    secure = app.config["SESSION_COOKIE_SECURE"]
    client.set_cookie("__Host-meldroute" if secure else "meldroute", token,
                      secure=secure, domain="localhost")


class Browser:
    """A test client that behaves like a person with a browser."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app, self.client = app, client
        self.last = ""

    def get(self, url: str, status: int = 200) -> str:
        response = self.client.get(url)
        assert response.status_code == status, (url, response.status_code)
        self.last = response.get_data(as_text=True)
        return self.last

    def token(self, url: str = "/dossiers/nieuw") -> str:
        match = TOKEN.search(self.get(url))
        assert match
        return match.group(1)

    def login(self, role: str, school: str = "regenboog") -> None:
        with self.app.extensions["meldroute.db_sessions"]() as db:
            user = db.scalar(select(User).where(User.username == f"{school}-{role}"))
            assert user is not None
        html = self.get("/inloggen")
        token = TOKEN.search(html).group(1)  # type: ignore[union-attr]
        response = self.client.post("/inloggen", data={"csrf_token": token, "user": user.id})
        assert response.status_code == 302

    def new_dossier(self, initials: str = "A.B.", group: str = "5b",
                    name: str = "Fictieve Leerling") -> int:
        token = self.token()
        response = self.client.post("/dossiers/nieuw", data={
            "csrf_token": token, "pupil_initials": initials, "pupil_group": group,
            "pupil_name": name})
        assert response.status_code == 302, response.get_data(as_text=True)
        return int(response.headers["Location"].rstrip("/").split("/")[-1])

    def post_step(self, dossier: int, step: str, data: dict[str, Any], *,
                  base: int | None = None, csrf: bool = True) -> Any:
        html = self.get(f"/dossiers/{dossier}/stap/{step}")
        form: dict[str, Any] = {"action": "save"}
        if csrf:
            form["csrf_token"] = TOKEN.search(html).group(1)  # type: ignore[union-attr]
        form["base_version"] = base if base is not None else \
            int(BASE.search(html).group(1))  # type: ignore[union-attr]
        form.update(data)
        response = self.client.post(f"/dossiers/{dossier}/stap/{step}", data=form)
        self.last = response.get_data(as_text=True)
        return response


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app, app.test_client())


SIGNALEREN = {
    "observaties-0-datum": "2026-11-20",
    "observaties-0-waargenomen_door": ["leerkracht"],
    "observaties-0-feit": "De leerling had een blauwe plek op de arm en zei gevallen te zijn.",
    "observaties-0-bron": "zelf gezien",
    "interpretatie": "Zorgen over de thuissituatie.",
    "signaleren_checklist": ["1", "2"],
}
CONSULTEREN = {
    "geconsulteerd": ["cjg", "veilig_thuis"],
    "consultatie_datum": "2026-11-24",
    "uitkomst_consultatie": "Advies: gesprek met ouders voeren.",
}
GESPREK = {"gesprek_gevoerd": "y", "gesprek_datum": "2026-11-25",
           "hoofdboodschap": "Wij maken ons zorgen."}


def walk_to_afwegen(browser: Browser, dossier: int) -> None:
    for step, data in (("signaleren", SIGNALEREN), ("consulteren", CONSULTEREN),
                       ("gesprek", GESPREK)):
        response = browser.post_step(dossier, step, data)
        assert response.status_code == 302, browser.last


@pytest.fixture
def cli_env(app, monkeypatch, tmp_path):
    """The command line pointed at the test's database and instance folder."""
    monkeypatch.setenv("MELDROUTE_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("MELDROUTE_INSTANCE", app.config["INSTANCE_PATH"])
    monkeypatch.setenv("MELDROUTE_SECRET_KEY", "test")
    monkeypatch.setenv("MELDROUTE_SCHOOLS", ":".join(str(p) for p in app.config[
        "SCHOOL_PATHS"]))
    yield
    from meldroute.webapp import crypto

    crypto.configure(crypto.load_keyring(Path(app.config["INSTANCE_PATH"])))


CANARY = "KANARIE-plain-9d1e"


def stored_dossier(browser) -> int:
    """A dossier whose name and first step carry the CANARY text."""
    browser.login("ib")
    dossier = browser.new_dossier(name=f"Kind {CANARY}")
    assert browser.post_step(dossier, "signaleren", {
        **SIGNALEREN, "interpretatie": f"Zorg {CANARY}"}).status_code == 302
    return dossier
