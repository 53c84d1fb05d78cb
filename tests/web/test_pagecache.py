"""Kept dossier pages (issue 13): served again only while nothing they show changed.

After every kind of write a page can show (a new version, a named person, a note, a
linked dossier, a person's name, the school's contacts, a statement run through a
session, a new day), the page served equals a page rendered afresh; a kept page is never
served to someone else, and each serve is audited as a read.
"""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import func, select, update

from meldroute.webapp.cli import main
from meldroute.webapp.models import AuditEvent, User
from meldroute.webapp.pagecache import PAGES

from .conftest import SIGNALEREN, TOKEN, Browser, walk_to_afwegen

TOKENS = re.compile(r'name="csrf_token" value="[^"]+"')


def kept(app: Flask) -> object:
    return app.extensions[PAGES]


def served(browser: Browser, url: str) -> str:
    """The page as served now (kept or not), and as rendered afresh: they must agree."""
    browser.get(url)  # (shows a pending message, if any: such a page is not kept)
    page = browser.get(url)
    pages = kept(browser.app)
    hits = pages.hits  # type: ignore[attr-defined]
    again = browser.get(url)
    assert pages.hits == hits + 1, "the second view is served as kept"  # type: ignore[attr-defined]
    pages.clear()  # type: ignore[attr-defined]
    fresh = browser.get(url)
    assert TOKENS.sub("", again) == TOKENS.sub("", fresh) == TOKENS.sub("", page)
    return fresh


def reads(app: Flask, dossier: int) -> int:
    with app.extensions["meldroute.db_sessions"]() as db:
        return int(db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.dossier_id == dossier, AuditEvent.action == "dossier.read")) or 0)


def post(browser: Browser, url: str, data: dict[str, str], page: str) -> int:
    token = TOKEN.search(browser.get(page)).group(1)  # type: ignore[union-attr]
    return int(browser.client.post(url, data={"csrf_token": token, **data}).status_code)


def test_a_kept_page_follows_every_write_it_shows(app: Flask, browser: Browser, clock,
                                                  cli_env, capsys, tmp_path) -> None:
    browser.login("ib")
    dossier = browser.new_dossier("K.P.", "7a")
    walk_to_afwegen(browser, dossier)
    url = f"/dossiers/{dossier}/stap/signaleren"
    browser.get(url)  # the message of the last save
    first = served(browser, url)
    # a new version of a step
    assert browser.post_step(dossier, "signaleren", {
        **SIGNALEREN, "interpretatie": "Een andere zorg."}).status_code == 302
    browser.get(url)  # (its message)
    assert "Een andere zorg." in served(browser, url)
    # a named person (the dossier's own rows)
    with app.extensions["meldroute.db_sessions"]() as db:
        focal = db.scalar(select(User.id).where(
            User.username == "regenboog-aandachtsfunctionaris"))
    assert "(Demo aandachtsfunctionaris)" not in first
    assert post(browser, f"/dossiers/{dossier}/mensen", {
        "kind": "staff", "user_id": str(focal), "task": "aandachtsfunctionaris"},
        f"/dossiers/{dossier}/mensen") == 302
    browser.get(url)
    assert "(Demo aandachtsfunctionaris)" in served(browser, url)
    # a person's name, changed through the ORM (the site's revision)
    with app.extensions["meldroute.db_sessions"]() as db:
        db.get(User, focal).display_name = "Hernoemd Lid"  # type: ignore[union-attr]
        db.commit()
    assert "Hernoemd Lid" in served(browser, url)
    # ... and through a statement run in a session
    with app.extensions["meldroute.db_sessions"]() as db:
        db.execute(update(User).where(User.id == focal).values(display_name="Weer Anders"))
        db.commit()
    assert "Weer Anders" in served(browser, url)
    # the school's contacts, changed by another process (the command line)
    assert main(["school", "export", "regenboog"]) == 0
    path = tmp_path / "regenboog.yaml"
    path.write_text(capsys.readouterr().out.replace("Veilig Thuis (regio)",
                                                    "Veilig Thuis Testregio"), "utf-8")
    assert main(["school", "import", str(path), "--reason", "nieuwe naam"]) == 0
    afwegen = f"/dossiers/{dossier}/stap/afwegen"
    assert "Veilig Thuis Testregio" in served(browser, afwegen)
    # a dossier linked to this one, opened by someone else
    token = browser.token()
    assert browser.client.post("/dossiers/nieuw", data={
        "csrf_token": token, "pupil_initials": "K.P.", "pupil_group": "7a",
        "pupil_name": "Fictieve Leerling", "linked": str(dossier)}).status_code == 302
    served(browser, url)
    # a new day (deadlines count in days)
    clock.today = clock.today.replace(day=clock.today.day + 1)
    served(browser, afwegen)
    assert first != browser.get(url)


