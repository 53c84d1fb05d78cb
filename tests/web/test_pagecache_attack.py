"""Attacks on the kept dossier pages (issue 13, review).

A kept page is served without loading the dossier or checking access again, so whatever
decides what someone may see, and what the page shows, must be in its key or renew it.
Each test here is a way that could go wrong: a role taken away (between two views, or
while the page is being rendered), a switch of school, two browsers of one person, a
write the revisions do not see, a HEAD request.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, event, func, select, text

from meldroute.webapp import security
from meldroute.webapp.models import AuditEvent, Membership, User
from meldroute.webapp.pagecache import PAGES

from .conftest import SIGNALEREN, TOKEN, Browser, make_user, records, sign_in_as

TOKENS = re.compile(r'name="csrf_token" value="[^"]+"')


def sessions(app: Flask) -> Any:
    return app.extensions["meldroute.db_sessions"]


def denials(app: Flask, dossier: int) -> int:
    with sessions(app)() as db:
        return int(db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.dossier_id == dossier, AuditEvent.result == "denied")) or 0)


def drop_role(app: Flask, user_id: int, role: str) -> None:
    with sessions(app)() as db:
        db.execute(delete(Membership).where(Membership.user_id == user_id,
                                            Membership.role == role))
        db.commit()


def coordinator(app: Flask, browser: Browser) -> tuple[Browser, int, int]:
    """An IB-er who is also a teacher, signed in, and a dossier someone else opened that
    they see only as IB-er (the teacher's role alone does not show it)."""
    dossier = browser.new_dossier("R.V.", "6b")
    user = make_user(app, "tweede-ib", "regenboog", "leerkracht", "ib")
    other = Browser(app, app.test_client())
    sign_in_as(app, other.client, user.id, "regenboog")
    return other, user.id, dossier


def test_a_role_taken_away_between_two_views_ends_the_kept_page(app: Flask,
                                                                 browser: Browser) -> None:
    browser.login("leerkracht")
    other, user_id, dossier = coordinator(app, browser)
    for url in (f"/dossiers/{dossier}", f"/dossiers/{dossier}/stap/signaleren"):
        other.get(url)
        other.get(url)  # kept
    drop_role(app, user_id, "ib")
    before = denials(app, dossier)
    other.get(f"/dossiers/{dossier}", status=404)
    other.get(f"/dossiers/{dossier}/stap/signaleren", status=404)
    assert denials(app, dossier) == before + 2


def test_a_role_taken_away_while_the_page_renders_is_not_kept_for_them(
        app: Flask, browser: Browser) -> None:
    """A role taken away just before the dossier's revisions are read must not leave a
    page kept under revisions the next request, without the role, reads again. (The
    revisions are now read in the request's first statement, with the user, their roles
    and the site's revision; when the kept page's own probe runs, after the roles, the
    site's revision read with the roles covers it.)"""
    browser.login("leerkracht")
    other, user_id, dossier = coordinator(app, browser)
    url = f"/dossiers/{dossier}"
    fired: list[bool] = []

    def between(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "linked_dossier_id = " in statement and not fired:  # the probe's revisions
            fired.append(True)
            drop_role(app, user_id, "ib")  # another admin, committed just now

    engine = app.extensions["meldroute.db_engine"]
    event.listen(engine, "before_cursor_execute", between)
    try:
        other.client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", between)
    assert fired
    before = denials(app, dossier)
    other.get(url, status=404)
    assert denials(app, dossier) == before + 1


def test_a_switch_of_school_gives_the_other_school_s_answer(app: Flask,
                                                             browser: Browser) -> None:
    browser.login("leerkracht")
    dossier = browser.new_dossier("S.W.", "4a")
    user = make_user(app, "twee-scholen", "regenboog", "ib")
    with sessions(app)() as db:
        db.add(Membership(user_id=user.id, school_id="zonnebloem", role="ib"))
        db.commit()
    other = Browser(app, app.test_client())
    sign_in_as(app, other.client, user.id, "regenboog")
    url = f"/dossiers/{dossier}"
    other.get(url)
    other.get(url)  # kept
    token = other.token(url)
    assert other.client.post("/school", data={"csrf_token": token,
                                              "school": "zonnebloem"}).status_code == 302
    other.get(url, status=404)


def two_browsers_of_one_ib(app: Flask, browser: Browser, initials: str, username: str
                           ) -> tuple[int, Browser, Browser]:
    """A teacher's new dossier, and two browsers signed in as one IB-er (one person)."""
    browser.login("leerkracht")
    dossier = browser.new_dossier(initials, "8a")
    user = make_user(app, username, "regenboog", "ib")
    first, second = (Browser(app, app.test_client()) for _ in range(2))
    sign_in_as(app, first.client, user.id, "regenboog")
    sign_in_as(app, second.client, user.id, "regenboog")
    return dossier, first, second


def test_two_browsers_of_one_person_each_get_their_own_form_token(
        app: Flask, browser: Browser) -> None:
    dossier, first, second = two_browsers_of_one_ib(app, browser, "T.B.", "twee-browsers")
    url = f"/dossiers/{dossier}/stap/signaleren"
    first.get(url)
    first.get(url)
    html = second.get(url)  # kept, from the first browser's view
    assert app.extensions[PAGES].hits >= 2
    tokens = set(TOKEN.findall(html))
    assert tokens and not tokens & set(TOKEN.findall(first.get(url)))
    # the token served in the kept page is the second browser's own: its save is taken
    # (tokens are signed with the second they were made in: compared by use, not by text)
    saved = second.post_step(dossier, "signaleren", SIGNALEREN)
    assert saved.status_code == 302


def test_a_text_statement_through_a_session_renews_the_pages(app: Flask,
                                                            browser: Browser) -> None:
    browser.login("ib")
    dossier = browser.new_dossier("T.S.", "2b")
    url = f"/dossiers/{dossier}"
    browser.get(url)
    with sessions(app)() as db:
        name = db.scalar(select(User.display_name).where(User.username == "regenboog-ib"))
    assert name and name in browser.get(url)  # (kept now)
    with sessions(app)() as db:
        db.execute(text("UPDATE users SET display_name = :name WHERE username = :user"),
                   {"name": "Via Tekst", "user": "regenboog-ib"})
        db.commit()
    assert "Via Tekst" in browser.get(url)


def test_a_head_request_on_a_step_saves_nothing(app: Flask, browser: Browser) -> None:
    browser.login("ib")
    dossier = browser.new_dossier("H.D.", "1a")
    html = browser.get(f"/dossiers/{dossier}/stap/signaleren")
    base = re.search(r'name="base_version" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    before = records(app)
    response = browser.client.open(
        f"/dossiers/{dossier}/stap/signaleren", method="HEAD",
        data={"action": "save", "base_version": base, **SIGNALEREN})  # no CSRF token
    assert records(app) == before
    assert response.status_code == 200 and response.get_data() == b""  # a GET, no body


def test_a_sign_in_leaves_the_kept_pages_of_others(app: Flask, browser: Browser) -> None:
    """Signing in writes only what no page shows (the session, the last used code)."""
    browser.login("ib")
    dossier = browser.new_dossier("S.I.", "5a")
    url = f"/dossiers/{dossier}"
    browser.get(url)  # (the message of the new dossier)
    browser.get(url)  # kept
    pages = app.extensions[PAGES]
    with sessions(app)() as db:
        user = db.scalar(select(User).where(User.username == "regenboog-directeur"))
        assert user is not None
        user.totp_last_step = 12345  # what a sign-in with a code writes
        db.commit()
        assert security.claim_code(db, user.id, 12346)  # ... as the sign-in writes it
        db.commit()
    hits = pages.hits
    browser.get(url)
    assert pages.hits == hits + 1


def test_a_second_session_of_a_thread_does_not_give_away_its_turn(app: Flask) -> None:
    from meldroute.webapp import db as db_module

    turns = db_module._TURNS.get(app.extensions["meldroute.db_engine"])
    if turns is None:
        pytest.skip("PostgreSQL: writers take no turns")
    with sessions(app)() as first:
        first.execute(text("UPDATE users SET display_name = display_name WHERE id = -1"))
        assert turns._lock.locked()  # the first session's turn
        with sessions(app)() as second:  # a read on the side (as registry.school does)
            second.scalar(select(func.count()).select_from(User))
        assert turns._lock.locked(), "the first session's write is still open"
        first.rollback()
    assert not turns._lock.locked()


def test_a_person_taken_off_the_dossier_no_longer_gets_its_kept_page(
        app: Flask, browser: Browser) -> None:
    from meldroute.webapp.models import DossierAssignment

    browser.login("ib")
    dossier = browser.new_dossier("A.T.", "3a")
    teacher = make_user(app, "genoemde-leerkracht", "regenboog", "leerkracht")
    people = f"/dossiers/{dossier}/mensen"
    token = browser.token(people)
    assert browser.client.post(people, data={
        "csrf_token": token, "kind": "staff", "user_id": str(teacher.id),
        "task": "contactpersoon"}).status_code == 302
    other = Browser(app, app.test_client())
    sign_in_as(app, other.client, teacher.id, "regenboog")
    url = f"/dossiers/{dossier}/stap/signaleren"
    other.get(url)
    other.get(url)  # kept
    with sessions(app)() as db:
        assignment = db.scalar(select(DossierAssignment.id).where(
            DossierAssignment.dossier_id == dossier))
    token = browser.token(people)
    assert browser.client.post(f"{people}/{assignment}/verwijderen",
                               data={"csrf_token": token}).status_code == 302
    before = denials(app, dossier)
    other.get(url, status=404)
    assert denials(app, dossier) == before + 1


def test_a_message_of_one_browser_is_not_in_the_kept_page_of_another(
        app: Flask, browser: Browser) -> None:
    dossier, first, second = two_browsers_of_one_ib(app, browser, "M.B.", "twee-berichten")
    url = f"/dossiers/{dossier}"
    assert first.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    assert "is opgeslagen" not in second.get(url)  # kept now, without the first's message
    assert "is opgeslagen" not in second.get(url)
    assert "is opgeslagen" in first.get(url)  # the first browser's message, once
    assert "is opgeslagen" not in first.get(url)
