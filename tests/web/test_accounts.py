"""Accounts, sign-in with password and TOTP, throttling and server-side sessions."""

from __future__ import annotations

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from meldroute.webapp import security
from meldroute.webapp.app import create_app
from meldroute.webapp.models import AuditEvent, LoginAttempt, User, WebSession

from .conftest import TOKEN, make_user

PASSWORD = "een lange zin als wachtwoord"


def token_of(client, url):
    return TOKEN.search(client.get(url).get_data(as_text=True)).group(1)


def post_password(client, username, password=PASSWORD):
    return client.post("/inloggen", data={"csrf_token": token_of(client, "/inloggen"),
                                          "username": username, "password": password})


def post_code(client, code):
    return client.post("/inloggen/code", data={"csrf_token": token_of(client, "/inloggen/code"),
                                               "code": code})


def sign_in(client, user, now):
    assert post_password(client, user.username).headers["Location"] == "/inloggen/code"
    response = post_code(client, pyotp.TOTP(user.totp_secret).at(now()))
    assert response.status_code == 302 and response.headers["Location"] == "/dossiers"


def attempts(app, **where):
    with app.extensions["meldroute.db_sessions"]() as db:
        query = select(func.count()).select_from(LoginAttempt)
        for key, value in where.items():
            query = query.where(getattr(LoginAttempt, key) == value)
        return db.scalar(query)


def test_password_and_code_sign_in(app, now):
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    client = app.test_client()
    assert client.get("/dossiers").headers["Location"] == "/inloggen"
    assert post_password(client, "juf.a").headers["Location"] == "/inloggen/code"
    assert client.get("/dossiers").status_code == 302  # not signed in before the code
    sign_in_again = post_code(client, pyotp.TOTP(user.totp_secret).at(now()))
    assert sign_in_again.headers["Location"] == "/dossiers"
    assert client.get("/dossiers").status_code == 200
    assert attempts(app, success=True, stage="password") == 1
    assert attempts(app, success=True, stage="totp") == 1


def test_wrong_password_and_unknown_user_look_the_same(app):
    make_user(app, "juf.a", "regenboog", "leerkracht")
    client = app.test_client()
    wrong = post_password(client, "juf.a", "verkeerd wachtwoord hier")
    unknown = post_password(client, "niemand", "verkeerd wachtwoord hier")
    assert wrong.status_code == unknown.status_code == 401
    assert "Gebruikersnaam of wachtwoord onjuist." in wrong.get_data(as_text=True)
    assert attempts(app, success=False) == 2


def test_the_sixth_wrong_password_within_a_minute_is_throttled(app, now, database_url,
                                                               tmp_path):
    make_user(app, "juf.a", "regenboog", "leerkracht")
    client = app.test_client()
    for _ in range(5):
        assert post_password(client, "juf.a", "verkeerd wachtwoord hier").status_code == 401
    # even the right password is refused now, also by another worker process
    other = create_app({**{k: app.config[k] for k in (
        "DATABASE_URL", "SECRET_KEY", "NOW", "SCHOOL_PATHS", "INSTANCE_PATH", "DEMO")},
        "SESSION_COOKIE_SECURE": False})
    for each in (client, other.test_client()):
        response = post_password(each, "juf.a")
        assert response.status_code == 429
        assert "Te veel mislukte pogingen" in response.get_data(as_text=True)
    other.extensions["meldroute.db_engine"].dispose()
    now.advance(minutes=2)
    assert post_password(client, "juf.a").status_code == 302


def test_a_used_code_cannot_be_used_again(app, now):
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    code = pyotp.TOTP(user.totp_secret).at(now())
    first, second = app.test_client(), app.test_client()
    post_password(first, "juf.a")
    assert post_code(first, code).status_code == 302
    post_password(second, "juf.a")
    response = post_code(second, code)
    assert response.status_code == 401
    assert "al gebruikt" in response.get_data(as_text=True)


def test_a_new_account_must_set_up_2fa_before_anything_else(app, now):
    make_user(app, "meester.b", "regenboog", "leerkracht", totp=False)
    client = app.test_client()
    response = post_password(client, "meester.b")
    assert response.headers["Location"] == "/inloggen/tweestapsverificatie"
    page = client.get("/inloggen/tweestapsverificatie").get_data(as_text=True)
    secret = page.split('<code class="secret">')[1].split("</code>")[0]
    assert client.get("/dossiers").status_code == 302
    wrong = client.post("/inloggen/tweestapsverificatie", data={
        "csrf_token": TOKEN.search(page).group(1), "code": "000000"})
    assert wrong.status_code == 400
    done = client.post("/inloggen/tweestapsverificatie", data={
        "csrf_token": TOKEN.search(page).group(1), "code": pyotp.TOTP(secret).at(now())})
    assert done.headers["Location"] == "/dossiers"
    with app.extensions["meldroute.db_sessions"]() as db:
        stored = db.scalar(select(User).where(User.username == "meester.b"))
        assert stored.totp_secret == secret


def test_passwords_are_argon2id_and_rehashed_when_parameters_change(app):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    with app.extensions["meldroute.db_sessions"]() as db:
        row = db.get(User, user.id)
        assert row.password_hash.startswith("$argon2id$")
        row.password_hash = weak.hash(PASSWORD)
        db.commit()
    client = app.test_client()
    post_password(client, "juf.a")
    with app.extensions["meldroute.db_sessions"]() as db:
        assert not security.needs_rehash(db.get(User, user.id).password_hash)


