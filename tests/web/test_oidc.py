"""Sign-in with the school's own account (OpenID Connect), against a real provider on
loopback (tests/oidc_provider.py): discovery, PKCE, signed ID tokens, one-time codes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyotp
import pytest
import requests
from sqlalchemy import select

from meldroute.engine.loader import shipped_dir
from meldroute.webapp.app import create_app
from meldroute.webapp.db import upgrade
from meldroute.webapp.models import AuditEvent, Membership, OidcLink, User, WebSession
from meldroute.webapp.settings import SettingError

from ..oidc_provider import Provider
from .conftest import OTHER_SCHOOL, ROUTES, TOKEN, make_user, sign_in_as

SCHOOL_IDP, BOARD_IDP = "regenboog-idp", "stichting-idp"
SECRET = "geheim-van-de-test-1"


def oidc_yaml(issuer: str, extra: str = "") -> str:
    return f"""providers:
  - id: {SCHOOL_IDP}
    name: De Regenboog
    issuer: {issuer}
    client_id: meldroute-regenboog
    schools: {{regenboog: regenboog}}
{extra}
  - id: {BOARD_IDP}
    name: Stichting Testscholen
    issuer: {issuer}
    client_id: meldroute-stichting
    claim: employee_number
    match: email
    school_claim: brin
    schools: {{"11AA": regenboog, "22BB": zonnebloem}}
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    started = Provider().start()
    yield started
    started.stop()