def test_a_kept_page_is_served_to_no_one_else_and_every_serve_is_audited(
        app: Flask, browser: Browser) -> None:
    browser.login("ib")
    dossier = browser.new_dossier("N.A.", "3c")
    url = f"/dossiers/{dossier}"
    browser.get(url)  # (the message of the new dossier)
    before = reads(app, dossier)
    for _ in range(3):
        browser.get(url)
    assert kept(app).hits >= 2  # type: ignore[attr-defined]
    assert reads(app, dossier) == before + 3
    # the zorgteam may not see it: no kept page reaches them, the refusal is audited
    other = Browser(app, app.test_client())
    other.login("zorgteam")
    other.get(url, status=404)
    other.get(f"{url}/stap/signaleren", status=404)
    with app.extensions["meldroute.db_sessions"]() as db:
        denied = db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.dossier_id == dossier, AuditEvent.result == "denied"))
    assert denied == 2
    # a page with a message to show is neither kept nor served from what is kept
    assert browser.post_step(dossier, "signaleren", SIGNALEREN).status_code == 302
    assert "opgeslagen" in browser.get(url)
    assert "opgeslagen" not in browser.get(url)


def test_query_and_host_variants_of_a_page_are_one_kept_page(app: Flask, browser: Browser
                                                             ) -> None:
    """``?1``, ``?2``, ..., ``Host: n1.example``, ... do not make new kept pages: one
    signed-in person cannot push everyone else's kept pages out by asking for one page
    under many addresses."""
    browser.login("ib")
    dossier = browser.new_dossier()
    url = f"/dossiers/{dossier}/stap/signaleren"
    page = served(browser, url)
    browser.get(url)  # kept again
    pages = kept(app)
    size = len(pages)  # type: ignore[arg-type]
    hits = pages.hits  # type: ignore[attr-defined]
    cookie = browser.client.get_cookie("meldroute")
    assert cookie is not None
    script = app.test_client(use_cookies=False)
    for n in range(20):
        assert TOKENS.sub("", browser.get(f"{url}?{n}=x&pagina={n}")) == TOKENS.sub("", page)
        # (a browser sends the cookie to its own host only; a script sends it anywhere)
        response = script.get(url, headers={"Host": f"n{n}.example",
                                            "Cookie": f"meldroute={cookie.value}"})
        assert response.status_code == 200
        assert TOKENS.sub("", response.get_data(as_text=True)) == TOKENS.sub("", page)
    assert len(pages) == size  # type: ignore[arg-type]
    assert pages.hits == hits + 40  # type: ignore[attr-defined]
    assert reads(app, int(dossier)) >= 40  # every serve is still audited


def test_with_kept_pages_turned_off_every_view_is_rendered_and_audited(
        app: Flask, browser: Browser) -> None:
    """``MELDROUTE_KEPT_PAGES=0``: nothing is kept; the pages are the same."""
    browser.login("ib")
    dossier = browser.new_dossier()
    url = f"/dossiers/{dossier}/stap/signaleren"
    browser.get(url)
    page = browser.get(url)
    app.config["KEPT_PAGES"] = 0
    app.extensions.pop(PAGES)
    before = reads(app, int(dossier))
    for _ in range(3):
        assert TOKENS.sub("", browser.get(url)) == TOKENS.sub("", page)
    assert PAGES not in app.extensions or not len(kept(app))  # type: ignore[arg-type]
    assert reads(app, int(dossier)) == before + 3
