"""The second route: a suspicion against a staff member (meldplicht, overlegplicht,
aangifteplicht). Choosing it when a dossier is opened, who sees such a dossier (the
bevoegd gezag and the opener; never the person it is about, whatever roles they hold),
linked dossiers, and walking it to the aangifte."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import select

from meldroute.webapp.models import Dossier

from .conftest import BASE, TOKEN, make_user, sign_in_as

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
    found = BASE.search(html)  # none where the step is read-only for this user
    base = found.group(1) if found else "0"
    token = TOKEN.search(client.get("/account").get_data(as_text=True)).group(1)
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
    assert post_new(client, route=STAFF, subject="abc").status_code == 400
    # every problem at once: the missing pupil fields and the missing staff member
    both = client.post("/dossiers/nieuw", data={"csrf_token": TOKEN.search(client.get(
        "/dossiers/nieuw").get_data(as_text=True)).group(1), "route": STAFF})
    assert both.status_code == 400 and "Kies de medewerker" in both.get_data(as_text=True)


def staff_dossier(app: Any, opener: Any, subject: Any, **fields: str) -> int:
    return new_id(post_new(client_for(app, opener), route=STAFF,
                           subject=str(subject.id) if subject else "geen", **fields))


def test_only_the_bevoegd_gezag_and_the_opener_see_a_staff_dossier(app):
    opener = make_user(app, "juf", "regenboog", "leerkracht")
    # the suspected person is also the school's IB-er and even its director: never access
    subject = make_user(app, "meester", "regenboog", "leerkracht", "ib", "directeur")
    others = {name: make_user(app, name, "regenboog", *roles) for name, roles in {
        "directeur": ("directeur",), "bestuur": ("bevoegd_gezag",), "ib": ("ib",),
        "zorgteam": ("zorgteam",), "collega": ("leerkracht",),
        "aandachtsfunctionaris": ("aandachtsfunctionaris",)}.items()}
    dossier = staff_dossier(app, opener, subject)
    home = new_id(post_new(client_for(app, opener)))  # a Meldcode dossier beside it
    want = {"juf": 200, "meester": 404, "directeur": 200, "bestuur": 200, "ib": 404,
            "zorgteam": 404, "collega": 404, "aandachtsfunctionaris": 404}
    got = {}
    for user in (opener, subject, *others.values()):
        client = client_for(app, user)
        got[user.username] = client.get(f"/dossiers/{dossier}").status_code
        listed = f"/dossiers/{dossier}\"" in client.get("/dossiers").get_data(as_text=True)
        assert listed == (want[user.username] == 200), user.username
        # the subject cannot read a step or save one either
        if user is subject:
            assert client.get(f"/dossiers/{dossier}/stap/melden").status_code == 404
            assert client.get(f"/dossiers/{dossier}/logboek").status_code == 404
    assert got == want
    # the IB-er still sees the Meldcode dossiers of the school
    assert client_for(app, others["ib"]).get(f"/dossiers/{home}").status_code == 200


def assign(app: Any, user: Any, dossier: int, person: Any) -> int:
    client = client_for(app, user)
    token = TOKEN.search(client.get("/account").get_data(as_text=True)).group(1)
    return client.post(f"/dossiers/{dossier}/mensen", data={
        "csrf_token": token, "kind": "staff", "user_id": str(person.id),
        "task": "contactpersoon"}).status_code


def test_on_the_staff_route_only_the_bevoegd_gezag_names_people_never_the_subject(app):
    opener = make_user(app, "juf", "regenboog", "leerkracht")
    subject = make_user(app, "meester", "regenboog", "leerkracht", "ib")
    director = make_user(app, "directeur", "regenboog", "directeur")
    ib = make_user(app, "ib", "regenboog", "ib")
    dossier = staff_dossier(app, opener, subject)
    # the opener sees the dossier but names nobody; the IB-er and the subject do not see it
    assert assign(app, opener, dossier, ib) == 403
    assert assign(app, ib, dossier, ib) == 404
    assert assign(app, subject, dossier, ib) == 404
    # the bevoegd gezag cannot name the person the dossier is about (not among the choices)
    assert assign(app, director, dossier, subject) == 400
    assert client_for(app, subject).get(f"/dossiers/{dossier}").status_code == 404
    # the bevoegd gezag names the IB-er: from then on the IB-er has need-to-know
    assert assign(app, director, dossier, ib) == 302
    assert client_for(app, ib).get(f"/dossiers/{dossier}").status_code == 200
    assert f"/dossiers/{dossier}\"" in client_for(app, ib).get("/dossiers").get_data(
        as_text=True)


def test_board_admins_see_counts_per_route_only(app):
    from meldroute.webapp import school_configs
    from meldroute.webapp.models import Membership

    opener = make_user(app, "juf", "regenboog", "leerkracht")
    dossier = staff_dossier(app, opener, None)
    admin = make_user(app, "bestuur", "regenboog")
    with app.extensions["meldroute.db_sessions"]() as db:
        school_configs.save(db, "board", "stichting", {"id": "stichting", "name": "Stichting"},
                            "t", "t")
        data = school_configs.data_of(school_configs.latest(db, "school", "regenboog"))
        school_configs.save(db, "school", "regenboog", {**data, "board": "stichting"}, "t", "t")
        db.add(Membership(user_id=admin.id, board_id="stichting", role="bestuursadmin"))
        db.commit()
    client = app.test_client()
    sign_in_as(app, client, admin.id, None)
    page = client.get("/besturen/stichting").get_data(as_text=True)
    assert "Meldplicht bij een vermoeden" in page and "1. Bevoegd gezag inlichten: 1" in page
    assert "K.L." not in page and "Verzonnen" not in page
    assert client.get(f"/dossiers/{dossier}").status_code in (302, 404)


def test_the_bevoegd_gezag_walks_the_staff_route_to_the_aangifte(app, clock):
    opener = make_user(app, "juf", "regenboog", "leerkracht")
    director = make_user(app, "directeur", "regenboog", "directeur")
    dossier = staff_dossier(app, opener, None)
    teacher, board = client_for(app, opener), client_for(app, director)

    # not yet informed: the question stays open, the action is to inform now
    assert post_step(teacher, dossier, "melden", {
        "wat_bekend": "Een leerling vertelde over berichten van een medewerker.",
        "bekend_sinds": "2026-11-26", "bevoegd_gezag_ingelicht": "nee"}).status_code == 302
    page = teacher.get(f"/dossiers/{dossier}").get_data(as_text=True)
    assert "Licht nu het bevoegd gezag in" in page
    assert post_step(teacher, dossier, "melden", {
        "wat_bekend": "Een leerling vertelde over berichten van een medewerker.",
        "bekend_sinds": "2026-11-26", "bevoegd_gezag_ingelicht": "ja"}).status_code == 302
    # the teacher is not the bevoegd gezag: step 2 is read-only for them
    assert post_step(teacher, dossier, "overleggen", {
        "vertrouwensinspecteur_geraadpleegd": "nee",
        "redelijk_vermoeden": "ja"}).status_code == 403

    assert post_step(board, dossier, "overleggen", {
        "vertrouwensinspecteur_geraadpleegd": "nee"}).status_code == 302
    page = board.get(f"/dossiers/{dossier}").get_data(as_text=True)
    assert "Bel nu de vertrouwensinspecteur" in page and "0900-111 3111" in page
    assert post_step(board, dossier, "overleggen", {
        "vertrouwensinspecteur_geraadpleegd": "ja", "overleg_datum": "2026-11-27",
        "redelijk_vermoeden": "ja"}).status_code == 302
    page = board.get(f"/dossiers/{dossier}").get_data(as_text=True)
    assert "Aangifte doen bij de politie." in page
    # named as the route names it: there is no weighing (afweging) on this route
    assert "Besluit over de aangifte: <strong>Aangifte doen" in page
    assert "Uitkomst van de afweging" not in page
    assert "Vertel de medewerker en de ouders van de leerling eerst" in page
    assert "0900-8844" in page and "vrijdag 27 november 2026" in page
    assert stored(app, dossier).outcome == "aangifte_doen"


def test_a_staff_dossier_linked_to_a_meldcode_dossier(app):
    opener = make_user(app, "juf", "regenboog", "ib")
    director = make_user(app, "directeur", "regenboog", "directeur")
    ib = make_user(app, "ib2", "regenboog", "ib")
    teacher = client_for(app, opener)
    home = new_id(post_new(teacher))
    page = teacher.get(f"/dossiers/{home}").get_data(as_text=True)
    assert f"/dossiers/nieuw?koppel={home}" in page
    assert f'selected value="{home}"' in teacher.get(
        f"/dossiers/nieuw?koppel={home}").get_data(as_text=True)
    staff = staff_dossier(app, opener, None, linked=str(home))
    assert stored(app, staff).linked_dossier_id == home
    for user, sees in ((director, True), (ib, False)):
        page = client_for(app, user).get(f"/dossiers/{home}").get_data(as_text=True)
        assert (f'href="/dossiers/{staff}"' in page) == sees, user.username
    page = client_for(app, director).get(f"/dossiers/{staff}").get_data(as_text=True)
    assert f'href="/dossiers/{home}"' in page
    # a dossier one may not see cannot be linked
    other = new_id(post_new(client_for(app, make_user(app, "x", "regenboog", "leerkracht"))))
    assert post_new(client_for(app, make_user(app, "y", "regenboog", "leerkracht")),
                    linked=str(other)).status_code == 400


def test_special_forms_of_violence_add_the_expert_and_the_police(browser):
    from .conftest import SIGNALEREN

    browser.login("leerkracht")
    dossier = browser.new_dossier()
    page = browser.get(f"/dossiers/{dossier}/stap/signaleren")
    assert "Signalen van (dreigende) vrouwelijke genitale verminking" in page
    assert browser.post_step(dossier, "signaleren", {
        **SIGNALEREN, "vorm_vgv": "y", "vorm_radicalisering": "y"}).status_code == 302
    page = browser.get(f"/dossiers/{dossier}")
    assert "Vrouwelijke genitale verminking: raadpleeg altijd Veilig Thuis" in page
    assert "schakel ook de politie in" in page and "0900-8844" in page
    assert "contactpersoon radicalisering van de gemeente" in page and "0412-000106" in page
    assert "Eergerelateerd geweld" not in page
    # acute danger: the rules say not to wait
    token = browser.token(f"/dossiers/{dossier}")
    assert browser.client.post(f"/dossiers/{dossier}/acuut",
                               data={"csrf_token": token}).status_code == 302
    page = browser.get(f"/dossiers/{dossier}")
    assert "Acuut gevaar van besnijdenis" in page and "bel direct 112" in page


def test_the_roles_page_keeps_each_remap_on_its_route(app):
    admin = client_for(app, make_user(app, "beheer", "regenboog", "schooladmin"))
    url = "/scholen/regenboog/instellingen/rollen"
    page = admin.get(url).get_data(as_text=True)
    assert ">Route</label>" in page
    assert 'selected value="meldplicht-medewerker"' in page
    overview = admin.get("/scholen/regenboog/instellingen").get_data(as_text=True)
    assert "vertrouwensinspecteur" in overview and "medewerker die het vermoeden heeft" in overview
    token = TOKEN.search(page).group(1)
    response = admin.post(url, data={
        "csrf_token": token, "reason": "Zelfde verdeling, opnieuw opgeslagen.",
        "name__aandachtsfunctionaris": "aandachtsfunctionaris",
        "remap_0_protocol": "meldcode-onderwijs", "remap_0_role": "ib",
        "remap_0_to": "aandachtsfunctionaris", "remap_0_steps": ["afwegen"],
        "remap_1_protocol": "meldplicht-medewerker", "remap_1_role": "bevoegd_gezag",
        "remap_1_to": "directeur"})
    text = re.sub(r"<[^>]+>|\s+", " ", response.get_data(as_text=True))
    assert response.status_code == 302, text[:1500]
    school = app.extensions["meldroute.registry"].school("regenboog")
    assert [(r.protocol, r.role, r.to) for r in school.remap] == [
        ("meldcode-onderwijs", "ib", "aandachtsfunctionaris"),
        (STAFF, "bevoegd_gezag", "directeur")]
    # giving the IB-er the bevoegd gezag's part in every step would open every staff
    # dossier to them: not on this page
    response = admin.post(url, data={
        "csrf_token": token, "reason": "Proef.", "remap_0_protocol": STAFF,
        "name__aandachtsfunctionaris": "aandachtsfunctionaris",
        "remap_0_role": "bevoegd_gezag", "remap_0_to": "ib"})
    assert response.status_code == 400 and "opent alle dossiers" in response.get_data(
        as_text=True)


def test_a_remap_to_a_role_nobody_holds_names_the_steps_of_its_own_route(app):
    admin = client_for(app, make_user(app, "beheer", "regenboog", "schooladmin"))
    url = "/scholen/regenboog/instellingen/rollen"
    token = TOKEN.search(admin.get(url).get_data(as_text=True)).group(1)
    response = admin.post(url, data={
        "csrf_token": token, "reason": "Proef.", "new_role": "concierge",
        "new_role_name": "concierge", "remap_0_protocol": STAFF,
        "remap_0_role": "medewerker", "remap_0_to": "concierge", "remap_0_steps": ["nazorg"]})
    text = re.sub(r"<[^>]+>|\s+", " ", response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Niemand op school heeft de rol 'concierge': stap 4 (Nazorg)" in html.unescape(text)


def test_a_staff_dossier_offers_no_veilig_thuis_summary(app):
    """The staff route reports to the vertrouwensinspecteur (and the police), not to
    Veilig Thuis: its dossier page links no summary "for the melding bij Veilig Thuis",
    and the address says so instead of arranging it in Veilig Thuis's form (nothing is
    exported, nothing audited as an export). A Meldcode dossier keeps its summary."""
    from meldroute.webapp.models import AuditEvent

    opener = make_user(app, "juf", "regenboog", "leerkracht")
    subject = make_user(app, "meester", "regenboog", "leerkracht")
    client = client_for(app, opener)
    staff = staff_dossier(app, opener, subject)
    page = client.get(f"/dossiers/{staff}").get_data(as_text=True)
    assert "Dossier als pdf" in page
    assert "Veilig Thuis</a>" not in page and f"/dossiers/{staff}/melding" not in page
    refused = client.get(f"/dossiers/{staff}/melding")
    assert refused.status_code == 404
    assert "daarin hoort geen melding bij Veilig Thuis" in html.unescape(
        refused.get_data(as_text=True))
    with app.extensions["meldroute.db_sessions"]() as db:
        assert not db.scalars(select(AuditEvent).where(
            AuditEvent.dossier_id == staff, AuditEvent.action == "dossier.export")).all()

    home = new_id(post_new(client))
    page = client.get(f"/dossiers/{home}").get_data(as_text=True)
    assert f"/dossiers/{home}/melding" in page
    summary = client.get(f"/dossiers/{home}/melding")
    assert summary.status_code == 200 and "Melding Veilig Thuis" in summary.get_data(as_text=True)
