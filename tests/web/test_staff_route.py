"""The second route: a suspicion against a staff member (meldplicht, overlegplicht,
aangifteplicht). Choosing it when a dossier is opened, who sees such a dossier (the
bevoegd gezag and the opener; never the person it is about, whatever roles they hold),
linked dossiers, and walking it to the aangifte."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from meldroute.webapp.models import Dossier

from .conftest import TOKEN, make_user, sign_in_as

STAFF = "meldplicht-medewerker"


def client_for(app: Any, user: Any) -> Any:
    client = app.test_client()
    sign_in_as(app, client, user.id, "regenboog")
    return client


def post_new(client: Any, **fields: str) -> Any:
    token = TOKEN.search(client.get("/dossiers/nieuw").get_data(as_text=True)).group(1)
    return client.post("/dossiers/nieuw", data={
        "csrf_token": token, "pupil_initials": "K.L.", "pupil_group": "6a",
        "pupil_name": "Verzonnen Leerling", **fields})


def post_step(client: Any, dossier: int, step: str, data: dict[str, Any]) -> Any:
    html = client.get(f"/dossiers/{dossier}/stap/{step}").get_data(as_text=True)
    base = html.split('name="base_version" value="')[1].split('"')[0]
    token = TOKEN.search(html).group(1)
    return client.post(f"/dossiers/{dossier}/stap/{step}", data={
        "csrf_token": token, "base_version": base, "action": "save", **data})


def stored(app: Any, dossier_id: int) -> Dossier:
    with app.extensions["meldroute.db_sessions"]() as db:
        found = db.get(Dossier, dossier_id)
        db.expunge_all()
        assert found is not None
        return found


def new_id(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def test_choosing_the_route_when_a_dossier_is_opened(app):
    teacher = make_user(app, "juf", "regenboog", "leerkracht")
    subject = make_user(app, "meester", "regenboog", "leerkracht")
    client = client_for(app, teacher)
    page = client.get("/dossiers/nieuw").get_data(as_text=True)
    assert "Waar gaat je zorg over?" in page, page[-3000:]
    assert "Over de situatie thuis" in page and "Over het gedrag van een medewerker" in page
    assert ">Meester</option>" in page and ">Juf</option>" not in page  # not oneself

    # the staff route without saying who it is about: the question is asked again
    with app.extensions["meldroute.db_sessions"]() as db:
        before = len(db.scalars(select(Dossier)).all())
    refused = post_new(client, route=STAFF)
    assert refused.status_code == 400
    assert "Kies de medewerker over wie het gaat" in refused.get_data(as_text=True)
    with app.extensions["meldroute.db_sessions"]() as db:
        assert len(db.scalars(select(Dossier)).all()) == before

    staff = new_id(post_new(client, route=STAFF, subject=str(subject.id)))
    found = stored(app, staff)
    assert (found.protocol_id, found.subject_user_id) == (STAFF, subject.id)
    page = client.get(f"/dossiers/{staff}").get_data(as_text=True)
    assert "Bevoegd gezag inlichten" in page and "Meldplicht" in page

    # without a choice (an older form): the Meldcode; a volunteer without an account
    home = stored(app, new_id(post_new(client)))
    assert (home.protocol_id, home.subject_user_id) == ("meldcode-onderwijs", None)
    nobody = stored(app, new_id(post_new(client, route=STAFF, subject="geen")))
    assert (nobody.protocol_id, nobody.subject_user_id) == (STAFF, None)
    assert post_new(client, route="bestaat-niet").status_code == 400