@pytest.fixture
def oidc_app(provider: Provider, tmp_path: Path, clock: Any, now: Any,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    provider.fault, provider.person = None, {"sub": "p-1"}
    provider.clients = {"meldroute-regenboog": (SECRET, "http://localhost/inloggen/oidc/"),
                        "meldroute-stichting": (SECRET, "http://localhost/inloggen/oidc/")}
    monkeypatch.setenv("MELDROUTE_OIDC_REGENBOOG_IDP_CLIENT_SECRET", SECRET)
    (tmp_path / "instance" / "oidc-secrets").mkdir(parents=True)  # the other way: a file
    (tmp_path / "instance" / "oidc-secrets" / BOARD_IDP).write_text(SECRET + "\n")
    (tmp_path / "instance" / "oidc.yaml").write_text(oidc_yaml(provider.url))
    yield make_app(tmp_path, clock, now)


def make_app(tmp_path: Path, clock: Any, now: Any) -> Any:
    url = f"sqlite:///{tmp_path / 'meldroute.db'}"
    upgrade(url)
    other = tmp_path / "zonnebloem.yaml"
    other.write_text(OTHER_SCHOOL, encoding="utf-8")
    return create_app({
        "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test", "CLOCK": clock, "NOW": now, "TESTING": True,
        "SESSION_COOKIE_SECURE": False,
        "SCHOOL_PATHS": [shipped_dir("schools") / "demo.yaml", other]})


def start(client: Any, provider_id: str = SCHOOL_IDP) -> str:
    """Click 'Inloggen met ...': the provider's authorization URL."""
    page = client.get("/inloggen").get_data(as_text=True)
    response = client.post("/inloggen/oidc", data={
        "csrf_token": TOKEN.search(page).group(1), "provider": provider_id})
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def at_provider(authorize_url: str) -> str:
    """The person signs in at the provider: the redirect back (the callback URL)."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    back = requests.post(urlsplit(authorize_url)._replace(query="").geturl(),
                         data={k: unescape(v) for k, v in fields.items()},
                         allow_redirects=False, timeout=10)
    assert back.status_code == 302
    return str(back.headers["Location"])


def callback(client: Any, url: str) -> Any:
    parts = urlsplit(url)
    return client.get(parts.path, query_string=dict(parse_qsl(parts.query)))


def sign_in(client: Any, provider_id: str = SCHOOL_IDP) -> Any:
    return callback(client, at_provider(start(client, provider_id)))


def audit(app: Any, action: str) -> list[AuditEvent]:
    with app.extensions["meldroute.db_sessions"]() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.seq)))


def text(response: Any) -> str:
    return unescape(response.get_data(as_text=True))


def signed_in_school(app: Any, client: Any) -> str | None:
    response = client.get("/dossiers")
    if response.status_code != 200:
        return None
    token = client.get_cookie("meldroute").value
    with app.extensions["meldroute.db_sessions"]() as db:
        row = db.get(WebSession, hashlib.sha256(token.encode()).hexdigest())
        return row.school_id if row is not None else None


# --- the login page and a full sign-in ---------------------------------------------------------


def test_the_login_page_offers_the_schools_providers_and_the_password(oidc_app):
    page = text(oidc_app.test_client().get("/inloggen"))
    assert "Inloggen met De Regenboog" in page
    assert "Inloggen met Stichting Testscholen" in page
    assert 'name="password"' in page  # the platform admin, schools without a provider


def test_a_full_sign_in_links_the_account_the_school_made(oidc_app, provider):
    anna = make_user(oidc_app, "juf-anna", "regenboog", "leerkracht")
    provider.person = {"sub": "juf-anna", "amr": ["pwd", "mfa"]}
    client = oidc_app.test_client()
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dossiers")
    assert signed_in_school(oidc_app, client) == "regenboog"
    assert [e.detail for e in audit(oidc_app, "oidc.link")] == [
        f"{SCHOOL_IDP} user {anna.id}"]
    assert audit(oidc_app, "login")[-1].detail == f"oidc {SCHOOL_IDP}"
    # the second time through the link (no new link); the username may change meanwhile
    with oidc_app.extensions["meldroute.db_sessions"]() as db:
        db.get(User, anna.id).username = "anna-de-vries"
        db.commit()
    assert sign_in(oidc_app.test_client()).status_code == 302
    assert len(audit(oidc_app, "oidc.link")) == 1
    trail = " ".join(e.detail for e in audit(oidc_app, "login"))
    assert "juf-anna" not in trail  # no claim content in the audit trail


def test_an_unknown_person_is_sent_to_the_school_admin(oidc_app, provider):
    make_user(oidc_app, "meester-bob", "zonnebloem", "leerkracht")  # another school
    provider.person = {"sub": "meester-bob", "amr": ["mfa"]}
    client = oidc_app.test_client()
    response = sign_in(client)
    assert response.status_code == 403
    assert "vraag de schoolbeheerder om een account" in text(response)
    assert client.get("/dossiers").status_code == 302
    assert [e.result for e in audit(oidc_app, "oidc.login")] == ["refused"]
    assert audit(oidc_app, "oidc.login")[0].detail == f"{SCHOOL_IDP} unknown"


def test_a_claim_with_wildcards_matches_no_other_account(oidc_app, provider):
    make_user(oidc_app, "juf-anna", "regenboog", "leerkracht")
    for claimed in ("juf_anna", "%", "juf-%"):
        provider.person = {"sub": claimed, "amr": ["mfa"]}
        assert sign_in(oidc_app.test_client()).status_code == 403
    assert audit(oidc_app, "oidc.link") == []


@pytest.mark.parametrize(("fault", "message"), [
    ("tamper", "niet te vertrouwen"),
    ("nonce", "hoort niet bij deze inlogpoging"),
    ("expired", "de klok van de inlogdienst en die van Meldroute lopen uiteen"),
    ("future", "de klok van de inlogdienst en die van Meldroute lopen uiteen"),
])
def test_a_bad_id_token_is_refused_with_a_message(oidc_app, provider, fault, message):
    make_user(oidc_app, "juf-anna", "regenboog", "leerkracht")
    provider.person = {"sub": "juf-anna", "amr": ["mfa"]}
    provider.fault = fault
    client = oidc_app.test_client()
    response = sign_in(client)
    assert response.status_code == 401
    assert message in text(response), [e.detail for e in audit(oidc_app, "oidc.login")]
    assert "Traceback" not in text(response)
    assert client.get("/dossiers").status_code == 302
    assert audit(oidc_app, "oidc.login")[-1].result == "refused"
    assert audit(oidc_app, "oidc.link") == []


def test_a_replayed_code_or_a_foreign_state_signs_nobody_in(oidc_app, provider):
    make_user(oidc_app, "juf-anna", "regenboog", "leerkracht")
    provider.person = {"sub": "juf-anna", "amr": ["mfa"]}
    owner = oidc_app.test_client()
    back = at_provider(start(owner))
    assert callback(owner, back).status_code == 302
    # the same answer once more (the back button): its state is used up
    again = oidc_app.test_client()
    start(again)
    response = callback(again, back)
    assert response.status_code == 401 and "verlopen of in een ander venster" in text(response)
    # an attacker's browser starts its own attempt and sends the used code with its state
    attacker = oidc_app.test_client()
    state = dict(parse_qsl(urlsplit(start(attacker)).query))["state"]
    code = dict(parse_qsl(urlsplit(back).query))["code"]
    replay = attacker.get(urlsplit(back).path, query_string={"code": code, "state": state})
    assert replay.status_code == 401 and "geweigerd" in text(replay)
    assert attacker.get("/dossiers").status_code == 302
    assert [e.detail for e in audit(oidc_app, "oidc.login")] == [
        f"{SCHOOL_IDP} state", f"{SCHOOL_IDP} provider"]


def test_without_a_second_factor_from_the_provider_the_code_is_asked(oidc_app, provider, now):
    anna = make_user(oidc_app, "juf-anna", "regenboog", "leerkracht")
    provider.person = {"sub": "juf-anna", "amr": ["pwd"]}
    client = oidc_app.test_client()
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/inloggen/code")
    assert client.get("/dossiers").status_code == 302  # not yet
    page = client.get("/inloggen/code").get_data(as_text=True)
    done = client.post("/inloggen/code", data={"csrf_token": TOKEN.search(page).group(1),
                                                 "code": pyotp.TOTP(anna.totp_secret).at(now())})
    assert done.status_code == 302
    assert signed_in_school(oidc_app, client) == "regenboog"
    assert audit(oidc_app, "oidc.login")[-1].result == "totp"


def test_an_acr_value_the_school_lists_counts_as_a_second_factor(provider, tmp_path, clock,
                                                                  now, monkeypatch):
    monkeypatch.setenv("MELDROUTE_OIDC_REGENBOOG_IDP_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("MELDROUTE_OIDC_STICHTING_IDP_CLIENT_SECRET", SECRET)
    provider.clients = {"meldroute-regenboog": (SECRET, "http://localhost/")}
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "oidc.yaml").write_text(oidc_yaml(
        provider.url, "    acr_values: [\"urn:test:loa3\"]"))
    app = make_app(tmp_path, clock, now)
    make_user(app, "juf-anna", "regenboog", "leerkracht")
    provider.fault, provider.person = None, {"sub": "juf-anna", "acr": "urn:test:loa3"}
    response = sign_in(app.test_client())
    assert response.headers["Location"].endswith("/dossiers")


def test_a_disabled_account_cannot_sign_in_through_the_provider(oidc_app, provider):
    anna = make_user(oidc_app, "juf-anna", "regenboog", "leerkracht")
    provider.person = {"sub": "juf-anna", "amr": ["mfa"]}
    assert sign_in(oidc_app.test_client()).status_code == 302  # linked
    with oidc_app.extensions["meldroute.db_sessions"]() as db:
        db.get(User, anna.id).active = False
        db.commit()
    client = oidc_app.test_client()
    response = sign_in(client)
    assert response.status_code == 403 and "uitgeschakeld" in text(response)
    assert client.get("/dossiers").status_code == 302
    assert audit(oidc_app, "oidc.login")[-1].detail == f"{SCHOOL_IDP} disabled"


def test_the_platform_admin_signs_in_with_password_only(oidc_app, provider):
    make_user(oidc_app, "beheer", "regenboog", "leerkracht", admin=True)
    provider.person = {"sub": "beheer", "amr": ["mfa"]}
    response = sign_in(oidc_app.test_client())
    assert response.status_code == 403 and "platformbeheer" in text(response)
    assert audit(oidc_app, "oidc.link") == []


def test_a_board_wide_provider_routes_to_the_school_in_the_claim(oidc_app, provider):
    both = make_user(oidc_app, "wisselaar", "regenboog", "leerkracht")
    with oidc_app.extensions["meldroute.db_sessions"]() as db:
        user = db.get(User, both.id)
        user.email = "w.wisselaar@example.org"
        user.memberships.append(Membership(school_id="zonnebloem", role="leerkracht"))
        db.commit()
    provider.person = {"sub": "x", "employee_number": "W.Wisselaar@example.org",
                       "brin": "22BB", "amr": ["mfa"]}
    client = oidc_app.test_client()
    assert sign_in(client, BOARD_IDP).status_code == 302
    assert signed_in_school(oidc_app, client) == "zonnebloem"
    provider.person = {**provider.person, "brin": "11AA"}
    client = oidc_app.test_client()
    assert sign_in(client, BOARD_IDP).status_code == 302
    assert signed_in_school(oidc_app, client) == "regenboog"
    provider.person = {**provider.person, "brin": "99ZZ"}  # a school the board did not list
    response = sign_in(oidc_app.test_client(), BOARD_IDP)
    assert response.status_code == 403 and "niet via Stichting Testscholen" in text(response)


def test_an_address_the_provider_calls_unverified_links_no_account(oidc_app, provider):
    teacher = make_user(oidc_app, "wisselaar", "regenboog", "leerkracht")
    with oidc_app.extensions["meldroute.db_sessions"]() as db:
        db.get(User, teacher.id).email = "w.wisselaar@example.org"
        db.commit()
    provider.person = {"sub": "y", "employee_number": "w.wisselaar@example.org",
                       "email_verified": False, "brin": "11AA", "amr": ["mfa"]}
    response = sign_in(oidc_app.test_client(), BOARD_IDP)
    assert response.status_code == 403
    assert "vraag de schoolbeheerder om een account" in text(response)
    assert audit(oidc_app, "oidc.link") == []


def auto_create_app(provider, tmp_path, clock, now, monkeypatch):
    """The app with the school's provider letting new staff in (``auto_create``)."""
    monkeypatch.setenv("MELDROUTE_OIDC_REGENBOOG_IDP_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("MELDROUTE_OIDC_STICHTING_IDP_CLIENT_SECRET", SECRET)
    provider.clients = {"meldroute-regenboog": (SECRET, "http://localhost/")}
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "oidc.yaml").write_text(oidc_yaml(
        provider.url, "    auto_create: true"))
    app = make_app(tmp_path, clock, now)
    provider.fault = None
    return app


def test_a_school_may_let_new_staff_in_without_any_role(provider, tmp_path, clock, now,
                                                        monkeypatch):
    app = auto_create_app(provider, tmp_path, clock, now, monkeypatch)
    provider.person = {"sub": "nieuw-1", "name": "Nieuwe Collega", "amr": ["mfa"],
                       "roles": ["directeur"]}  # a claimed role is never taken
    client = app.test_client()
    assert sign_in(client).status_code == 302
    page = client.get("/dossiers")
    assert page.status_code == 403 and "nog geen rol" in text(page)
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.scalars(select(Membership)).all() == []
        assert len(db.scalars(select(OidcLink)).all()) == 1
    assert len(audit(app, "oidc.create")) == 1
    # the school admin finds the new account on the people page, to give it roles there
    admin = make_user(app, "beheer.regenboog", "regenboog", "schooladmin")
    with app.extensions["meldroute.db_sessions"]() as db:
        new = db.scalar(select(OidcLink)).user_id
    manager = app.test_client()
    sign_in_as(app, manager, admin.id, "regenboog")
    page = manager.get("/scholen/regenboog/instellingen/mensen").get_data(as_text=True)
    assert "Nieuwe Collega" in page and f'name="roles__{new}"' in page


@pytest.mark.parametrize(("claimed", "kept"), [
    ("nieuw@example.org", "nieuw@example.org"),
    ("nieuw@example.org\nBcc: ander@example.org", None),  # a line break: no address
    ("n" * 250 + "@example.org", None),  # too long: dropped, never cut to another address
])
def test_a_new_accounts_address_from_the_provider_follows_the_admin_pages_rules(
        provider, tmp_path, clock, now, monkeypatch, claimed, kept):
    app = auto_create_app(provider, tmp_path, clock, now, monkeypatch)
    provider.person = {"sub": "nieuw-2", "name": "Nieuwe Collega", "amr": ["mfa"],
                       "email": claimed}
    assert sign_in(app.test_client()).status_code == 302
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.scalar(select(User.email).where(User.display_name == "Nieuwe Collega")
                         ) == kept


def test_logout_ends_the_session_and_offers_the_providers_logout(oidc_app, provider):
    make_user(oidc_app, "juf-anna", "regenboog", "leerkracht")
    provider.person = {"sub": "juf-anna", "amr": ["mfa"]}
    client = oidc_app.test_client()
    sign_in(client)
    page = client.get("/account").get_data(as_text=True)
    response = client.post("/uitloggen", data={"csrf_token": TOKEN.search(page).group(1)})
    assert response.status_code == 200
    assert f'href="{provider.url}/logout?' in response.get_data(as_text=True)
    assert "Ook uitloggen bij De Regenboog" in text(response)
    assert client.get("/dossiers").status_code == 302
    with oidc_app.extensions["meldroute.db_sessions"]() as db:
        assert db.scalars(select(WebSession).where(WebSession.user_id.is_not(None))).all() == []


def test_an_unreachable_provider_is_named(provider, tmp_path, clock, now, monkeypatch):
    monkeypatch.setenv("MELDROUTE_OIDC_REGENBOOG_IDP_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("MELDROUTE_OIDC_STICHTING_IDP_CLIENT_SECRET", SECRET)
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "oidc.yaml").write_text(oidc_yaml("http://127.0.0.1:9"))
    app = make_app(tmp_path, clock, now)
    client = app.test_client()
    page = client.get("/inloggen").get_data(as_text=True)
    response = client.post("/inloggen/oidc", data={"csrf_token": TOKEN.search(page).group(1),
                                                   "provider": SCHOOL_IDP})
    assert response.status_code == 503
    assert "De inlogdienst van De Regenboog is nu niet bereikbaar" in text(response)


def test_a_missing_secret_or_a_broken_file_stops_the_start(provider, tmp_path, clock, now,
                                                           monkeypatch):
    monkeypatch.delenv("MELDROUTE_OIDC_REGENBOOG_IDP_CLIENT_SECRET", raising=False)
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "oidc.yaml").write_text(oidc_yaml(provider.url))
    with pytest.raises(SettingError, match="MELDROUTE_OIDC_REGENBOOG_IDP_CLIENT_SECRET"):
        make_app(tmp_path, clock, now)
    (tmp_path / "instance" / "oidc.yaml").write_text("providers:\n  - id: x\n")
    with pytest.raises(SettingError, match="oidc.yaml"):
        make_app(tmp_path, clock, now)


