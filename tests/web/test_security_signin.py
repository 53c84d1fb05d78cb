"""Regression tests for the sign-in findings of the security review (issue 10, findings 6
to 9, and the enrolment QR code): each reproduces the attack as found and asserts it
fails now."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
import threading
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import func, select

from meldroute.webapp import security
from meldroute.webapp.app import create_app
from meldroute.webapp.cli import main
from meldroute.webapp.demo import check_demo_database, ensure_demo_users
from meldroute.webapp.models import AuditEvent, LoginAttempt, WebSession
from meldroute.webapp.settings import SettingError

from .conftest import TOKEN, make_user

PASSWORD = "een lange zin als wachtwoord"
ATTACKER, USER_ADDRESS = "203.0.113.66", "198.51.100.7"


def token_of(client, url):
    return TOKEN.search(client.get(url).get_data(as_text=True)).group(1)


def post_password(client, username, password=PASSWORD, **kwargs):
    return client.post("/inloggen", data={"csrf_token": token_of(client, "/inloggen"),
                                          "username": username, "password": password},
                       **kwargs)


def post_code(client, code, **kwargs):
    return client.post("/inloggen/code", data={"csrf_token": token_of(client, "/inloggen/code"),
                                               "code": code}, **kwargs)


def sign_in(client, user, now):
    assert post_password(client, user.username).headers["Location"] == "/inloggen/code"
    response = post_code(client, pyotp.TOTP(user.totp_secret).at(now()))
    assert response.headers["Location"] == "/dossiers"


def from_address(client, address):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def rows(app, model, *where):
    with app.extensions["meldroute.db_sessions"]() as db:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def wrong_code(secret, now):
    valid = {pyotp.TOTP(secret).at(now() + dt.timedelta(seconds=30 * k)) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def second_app(app, **config):
    keys = ("DATABASE_URL", "SECRET_KEY", "NOW", "CLOCK", "SCHOOL_PATHS", "INSTANCE_PATH",
            "DEMO")
    return create_app({**{k: app.config[k] for k in keys}, "TESTING": True,
                       "SESSION_COOKIE_SECURE": False, **config})


# --- finding 6: behind a proxy every client was the proxy -----------------------------------


@pytest.fixture
def proxied(app, monkeypatch):
    """The app as gunicorn (wsgi.py) and `serve` make it, behind a proxy on 127.0.0.1."""
    monkeypatch.setenv("MELDROUTE_TRUSTED_PROXY", "127.0.0.1, ::1")
    behind = second_app(app)
    yield behind
    behind.extensions["meldroute.db_engine"].dispose()


def test_behind_the_proxy_each_client_has_its_own_address_and_throttle(proxied, now):
    user = make_user(proxied, "juf.a", "regenboog", "leerkracht")
    attacker = proxied.test_client()
    attacker.environ_base["HTTP_X_FORWARDED_FOR"] = ATTACKER
    for _ in range(8):
        post_password(attacker, "juf.a", "verkeerd wachtwoord hier")
    assert post_password(attacker, "juf.a").status_code == 429
    # before: every client was the proxy, so the real user was locked out with the attacker
    real = proxied.test_client()
    real.environ_base["HTTP_X_FORWARDED_FOR"] = USER_ADDRESS
    sign_in(real, user, now)
    with proxied.extensions["meldroute.db_sessions"]() as db:
        addresses = {e.address for e in db.scalars(select(AuditEvent).where(
            AuditEvent.action == "login"))}
        tried = set(db.scalars(select(LoginAttempt.address)))
    assert addresses == {ATTACKER, USER_ADDRESS} and tried == {ATTACKER, USER_ADDRESS}


def test_a_forged_forwarded_header_from_elsewhere_is_ignored(proxied):
    make_user(proxied, "juf.a", "regenboog", "leerkracht")
    direct = from_address(proxied.test_client(), ATTACKER)  # not through the proxy
    for n in range(8):  # a new "address" each time would escape the throttle if believed
        direct.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{n}"
        post_password(direct, "juf.a", "verkeerd wachtwoord hier")
    assert post_password(direct, "juf.a").status_code == 429
    with proxied.extensions["meldroute.db_sessions"]() as db:
        assert set(db.scalars(select(AuditEvent.address).where(  # (not the HMAC marker)
            AuditEvent.action != "audit.hmac"))) == {ATTACKER}


def test_a_bad_trusted_proxy_setting_stops_the_start(app, monkeypatch):
    monkeypatch.setenv("MELDROUTE_TRUSTED_PROXY", "nginx.local")
    with pytest.raises(SettingError, match="MELDROUTE_TRUSTED_PROXY"):
        second_app(app)


# --- finding 7: anonymous visitors grew the database without limit -------------------------


def test_the_login_page_adds_no_row_and_its_form_still_works(app):
    client = app.test_client()
    for _ in range(20):
        client.get("/inloggen")
        app.test_client().get("/inloggen")
    assert rows(app, WebSession) == 0
    wrong = post_password(client, "niemand", "verkeerd wachtwoord hier")
    assert wrong.status_code == 401  # the CSRF token held; a message is shown
    assert "onjuist" in wrong.get_data(as_text=True)
    assert rows(app, WebSession) == 0
    forged = app.test_client()
    forged.set_cookie("meldroute", "e30.forged.signature", domain="localhost")
    response = forged.post("/inloggen", data={"csrf_token": "x", "username": "a",
                                              "password": "b" * 12})
    assert response.status_code == 400  # a forged cookie carries no CSRF token


def test_throttled_attempts_add_a_bounded_number_of_rows(app):
    make_user(app, "juf.a", "regenboog", "leerkracht")
    client = app.test_client()
    for _ in range(60):
        post_password(client, "juf.a", "verkeerd wachtwoord hier")
    assert rows(app, LoginAttempt) <= security.FREE_FAILURES + 1
    assert rows(app, AuditEvent, AuditEvent.action == "login") <= security.FREE_FAILURES + 1


def test_purge_removes_expired_sessions_and_old_attempts(app, cli_env, capsys):
    real_now = dt.datetime.now(dt.UTC)
    with app.extensions["meldroute.db_sessions"]() as db:
        for name, seen in (("old", real_now - dt.timedelta(hours=2)),
                           ("new", real_now - dt.timedelta(minutes=1))):
            db.add(WebSession(id=hashlib.sha256(name.encode()).hexdigest(), data="{}",
                              created_at=seen, last_seen_at=seen))
        for at in (real_now - dt.timedelta(days=3), real_now - dt.timedelta(minutes=5)):
            db.add(LoginAttempt(username="x", address="a", success=False, stage="password",
                                at=at))
        db.commit()
    assert main(["purge"]) == 0
    assert "1 verlopen sessie(s) en 1 oude inlogpoging(en)" in capsys.readouterr().out
    assert rows(app, WebSession) == 1 and rows(app, LoginAttempt) == 1
    assert main(["retention"]) == 0  # the retention run purges too
    assert "0 verlopen sessie(s)" in capsys.readouterr().out
    assert main(["audit", "verify"]) == 0


# --- finding 8: sign-in under attack --------------------------------------------------------


def test_a_code_sent_in_parallel_lets_exactly_one_session_in(app, now, monkeypatch):
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    code = pyotp.TOTP(user.totp_secret).at(now())
    clients = [app.test_client() for _ in range(3)]
    tokens = []
    for client in clients:
        post_password(client, "juf.a")
        tokens.append(token_of(client, "/inloggen/code"))
    # every request checks the code before any of them marks it used (check-then-set)
    barrier = threading.Barrier(len(clients), timeout=20)
    checked = security.totp_step

    def slow_check(*args):
        step = checked(*args)
        barrier.wait()
        return step

    monkeypatch.setattr(security, "totp_step", slow_check)
    statuses = []

    def submit(client, token):
        statuses.append(client.post("/inloggen/code", data={"csrf_token": token,
                                                            "code": code}).status_code)

    threads = [threading.Thread(target=submit, args=pair)
               for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [302, 401, 401]
    assert rows(app, WebSession, WebSession.user_id == user.id) == 1


def test_the_session_id_changes_at_the_password_and_at_the_code(app, now):
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    client = app.test_client()
    client.get("/inloggen")
    anonymous = client.get_cookie("meldroute").value
    post_password(client, "juf.a")
    after_password = client.get_cookie("meldroute").value
    assert after_password != anonymous
    fixed = app.test_client()  # the cookie an attacker planted or saw before the password
    fixed.set_cookie("meldroute", anonymous, domain="localhost")
    assert fixed.get("/inloggen/code").headers["Location"] == "/inloggen"
    assert post_code(client, pyotp.TOTP(user.totp_secret).at(now())).status_code == 302
    assert client.get_cookie("meldroute").value not in (anonymous, after_password)
    fixed.set_cookie("meldroute", after_password, domain="localhost")
    assert fixed.get("/dossiers").headers["Location"] == "/inloggen"


def test_an_attacker_cannot_lock_the_real_user_out(app, now):
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    attacker = from_address(app.test_client(), ATTACKER)
    refused = 0
    for _ in range(30):  # about 5 a minute, for six minutes
        refused += post_password(attacker, "juf.a", "verkeerd wachtwoord hier"
                                 ).status_code == 429
        now.advance(seconds=12)
    assert refused >= 20  # the attacker's own address backs off
    sign_in(from_address(app.test_client(), USER_ADDRESS), user, now)


def test_at_most_100_code_guesses_an_hour_from_any_number_of_addresses(app, now):
    user = make_user(app, "juf.a", "regenboog", "leerkracht")  # the password is known
    attacker = app.test_client()
    tried = 0
    for n in range(240):  # an hour, a guess every 15 seconds, a new address every 3
        from_address(attacker, f"192.0.2.{n // 3}")
        if n % 15 == 0:  # the password step again before it expires
            assert post_password(attacker, "juf.a").status_code == 302
        response = post_code(attacker, wrong_code(user.totp_secret, now))
        assert response.status_code in (401, 429)
        tried += response.status_code == 401
        now.advance(seconds=15)
    assert tried == security.ACCOUNT_CODE_CEILING <= 100


# --- finding 9: the rest --------------------------------------------------------------------


@pytest.mark.parametrize("password", ["123456789012", "wachtwoord123", "meldroute123"])
def test_guessable_passwords_are_refused(password):
    assert security.password_problems(password, ["Basisschool De Regenboog"], "juf.a")


def test_huge_ids_and_nul_bytes_are_404_or_400_never_500(app, browser):
    browser.login("ib")
    for url in ("/dossiers/9223372036854775808", "/dossiers/2147483648",
                "/dossiers/99999999999999999999/stap/signaleren"):
        assert browser.client.get(url).status_code == 404, url
    assert browser.client.get("/dossiers/1%00").status_code in (400, 404)
    assert browser.client.get("/dossiers?zoek=a%00b").status_code == 400
    token = browser.token()
    response = browser.client.post("/dossiers/nieuw", data={
        "csrf_token": token, "pupil_initials": "A.\x00", "pupil_group": "5b",
        "pupil_name": "Fictieve\x00Leerling"})
    assert response.status_code == 400
    anonymous = app.test_client()
    assert post_password(anonymous, "juf\x00a").status_code == 400


def test_demo_users_only_for_the_demo_school(app):
    with app.extensions["meldroute.db_sessions"]() as db:
        users = ensure_demo_users(db, app.extensions["meldroute.registry"])
        assert users and {m.school_id for u in users for m in u.memberships} == {"regenboog"}


def test_serve_demo_refuses_a_database_with_real_accounts(app, cli_env, capsys):
    check_demo_database(app.config["DATABASE_URL"])  # demo users only: fine
    make_user(app, "juf.a", "regenboog", "leerkracht")
    with pytest.raises(SettingError, match="echte account"):
        check_demo_database(app.config["DATABASE_URL"])
    assert main(["serve", "--demo", "--port", "0"]) == 2
    assert "echte account" in capsys.readouterr().err


def test_the_enrolment_secret_is_not_in_clear_in_the_session_row(app, now):
    make_user(app, "meester.b", "regenboog", "leerkracht", totp=False)
    client = app.test_client()
    assert post_password(client, "meester.b").headers["Location"] == \
        "/inloggen/tweestapsverificatie"
    page = client.get("/inloggen/tweestapsverificatie").get_data(as_text=True)
    secret = page.split('<code class="secret">')[1].split("</code>")[0]
    with app.extensions["meldroute.db_sessions"]() as db:
        stored = [row.data for row in db.scalars(select(WebSession))]
    assert stored and not any(secret in data for data in stored)
    # issue 11: a QR code (an image, no script) and the key for typing it in
    assert 'src="data:image/svg+xml' in page and "<script" not in page


def test_the_database_file_is_readable_by_its_owner_only(app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("a file only on SQLite")
    path = Path(database_url.removeprefix("sqlite:///"))
    assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0


@pytest.mark.parametrize("email", ["cjg@example.org?bcc=iedereen@example.org",
                                   "cjg@example.org&cc=x@example.org", "cjg@example.org\n",
                                   "cjg@example.org%0ABcc:x@example.org"])
def test_contact_addresses_cannot_carry_mail_headers(email):
    from meldroute.engine.source import validator

    school = {"id": "regenboog", "name": "Basisschool De Regenboog",
              "contacts": {"cjg": {"name": "CJG", "email": email}}}
    assert list(validator("school").iter_errors(school))
    school["contacts"]["cjg"]["email"] = "cjg@example.org"
    assert not list(validator("school").iter_errors(school))


def test_the_user_sees_and_ends_their_other_sessions(app, now):
    user = make_user(app, "juf.a", "regenboog", "leerkracht")
    laptop = app.test_client()
    laptop.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (Windows NT 10.0) Firefox/133.0"
    stolen = from_address(app.test_client(), ATTACKER)
    stolen.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"
    sign_in(laptop, user, now)
    now.advance(seconds=31)
    sign_in(stolen, user, now)
    page = laptop.get("/account").get_data(as_text=True)
    assert "Firefox op Windows" in page and "Chrome op Linux" in page and ATTACKER in page
    assert "(deze sessie)" in page
    # one button per other session; this one's cell says how it ends (on a phone each
    # row is a card whose "Actie:" would otherwise stand empty)
    assert page.count('value="end:') == 1 and "Uitloggen beëindigt deze sessie." in page
    response = laptop.post("/account", data={"csrf_token": TOKEN.search(page).group(1),
                                             "action": "end-others"})
    assert response.status_code == 302
    assert stolen.get("/dossiers").headers["Location"] == "/inloggen"
    assert laptop.get("/dossiers").status_code == 200
    no_token = laptop.post("/account", data={"action": "end-others"})
    assert no_token.status_code == 400  # CSRF