@pytest.mark.parametrize(("password", "message"), [
    ("kort123", "minstens 12 tekens"),
    ("Qwerty123456", "veelgebruikte wachtwoorden"),
    ("wij zijn de regenboog school", "naam van de school"),
])
def test_password_policy(password, message):
    problems = security.password_problems(password, ["Basisschool De Regenboog",
                                                     "Regenboog"])
    assert any(message in p for p in problems), problems


def test_good_passwords_pass_without_composition_rules():
    assert security.password_problems("paarden eten graag wortels in de wei",
                                      ["Basisschool De Regenboog"]) == []


def test_cookie_replay_after_logout_fails(app, now):
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    client = app.test_client()
    sign_in(client, user, now)
    cookie = client.get_cookie("meldroute").value
    client.post("/uitloggen", data={"csrf_token": token_of(client, "/dossiers/nieuw")})
    thief = app.test_client()
    thief.set_cookie("meldroute", cookie, domain="localhost")
    assert thief.get("/dossiers").headers["Location"] == "/inloggen"


def test_login_gives_a_fresh_session_id(app, now):
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    client = app.test_client()
    client.get("/inloggen")
    before = client.get_cookie("meldroute").value
    sign_in(client, user, now)
    assert client.get_cookie("meldroute").value != before


def test_idle_and_absolute_timeouts(app, now):
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    client = app.test_client()
    sign_in(client, user, now)
    now.advance(minutes=29)
    assert client.get("/dossiers").status_code == 200
    now.advance(minutes=31)
    assert client.get("/dossiers").headers["Location"] == "/inloggen"
    sign_in(client, user, now)
    for _ in range(21):  # active all day, never idle for 30 minutes
        now.advance(minutes=29)
        status = client.get("/dossiers").status_code
    assert status == 302  # 10 hours after sign-in the session has ended


def test_disabling_an_account_ends_its_sessions_at_once(app, now):
    admin = make_user(app, "beheer", "regenboog", "directeur", admin=True)
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    client, admin_client = app.test_client(), app.test_client()
    sign_in(client, user, now)
    now.advance(seconds=31)
    sign_in(admin_client, admin, now)
    assert client.get("/dossiers").status_code == 200
    admin_client.post(f"/beheer/gebruikers/{user.id}/actief",
                      data={"csrf_token": token_of(admin_client, "/beheer/gebruikers")})
    assert client.get("/dossiers").headers["Location"] == "/inloggen"
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.scalar(select(func.count()).select_from(WebSession).where(
            WebSession.user_id == user.id)) == 0


def test_changing_the_password_needs_the_current_one_and_a_code(app, now):
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    client = app.test_client()
    sign_in(client, user, now)
    now.advance(seconds=31)
    token = token_of(client, "/account")
    wrong = client.post("/account", data={"csrf_token": token, "current": "niet goed genoeg",
                                          "code": pyotp.TOTP(user.totp_secret).at(now()),
                                          "new": "een nieuw en lang wachtwoord",
                                          "repeat": "een nieuw en lang wachtwoord"})
    assert wrong.status_code == 401
    ok = client.post("/account", data={"csrf_token": token, "current": PASSWORD,
                                       "code": pyotp.TOTP(user.totp_secret).at(now()),
                                       "new": "een nieuw en lang wachtwoord",
                                       "repeat": "een nieuw en lang wachtwoord"})
    assert ok.status_code == 302
    fresh = app.test_client()
    assert post_password(fresh, "juf.a", "een nieuw en lang wachtwoord").status_code == 302


def test_every_login_is_in_the_audit_trail_without_secrets(app, now):
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    client = app.test_client()
    post_password(client, "juf.a", "fout-wachtwoord-12345")
    sign_in(client, user, now)
    with app.extensions["meldroute.db_sessions"]() as db:
        rows = db.scalars(select(AuditEvent).where(AuditEvent.action == "login")
                          .order_by(AuditEvent.seq)).all()
        assert [(r.actor, r.result) for r in rows] == [("juf.a", "failed"), ("juf.a", "ok")]
        assert all("fout-wachtwoord" not in (r.detail or "") for r in rows)


def test_demo_users_cannot_sign_in_outside_demo_mode(app, browser):
    browser.login("leerkracht")
    app.config["DEMO"] = False
    assert browser.client.get("/dossiers").headers["Location"] == "/inloggen"


def test_a_user_of_two_schools_switches_between_them(app, browser):
    from .conftest import sign_in_as

    user = make_user(app, "ib.twee", "regenboog", "ib")
    with app.extensions["meldroute.db_sessions"]() as db:
        from meldroute.webapp.models import Membership
        db.add(Membership(user_id=user.id, school_id="zonnebloem", role="ib"))
        db.commit()
    client = app.test_client()
    sign_in_as(app, client, user.id, "regenboog")
    page = client.get("/contacten").get_data(as_text=True)
    assert "Basisschool De Regenboog" in page and 'name="school"' in page
    token = TOKEN.search(page).group(1)
    assert client.post("/school", data={"csrf_token": token, "school": "elders"}
                       ).status_code == 404
    assert client.post("/school", data={"csrf_token": token, "school": "zonnebloem"}
                       ).status_code == 302
    assert "Basisschool De Zonnebloem" in client.get("/contacten").get_data(as_text=True)