def test_the_permission_matrix_does_not_depend_on_the_sign_in_method(oidc_app, provider):
    """The same account, signed in through the provider or by the test's password session,
    gets the same answer on every page (the matrix itself: test_permissions.py)."""
    ib = make_user(oidc_app, "ib-er", "regenboog", "ib")
    provider.person = {"sub": "ib-er", "amr": ["mfa"]}
    through_provider = oidc_app.test_client()
    assert sign_in(through_provider).status_code == 302
    with_password = oidc_app.test_client()
    sign_in_as(oidc_app, with_password, ib.id, "regenboog")
    differ = []
    for endpoint, (method, template) in ROUTES.items():
        if method != "GET" or endpoint.startswith(("auth.code", "auth.enroll")):
            continue
        url = template.format(d=1, u=ib.id, s="regenboog", b="stichting-a")
        statuses = []
        for client in (through_provider, with_password):
            response = client.get(url)
            response.close()
            statuses.append(response.status_code)
        if statuses[0] != statuses[1]:
            differ.append(f"{url}: {statuses}")
    assert not differ


def test_providers_are_an_installation_setting_with_a_documented_secret_name():
    from meldroute.webapp.oidc import secret_name

    assert secret_name("stichting-lucas") == "MELDROUTE_OIDC_STICHTING_LUCAS_CLIENT_SECRET"
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "MELDROUTE_OIDC_<ID>_CLIENT_SECRET" in readme
    assert "/inloggen/oidc/<id>/terug" in readme  # the redirect URI to register


def test_many_providers_are_a_school_picker(provider, tmp_path, clock, now, monkeypatch):
    entries = []
    for number in range(6):
        monkeypatch.setenv(f"MELDROUTE_OIDC_SCHOOL-{number}_CLIENT_SECRET".replace("-", "_"),
                           SECRET)
        entries.append(f"  - {{id: school-{number}, name: School {number}, issuer: "
                       f"'{provider.url}', client_id: c{number}, schools: {{s: regenboog}}}}")
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "oidc.yaml").write_text("providers:\n" + "\n".join(entries))
    app = make_app(tmp_path, clock, now)
    response = app.test_client().get("/inloggen")
    page = text(response)
    assert '<label for="provider">Je school of bestuur</label>' in page
    assert page.count("<option value=") == 6
    assert f"form-action 'self' {provider.url}" in response.headers["Content-Security-Policy"]
