"""Acute danger: the guidance (112, the school's Veilig Thuis, 0800-2000) at the top of
every dossier page, the new-dossier page and the contacts page; flagging a dossier as
acute, audited and shown first to the coordinating roles."""

from __future__ import annotations

import re

from sqlalchemy import select

from meldroute.webapp.models import AuditEvent, Dossier

from .conftest import TOKEN, Browser, walk_to_afwegen

ACUTE = re.compile(r'<section class="acute" aria-labelledby="acuut-kop">.*?</section>', re.S)


def events(app, action):
    with app.extensions["meldroute.db_sessions"]() as db:
        return db.scalars(select(AuditEvent).where(AuditEvent.action == action)
                          .order_by(AuditEvent.seq)).all()


def stored(app, dossier_id):
    with app.extensions["meldroute.db_sessions"]() as db:
        return db.get(Dossier, dossier_id)


def assert_acute_guidance(html, url):
    """The guidance is on the page, before the page's own content, with three numbers."""
    found = ACUTE.search(html)
    assert found, f"no acute-danger guidance on {url}"
    box = found.group(0)
    assert '<h2 id="acuut-kop">' in box, url
    assert 'href="tel:112"' in box and ">112<" in box, url
    assert 'href="tel:+318002000"' in box, url  # the national Veilig Thuis number
    assert 'href="tel:+31412673700"' in box, url  # the demo school's regional number
    assert "directie" in box, url
    main = html[html.index("<main"):]
    assert main.index('class="acute"') < main.index("<form") if "<form" in main else True


def test_acute_guidance_on_the_new_dossier_and_contacts_pages(browser):
    browser.login("leerkracht")
    for url in ("/dossiers/nieuw", "/contacten"):
        assert_acute_guidance(browser.get(url), url)


def test_acute_guidance_on_every_dossier_page(browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    urls = [f"/dossiers/{dossier}"]
    urls += [f"/dossiers/{dossier}/stap/{step}"
             for step in ("signaleren", "consulteren", "gesprek", "afwegen")]
    urls += [f"/dossiers/{dossier}/stap/signaleren/versie/1", f"/dossiers/{dossier}/logboek"]
    for url in urls:
        assert_acute_guidance(browser.get(url), url)


def test_anyone_who_sees_a_dossier_can_flag_it_and_it_is_audited(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier(initials="A.C.")
    html = browser.get(f"/dossiers/{dossier}")
    assert "Markeer dit dossier als acuut gevaar" in html
    response = browser.client.post(f"/dossiers/{dossier}/acuut",
                                   data={"csrf_token": TOKEN.search(html).group(1)})
    assert response.status_code == 302
    html = browser.get(f"/dossiers/{dossier}")
    assert "Dit dossier is gemarkeerd als acuut gevaar" in html
    assert "Markeer dit dossier als acuut gevaar" not in html
    assert stored(app, dossier).acute_at is not None
    flagged = events(app, "dossier.acute")
    assert [(e.dossier_id, e.result, e.detail) for e in flagged] == [(dossier, "ok", "")]
    # a second flag changes nothing and records nothing new
    browser.client.post(f"/dossiers/{dossier}/acuut",
                        data={"csrf_token": TOKEN.search(html).group(1)})
    assert len(events(app, "dossier.acute")) == 1


def test_flagging_needs_the_csrf_token(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    assert browser.client.post(f"/dossiers/{dossier}/acuut").status_code == 400
    assert stored(app, dossier).acute_at is None
    assert events(app, "dossier.acute") == []


def test_a_new_dossier_can_be_opened_as_acute(app, browser):
    browser.login("leerkracht")
    token = browser.token()
    response = browser.client.post("/dossiers/nieuw", data={
        "csrf_token": token, "pupil_initials": "N.A.", "pupil_group": "3",
        "pupil_name": "Fictief Kind", "acute": "y"})
    assert response.status_code == 302
    dossier = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert stored(app, dossier).acute_at is not None
    assert [e.dossier_id for e in events(app, "dossier.acute")] == [dossier]
    assert "Dit dossier is gemarkeerd als acuut gevaar" in browser.get(f"/dossiers/{dossier}")


def test_acute_dossiers_come_first_for_coordinators_only(app, browser):
    browser.login("leerkracht")
    flagged = browser.new_dossier(initials="F.L.")
    html = browser.get(f"/dossiers/{flagged}")
    browser.client.post(f"/dossiers/{flagged}/acuut",
                        data={"csrf_token": TOKEN.search(html).group(1)})
    browser.new_dossier(initials="L.A.")  # newer, not acute

    overview = browser.get("/dossiers")
    assert "Acuut gevaar gemeld" not in overview and "acute-mark" not in overview

    coordinator = Browser(app, app.test_client())
    coordinator.login("ib")
    overview = coordinator.get("/dossiers")
    assert '<h2 id="acuut-lijst-kop">Acuut gevaar gemeld (1)</h2>' in overview
    rows = re.findall(r"<tr class=.*?</tr>", overview, re.S)
    assert "F.L." in rows[0] and "Acuut gevaar" in rows[0]
    assert "L.A." in rows[1] and "Acuut gevaar" not in rows[1]
