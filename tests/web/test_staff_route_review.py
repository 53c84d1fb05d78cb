"""Findings of the review after issues 14, 15 and 17 were merged: the staff route's
bevoegd gezag is guarded like every dossier-opening role (separation of duties), its
opener has their task, its dossiers count in their own series, and a version number too
big for the database is a 404."""

from __future__ import annotations

from typing import Any

from .conftest import TOKEN, make_user, sign_in_as

STAFF = "meldplicht-medewerker"
PEOPLE = "/scholen/regenboog/instellingen/mensen"


def client_for(app: Any, user: Any) -> Any:
    client = app.test_client()
    sign_in_as(app, client, user.id, "regenboog")
    return client


def post(client: Any, url: str, data: dict[str, Any], page: str | None = None) -> Any:
    token = TOKEN.search(client.get(page or url).get_data(as_text=True)).group(1)
    return client.post(url, data={"csrf_token": token, **data})


def new_staff_dossier(app: Any, opener: Any, subject: Any) -> int:
    client = client_for(app, opener)
    response = post(client, "/dossiers/nieuw", {
        "pupil_initials": "K.L.", "pupil_group": "6a", "pupil_name": "Verzonnen Leerling",
        "route": STAFF, "subject": str(subject.id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def roles_of(app: Any, user: Any) -> list[str]:
    from meldroute.webapp.models import User

    with app.extensions["meldroute.db_sessions"]() as db:
        return sorted(db.get(User, user.id).roles_at("regenboog"))


# --- finding A: the staff route's coordinating role is not guarded on the roles page ------


def test_school_admin_cannot_give_themselves_the_bevoegd_gezag_role(app):
    """A school admin gives themselves 'bevoegd_gezag' (college van bestuur) on the people
    page: no second person is asked, and they read every staff-misconduct dossier."""
    admin = make_user(app, "beheer.a", "regenboog", "schooladmin", "leerkracht")
    opener = make_user(app, "juf", "regenboog", "leerkracht")
    subject = make_user(app, "meester", "regenboog", "leerkracht")
    dossier = new_staff_dossier(app, opener, subject)
    client = client_for(app, admin)
    assert client.get(f"/dossiers/{dossier}").status_code == 404
    post(client, PEOPLE, {f"roles__{admin.id}": ["schooladmin", "leerkracht",
                                                 "bevoegd_gezag"],
                          f"roles__{opener.id}": ["leerkracht"],
                          f"roles__{subject.id}": ["leerkracht"]})
    assert "bevoegd_gezag" not in roles_of(app, admin)
    assert client.get(f"/dossiers/{dossier}").status_code == 404


def test_giving_someone_the_bevoegd_gezag_role_waits_for_a_second_person(app):
    admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    opener = make_user(app, "juf", "regenboog", "leerkracht")
    subject = make_user(app, "meester", "regenboog", "leerkracht")
    friend = make_user(app, "vriend", "regenboog", "leerkracht")
    dossier = new_staff_dossier(app, opener, subject)
    post(client_for(app, admin), PEOPLE, {
        f"roles__{admin.id}": ["schooladmin"], f"roles__{opener.id}": ["leerkracht"],
        f"roles__{subject.id}": ["leerkracht"],
        f"roles__{friend.id}": ["leerkracht", "bevoegd_gezag"]})
    assert "bevoegd_gezag" not in roles_of(app, friend)  # not before a second person
    assert client_for(app, friend).get(f"/dossiers/{dossier}").status_code == 404


def test_platform_admin_reset_of_a_bevoegd_gezag_account_waits_for_the_school(app):
    """Same cause, on /beheer: resetting an account that opens every dossier waits for the
    school (issue 10, finding 3), but 'opens every dossier' is asked of the main route
    only. The platform admin resets the college van bestuur's account, gets the one-time
    link at once, sets a password, and reads every staff-misconduct dossier."""
    from sqlalchemy import select

    from meldroute.webapp.models import ResetToken

    admin = make_user(app, "platform", "zonnebloem", "leerkracht", admin=True)
    board = make_user(app, "cvb", "regenboog", "bevoegd_gezag")
    response = post(_client(app, admin, "zonnebloem"),
                    f"/beheer/gebruikers/{board.id}/herstel", {}, page="/beheer/gebruikers")
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.scalar(select(ResetToken.id)) is None, response.status_code


def _client(app: Any, user: Any, school: str) -> Any:
    client = app.test_client()
    sign_in_as(app, client, user.id, school)
    return client


# --- finding C: a huge version number on the versions page is a 500 ------------------------


def test_versions_page_with_a_huge_version_number_is_not_a_500(app):
    ib = make_user(app, "ib1", "regenboog", "ib")
    client = client_for(app, ib)
    response = post(client, "/dossiers/nieuw", {
        "pupil_initials": "A.B.", "pupil_group": "5b", "pupil_name": "Verzonnen"})
    dossier = int(response.headers["Location"].rstrip("/").split("/")[-1])
    found = client.get(f"/dossiers/{dossier}/stap/signaleren/versies"
                       "?a=99999999999999999999&b=1")
    assert found.status_code in (400, 404)


# --- finding D: the opener of a staff dossier never gets their task on Mijn taken ----------


def test_the_opener_of_a_staff_dossier_sees_their_task_on_mijn_taken(app):
    """Step 1 of the staff route (melden: inform the bevoegd gezag now) is the opener's
    ('access: opener', role 'medewerker'). tasks._tasks_of counts a task as yours only for
    a role you *hold* or when you are named, so nobody has this task on /taken (and no
    reminder mail goes out for it)."""
    from meldroute.webapp.models import Dossier

    opener = make_user(app, "juf", "regenboog", "leerkracht")
    subject = make_user(app, "meester", "regenboog", "leerkracht")
    dossier = new_staff_dossier(app, opener, subject)
    with app.extensions["meldroute.db_sessions"]() as db:
        found = db.get(Dossier, dossier)
        assert found.current_step == "melden", found.responsible
    page = client_for(app, opener).get("/taken").get_data(as_text=True)
    assert f"/dossiers/{dossier}\"" in page or f"/dossiers/{dossier}/" in page


# --- finding E (low): the school's number sequence is shared with the staff route ---------


def test_the_dossier_numbers_an_ib_er_sees_do_not_betray_a_hidden_staff_dossier(app):
    """Staff-route dossiers take numbers from the same per-school sequence (numbering.py),
    so the IB-er, who sees every Meldcode dossier, sees 2026-001 and 2026-003 and knows
    a dossier they may not see (a staff-misconduct case) was opened in between; the
    duplicates module itself says that a dossier exists is need-to-know."""
    ib = make_user(app, "ib1", "regenboog", "ib")
    opener = make_user(app, "juf", "regenboog", "leerkracht")
    subject = make_user(app, "meester", "regenboog", "leerkracht")
    client = client_for(app, ib)
    for _ in range(2):
        response = post(client, "/dossiers/nieuw", {
            "pupil_initials": "A.B.", "pupil_group": "5b", "pupil_name": "Verzonnen"})
        assert response.status_code == 302
        if _ == 0:
            new_staff_dossier(app, opener, subject)
    page = client.get("/dossiers").get_data(as_text=True)
    assert "2026-001" in page and "2026-002" in page
    assert "2026-003" not in page  # the second Meldcode dossier should be 2026-002
    director = make_user(app, "dir", "regenboog", "directeur")
    assert "2026-V001" in client_for(app, director).get("/dossiers?q=V001").get_data(
        as_text=True)  # the staff route counts in its own series


# --- finding F (low): the suspected person can be named on their own staff dossier -------


def test_the_subject_cannot_be_named_on_their_own_staff_dossier(app):
    """The 'Betrokken personen' form offers every active member of staff, the person the
    dossier is about included; naming them is stored (302). It gives them no access
    (can_see checks is_subject first), but the dossier then lists the suspect as e.g.
    contactpersoon, and aan_zet_words may name them as the one aan zet."""
    from sqlalchemy import select

    from meldroute.webapp.models import DossierAssignment

    opener = make_user(app, "juf", "regenboog", "leerkracht")
    subject = make_user(app, "meester", "regenboog", "leerkracht")
    boss = make_user(app, "boss", "regenboog", "directeur")
    dossier = new_staff_dossier(app, opener, subject)
    client = client_for(app, boss)
    page = client.get(f"/dossiers/{dossier}/mensen").get_data(as_text=True)
    response = post(client, f"/dossiers/{dossier}/mensen", {
        "kind": "staff", "user_id": str(subject.id), "task": "contactpersoon"})
    with app.extensions["meldroute.db_sessions"]() as db:
        named = db.scalars(select(DossierAssignment.user_id)).all()
    assert subject.id not in named, (response.status_code,
                                     f'value="{subject.id}"' in page)


def test_nobody_is_named_on_a_closed_dossier(app):
    import datetime as dt

    from meldroute.webapp.models import Dossier, DossierAssignment

    ib = make_user(app, "ib1", "regenboog", "ib")
    colleague = make_user(app, "juf", "regenboog", "leerkracht")
    client = client_for(app, ib)
    response = post(client, "/dossiers/nieuw", {
        "pupil_initials": "A.B.", "pupil_group": "5b", "pupil_name": "Verzonnen"})
    dossier = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with app.extensions["meldroute.db_sessions"]() as db:
        db.get(Dossier, dossier).closed_at = dt.datetime.now(dt.UTC)
        db.commit()
    refused = post(client, f"/dossiers/{dossier}/mensen", {
        "kind": "staff", "user_id": str(colleague.id), "task": "zorgteam"})
    assert refused.status_code == 409
    assert "afgesloten" in refused.get_data(as_text=True)
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.query(DossierAssignment).count() == 0
