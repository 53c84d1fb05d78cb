"""Regression tests for the security review (issue 10): each reproduces an attack and
asserts that it fails. Findings 1-3: access a school admin cannot widen, a per-step role
check, a platform admin separated from the schools' roles."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from meldroute.webapp.models import AuditEvent, Dossier, Membership, ResetToken, User

from .conftest import (
    TOKEN,
    Browser,
    make_user,
    records,
    sign_in_as,
    walk_to_afwegen,
)
from .test_permissions import _dossier_of

PEOPLE = "/scholen/regenboog/instellingen/mensen"
GRANTS = "/scholen/regenboog/instellingen/toekenningen"
MELDEN = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "ja"}
MELDING = {"melding_datum": "2026-11-27", "melding_besproken_met_ouder": "y"}
LINK = re.compile(r"http://localhost(/wachtwoord-herstellen/[A-Za-z0-9_-]+)")


def client_of(app, user, school="regenboog"):
    client = app.test_client()
    sign_in_as(app, client, user.id, school)
    return client


def post(client, url, data, page=None):
    token = TOKEN.search(client.get(page or url).get_data(as_text=True)).group(1)
    return client.post(url, data={"csrf_token": token, **data})


def roles_of(app, user, school="regenboog"):
    with app.extensions["meldroute.db_sessions"]() as db:
        return sorted(db.get(User, user.id).roles_at(school))


def audit(app, action):
    with app.extensions["meldroute.db_sessions"]() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.seq)))


def pending_grant(app):
    from meldroute.webapp.models import RoleGrant

    with app.extensions["meldroute.db_sessions"]() as db:
        return db.scalar(select(RoleGrant.id).where(RoleGrant.status == "pending")
                         .order_by(RoleGrant.id.desc()))


def decide(client, grant, decision="bevestigen"):
    return post(client, f"{GRANTS}/{grant}", {"besluit": decision}, page="/account")


# --- finding 1: a school admin cannot widen access --------------------------------------------


@pytest.mark.parametrize("role", ["directeur", "ib"])
def test_finding1_a_school_admin_cannot_give_themselves_a_dossier_opening_role(app, role):
    admin = make_user(app, "beheer.a", "regenboog", "schooladmin", "leerkracht")
    colleague = make_user(app, "juf.b", "regenboog", "leerkracht")
    dossier = _dossier_of(app, colleague, "regenboog")
    client = client_of(app, admin)
    assert client.get(f"/dossiers/{dossier}").status_code == 404
    response = post(client, PEOPLE, {f"roles__{admin.id}": ["schooladmin", "leerkracht", role],
                                     f"roles__{colleague.id}": ["leerkracht"]})
    assert response.status_code == 400
    assert ("Je kunt jezelf geen rol geven waarmee je alle dossiers van de school opent"
            in response.get_data(as_text=True))
    assert roles_of(app, admin) == ["leerkracht", "schooladmin"]
    assert pending_grant(app) is None
    assert client.get(f"/dossiers/{dossier}").status_code == 404


def test_finding1_a_coordinating_grant_waits_for_a_second_person(app):
    admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    other_admin = make_user(app, "beheer.b", "regenboog", "schooladmin")
    teacher = make_user(app, "meester.c", "regenboog", "leerkracht")
    colleague = make_user(app, "juf.b", "regenboog", "leerkracht")
    dossier = _dossier_of(app, colleague, "regenboog")
    client = client_of(app, admin)
    response = post(client, PEOPLE, {f"roles__{admin.id}": ["schooladmin"],
                                     f"roles__{other_admin.id}": ["schooladmin"],
                                     f"roles__{teacher.id}": ["leerkracht", "directeur"],
                                     f"roles__{colleague.id}": ["leerkracht"]})
    assert response.status_code == 302
    assert roles_of(app, teacher) == ["leerkracht"]  # not yet
    # the same page sent again (a double click, a reload) asks once, not twice
    assert post(client, PEOPLE, {f"roles__{admin.id}": ["schooladmin"],
                                 f"roles__{other_admin.id}": ["schooladmin"],
                                 f"roles__{teacher.id}": ["leerkracht", "directeur"],
                                 f"roles__{colleague.id}": ["leerkracht"]}).status_code == 302
    assert len(client_of(app, other_admin).get(GRANTS).get_data(as_text=True)
               .split("Meester.C")) == 2
    assert client_of(app, teacher).get(f"/dossiers/{dossier}").status_code == 404
    grant = pending_grant(app)
    # neither the one who granted it nor the one who gets it confirms
    assert decide(client, grant).status_code == 403
    assert decide(client_of(app, teacher), grant).status_code == 404
    assert roles_of(app, teacher) == ["leerkracht"]
    page = client_of(app, other_admin).get(GRANTS).get_data(as_text=True)
    assert "Meester.C" in page and "Bevestigen" in page
    assert decide(client_of(app, other_admin), grant).status_code == 302
    assert roles_of(app, teacher) == ["directeur", "leerkracht"]
    assert client_of(app, teacher).get(f"/dossiers/{dossier}").status_code == 200
    details = [e.detail for e in audit(app, "school.people")]
    assert f"grant {grant} user {teacher.id}: leerkracht -> directeur,leerkracht" in details
    pending = audit(app, "school.grant")[0]
    assert (pending.result, pending.actor) == ("pending", "beheer.a")
    assert pending.detail == (f"grant {grant} user {teacher.id}: leerkracht -> "
                              "directeur,leerkracht")
    assert "Kind" not in " ".join(details)  # ids, no content


def test_finding1_the_director_may_refuse_and_every_change_is_audited(app):
    admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    director = make_user(app, "dir.d", "regenboog", "directeur")
    teacher = make_user(app, "meester.c", "regenboog", "leerkracht")
    client = client_of(app, admin)
    form = {f"roles__{admin.id}": ["schooladmin"], f"roles__{director.id}": ["directeur"]}
    assert post(client, PEOPLE, {**form, f"roles__{teacher.id}": ["zorgteam", "ib"]}
                ).status_code == 302
    assert roles_of(app, teacher) == ["zorgteam"]  # the zorgteam role at once, ib waits
    assert audit(app, "school.people")[-1].detail == f"user {teacher.id}: leerkracht -> zorgteam"
    assert decide(client_of(app, director), pending_grant(app), "weigeren").status_code == 302
    assert roles_of(app, teacher) == ["zorgteam"]
    assert audit(app, "school.grant")[-1].result == "refused"


def test_who_confirms_a_grant_is_the_routes_word_not_a_role_written_in_the_code(app):
    """The Meldcode marks its directeur ``confirms_grants: true``. A route that marks
    another role instead moves the confirming to that role's holders (and the remaps
    that let a role play it), and the pages name them by the school's names."""
    import dataclasses
    from types import MappingProxyType

    admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    director = make_user(app, "dir.d", "regenboog", "directeur")
    coordinator = make_user(app, "ib.e", "regenboog", "ib")
    teacher = make_user(app, "meester.c", "regenboog", "leerkracht")
    assert post(client_of(app, admin), PEOPLE, {
        f"roles__{admin.id}": ["schooladmin"], f"roles__{director.id}": ["directeur"],
        f"roles__{coordinator.id}": ["ib"],
        f"roles__{teacher.id}": ["leerkracht", "directeur"]}).status_code == 302
    grant = pending_grant(app)  # a role that opens every dossier waits for a second person
    assert grant is not None and roles_of(app, teacher) == ["leerkracht"]
    page = client_of(app, admin).get(GRANTS).get_data(as_text=True)
    assert "een andere beheerder of iemand met de rol &#39;directeur&#39;" in page
    assert client_of(app, coordinator).get(GRANTS).status_code == 404

    registry = app.extensions["meldroute.registry"]
    meldcode = registry.protocols["meldcode-onderwijs"]
    registry.protocols["meldcode-onderwijs"] = dataclasses.replace(meldcode, roles=MappingProxyType(
        {rid: dataclasses.replace(role, confirms_grants=rid == "ib")
         for rid, role in meldcode.roles.items()}))
    try:
        assert client_of(app, director).get(GRANTS).status_code == 404
        assert decide(client_of(app, director), grant).status_code == 404
        coordinating = client_of(app, coordinator)
        assert "Rollen bevestigen" in coordinating.get("/dossiers").get_data(as_text=True)
        page = coordinating.get(GRANTS).get_data(as_text=True)
        # the school calls the ib role "intern begeleider"
        assert "een andere beheerder of iemand met de rol &#39;intern begeleider&#39;" in page
        assert "Bevestigen" in page
        assert decide(coordinating, grant).status_code == 302
        assert roles_of(app, teacher) == ["directeur", "leerkracht"]
    finally:
        registry.protocols["meldcode-onderwijs"] = meldcode


def _confirming(app, role_id):
    """The Meldcode as a route that lets ``role_id`` (not one that opens every dossier)
    confirm grants; undone by the caller (``_restore``)."""
    import dataclasses
    from types import MappingProxyType

    registry = app.extensions["meldroute.registry"]
    meldcode = registry.protocols["meldcode-onderwijs"]
    registry.protocols["meldcode-onderwijs"] = dataclasses.replace(meldcode, roles=MappingProxyType(
        {rid: dataclasses.replace(role, confirms_grants=rid in ("directeur", role_id))
         for rid, role in meldcode.roles.items()}))
    return meldcode


def _restore(app, meldcode):
    app.extensions["meldroute.registry"].protocols["meldcode-onderwijs"] = meldcode


def test_a_confirming_role_that_opens_no_dossier_is_guarded_like_one_that_does(app):
    """Found in review: a route may mark a role ``confirms_grants`` that does not open every
    dossier. A school admin giving it to an accomplice (or a remap onto every teacher), or
    a platform admin resetting its holder's account, would make a second person alone."""
    admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    accomplice = make_user(app, "meester.c", "regenboog", "leerkracht")
    platform = make_user(app, "platform", "zonnebloem", "leerkracht", admin=True)
    holder = make_user(app, "zorg.e", "regenboog", "leerkracht", "zorgteam")
    meldcode = _confirming(app, "zorgteam")
    try:
        assert post(client_of(app, admin), PEOPLE, {
            f"roles__{admin.id}": ["schooladmin"],
            f"roles__{accomplice.id}": ["leerkracht", "zorgteam"],
            f"roles__{holder.id}": ["leerkracht", "zorgteam"]}).status_code == 302
        assert roles_of(app, accomplice) == ["leerkracht"]  # waits for a second person
        assert pending_grant(app) is not None
        response = post(client_of(app, admin), "/scholen/regenboog/instellingen/rollen", {
            "name__aandachtsfunctionaris": "aandachtsfunctionaris",
            "remap_0_role": "zorgteam", "remap_0_to": "leerkracht"})  # every step
        assert response.status_code == 400
        school = app.extensions["meldroute.registry"].school("regenboog")
        assert school.assigned_role("zorgteam", "afwegen") == "zorgteam"
        response = post(client_of(app, platform, "zonnebloem"),
                        f"/beheer/gebruikers/{holder.id}/herstel", {},
                        page="/beheer/gebruikers")
        assert response.status_code == 302 and not LINK.search(response.get_data(as_text=True))
        with app.extensions["meldroute.db_sessions"]() as db:
            assert db.scalar(select(ResetToken.id)) is None  # waits for the school
    finally:
        _restore(app, meldcode)


def test_a_step_limited_remap_of_the_director_or_a_staff_route_role_confirms_nothing(app):
    """Who takes the director's part in one step only, and the bevoegd gezag (who opens
    every dossier of the staff route, which marks no role ``confirms_grants``), do not
    confirm grants; the director still does."""
    admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    director = make_user(app, "dir.d", "regenboog", "directeur")
    stand_in = make_user(app, "zorg.e", "regenboog", "leerkracht", "zorgteam")
    board = make_user(app, "bestuur.f", "regenboog", "bevoegd_gezag")
    teacher = make_user(app, "meester.c", "regenboog", "leerkracht")
    assert post(client_of(app, admin), "/scholen/regenboog/instellingen/rollen", {
        "name__aandachtsfunctionaris": "aandachtsfunctionaris", "remap_0_role": "directeur",
        "remap_0_to": "zorgteam", "remap_0_steps": ["beslissen"]}).status_code == 302
    assert post(client_of(app, admin), PEOPLE, {
        f"roles__{admin.id}": ["schooladmin"], f"roles__{director.id}": ["directeur"],
        f"roles__{stand_in.id}": ["leerkracht", "zorgteam"],
        f"roles__{board.id}": ["bevoegd_gezag"],
        f"roles__{teacher.id}": ["leerkracht", "ib"]}).status_code == 302
    grant = pending_grant(app)
    for user in (stand_in, board):
        assert client_of(app, user).get(GRANTS).status_code == 404
        assert decide(client_of(app, user), grant).status_code == 404
    assert roles_of(app, teacher) == ["leerkracht"]
    assert decide(client_of(app, director), grant).status_code == 302
    assert roles_of(app, teacher) == ["ib", "leerkracht"]


def test_the_pages_name_every_role_that_confirms_by_its_own_name(app):
    """Found in review: with a role that takes the director's part throughout (a board's
    import), the director still confirms, so the pages name both, each by its own name
    (not the name of the role that plays it)."""
    from .test_permissions import _save_remap

    admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    _save_remap(app, [{"role": "directeur", "to": "aandachtsfunctionaris"}])
    page = client_of(app, admin).get(PEOPLE).get_data(as_text=True)
    assert "een andere beheerder of iemand met de rol &#39;aandachtsfunctionaris&#39; of " \
           "&#39;directeur&#39; die bevestigt" in page


def test_finding1_a_school_admin_cannot_make_a_second_admin_to_confirm_alone(app):
    admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    accomplice = make_user(app, "meester.c", "regenboog", "leerkracht")
    assert post(client_of(app, admin), PEOPLE, {
        f"roles__{admin.id}": ["schooladmin"],
        f"roles__{accomplice.id}": ["leerkracht", "schooladmin"]}).status_code == 302
    assert roles_of(app, accomplice) == ["leerkracht"]  # waits, like a dossier-opening role
    assert pending_grant(app) is not None


def test_finding1_a_step_limited_remap_opens_no_other_dossier(app):
    admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    teacher = make_user(app, "meester.c", "regenboog", "leerkracht")
    colleague = make_user(app, "juf.b", "regenboog", "leerkracht")
    dossier = _dossier_of(app, colleague, "regenboog")
    response = post(client_of(app, admin), "/scholen/regenboog/instellingen/rollen", {
        "name__aandachtsfunctionaris": "aandachtsfunctionaris",
        "remap_0_role": "ib", "remap_0_to": "aandachtsfunctionaris",
        "remap_0_steps": ["afwegen"],
        "remap_1_role": "ib", "remap_1_to": "leerkracht", "remap_1_steps": ["nazorg"]})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    school = app.extensions["meldroute.registry"].school("regenboog")
    assert school.assigned_role("ib", "nazorg") == "leerkracht"
    assert client_of(app, teacher).get(f"/dossiers/{dossier}").status_code == 404
    assert client_of(app, teacher).get("/dossiers").get_data(as_text=True).count(
        "X.Y.") == 0


def test_finding1_a_remap_cannot_make_the_editors_own_role_open_every_dossier(app):
    admin = make_user(app, "beheer.a", "regenboog", "schooladmin", "aandachtsfunctionaris")
    response = post(client_of(app, admin), "/scholen/regenboog/instellingen/rollen", {
        "name__aandachtsfunctionaris": "aandachtsfunctionaris",
        "remap_0_role": "ib", "remap_0_to": "aandachtsfunctionaris"})  # every step
    assert response.status_code == 400
    assert "opent alle dossiers van de school" in response.get_data(as_text=True)
    school = app.extensions["meldroute.registry"].school("regenboog")
    assert school.assigned_role("ib", "signaleren") == "ib"


def test_finding1_a_remap_cannot_make_every_teacher_open_every_dossier(app):
    """Found after the first fix: a remap of the director's part to the teachers in every
    step made every teacher a coordinator, without a second person."""
    admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    teacher = make_user(app, "meester.c", "regenboog", "leerkracht")
    dossier = _dossier_of(app, make_user(app, "ib.d", "regenboog", "ib"), "regenboog")
    response = post(client_of(app, admin), "/scholen/regenboog/instellingen/rollen", {
        "name__aandachtsfunctionaris": "aandachtsfunctionaris",
        "remap_0_role": "ib", "remap_0_to": "aandachtsfunctionaris",
        "remap_0_steps": ["afwegen"],
        "remap_1_role": "directeur", "remap_1_to": "leerkracht"})  # every step
    assert response.status_code == 400
    assert "opent alle dossiers van de school" in response.get_data(as_text=True)
    school = app.extensions["meldroute.registry"].school("regenboog")
    assert school.assigned_role("directeur", "beslissen") == "directeur"
    assert client_of(app, teacher).get(f"/dossiers/{dossier}").status_code == 404
    refused = audit(app, "school.config")
    assert refused and refused[-1].result == "refused"


# --- finding 2: the rules' actors save a step -------------------------------------------------


def test_finding2_a_teacher_cannot_save_the_directors_step(app, browser: Browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    weighing = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "nee"}
    # the teacher is an optional actor of afwegen: saving it is allowed
    assert browser.post_step(dossier, "afwegen", weighing).status_code == 302, browser.last
    stored = records(app)
    assert "Stap 5 opslaan" not in browser.get(f"/dossiers/{dossier}/stap/beslissen")
    # posted anyway (the page has no form for the teacher)
    response = browser.post_step(dossier, "beslissen", {"hulp_mogelijk": "nee"}, base=0)
    assert response.status_code == 403
    assert "je kunt deze stap lezen, niet opslaan" in browser.last
    assert records(app) == stored
    assert "Melden bij Veilig Thuis" not in browser.get(f"/dossiers/{dossier}")
    refused = audit(app, "dossier.change")[-1]
    assert (refused.result, refused.detail, refused.dossier_id) == (
        "refused", "beslissen", dossier)
    browser.login("directeur")  # the step's actor
    assert browser.post_step(dossier, "beslissen", {"hulp_mogelijk": "nee"}
                             ).status_code == 302
    assert records(app) == stored + 1


def test_finding2_a_teacher_cannot_record_veilig_thuis_response(app, browser: Browser):
    """Found after the first fix: the flags on the dossier page (Veilig Thuis's response)
    moved the dossier on for anyone who could see it. Now the step at work decides, as for
    a save; the teacher sees the step read-only, without the form."""
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    assert browser.post_step(dossier, "afwegen", MELDEN).status_code == 302, browser.last
    browser.login("directeur")
    assert browser.post_step(dossier, "beslissen", MELDING).status_code == 302, browser.last
    browser.login("leerkracht")
    page = browser.get(f"/dossiers/{dossier}")
    assert "Reactie van Veilig Thuis vastleggen" not in page
    assert "Stap 5 opslaan" not in page and "je kunt hem lezen, niet opslaan" in page
    response = browser.client.post(f"/dossiers/{dossier}/feit", data={
        "csrf_token": TOKEN.search(page).group(1),  # type: ignore[union-attr]
        "flag": "reactie_veilig_thuis", "value": "geen_vervolg"})
    assert response.status_code == 403
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.get(Dossier, dossier).stage == "wacht_op_veilig_thuis"
    assert audit(app, "dossier.change")[-1].result == "refused"
    browser.login("directeur")
    assert "Reactie van Veilig Thuis vastleggen" in browser.get(f"/dossiers/{dossier}")


# --- finding 3: the platform admin ------------------------------------------------------------


def _use_link(app, link, password="een nieuwe lange zin voor mij"):
    client = app.test_client()
    return post(client, link, {"new": password, "repeat": password})


def test_finding3_a_platform_admin_cannot_make_a_director_at_another_school(app):
    admin = make_user(app, "platform", "regenboog", "leerkracht", admin=True)
    elsewhere = make_user(app, "elders", "zonnebloem", "leerkracht")
    dossier = _dossier_of(app, elsewhere, "zonnebloem")
    client = client_of(app, admin)
    response = post(client, "/beheer/gebruikers", {
        "username": "nep.directeur", "display_name": "Nep Directeur",
        "membership": "zonnebloem:directeur"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Tijdelijk wachtwoord" not in page
    link = LINK.search(page).group(1)
    assert _use_link(app, link).status_code == 302
    with app.extensions["meldroute.db_sessions"]() as db:
        fake = db.scalar(select(User).where(User.username == "nep.directeur"))
        assert fake.roles_at("zonnebloem") == []  # waits for the school
    fake_client = client_of(app, fake, "zonnebloem")
    refused = fake_client.get(f"/dossiers/{dossier}")  # no school yet: told so, no dossier
    assert refused.status_code == 403 and "nog geen rol" in refused.get_data(as_text=True)
    # the admin cannot confirm it for the school either
    grant = pending_grant(app)
    assert post(client, f"/scholen/zonnebloem/instellingen/toekenningen/{grant}",
                {"besluit": "bevestigen"}, page="/account").status_code == 404
    school_admin = make_user(app, "beheer.z", "zonnebloem", "schooladmin")
    assert post(client_of(app, school_admin, "zonnebloem"),
                f"/scholen/zonnebloem/instellingen/toekenningen/{grant}",
                {"besluit": "bevestigen"}, page="/account").status_code == 302
    assert roles_of(app, fake, "zonnebloem") == ["directeur"]


def test_finding3_a_reset_is_a_one_time_expiring_link_not_a_password(app, now):
    admin = make_user(app, "platform", "regenboog", "leerkracht", admin=True)
    teacher = make_user(app, "juf.b", "regenboog", "leerkracht")
    response = post(client_of(app, admin), f"/beheer/gebruikers/{teacher.id}/herstel", {},
                    page="/beheer/gebruikers")
    assert response.status_code == 200
    link = LINK.search(response.get_data(as_text=True)).group(1)
    with app.extensions["meldroute.db_sessions"]() as db:
        stored = db.scalar(select(ResetToken.token_hash))
        assert stored not in link and link.split("/")[-1] not in stored  # only its hash
    weak = _use_link(app, link, "wachtwoord")
    assert weak.status_code == 400 and "minstens 12 tekens" in weak.get_data(as_text=True)
    assert _use_link(app, link).status_code == 302
    with app.extensions["meldroute.db_sessions"]() as db:
        user = db.get(User, teacher.id)
        assert user.totp_secret is None  # enrolled again at the next sign-in
    assert app.test_client().get(link).status_code == 404  # once
    again = post(app.test_client(), link, {"new": "nog een lange zin voor mij",
                                           "repeat": "nog een lange zin voor mij"},
                 page="/inloggen")
    assert again.status_code == 404
    later = post(client_of(app, admin), f"/beheer/gebruikers/{teacher.id}/herstel", {},
                 page="/beheer/gebruikers")
    second = LINK.search(later.get_data(as_text=True)).group(1)
    now.advance(hours=25)
    assert app.test_client().get(second).status_code == 404  # expired


def test_finding3_resetting_a_coordinator_waits_for_the_school(app):
    admin = make_user(app, "platform", "zonnebloem", "leerkracht", admin=True)
    director = make_user(app, "dir.d", "regenboog", "directeur")
    school_admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    response = post(client_of(app, admin, "zonnebloem"),
                    f"/beheer/gebruikers/{director.id}/herstel", {},
                    page="/beheer/gebruikers")
    assert response.status_code == 302
    assert not LINK.search(response.get_data(as_text=True))
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.scalar(select(ResetToken.id)) is None
    confirmed = decide(client_of(app, school_admin), pending_grant(app))
    assert confirmed.status_code == 200  # the link, shown once to the one who confirmed
    assert LINK.search(confirmed.get_data(as_text=True))


def test_finding3_the_link_is_mailed_when_mail_is_set_up(app, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(host)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message)

    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    app.config["SMTP_HOST"] = "mail.example.org"
    admin = make_user(app, "platform", "regenboog", "leerkracht", admin=True)
    response = post(client_of(app, admin), "/beheer/gebruikers", {
        "username": "juf.e", "display_name": "Juf E", "email": "juf.e@example.org",
        "membership": "regenboog:leerkracht"})
    assert response.status_code == 302
    assert not LINK.search(client_of(app, admin).get("/beheer/gebruikers").get_data(
        as_text=True))
    assert sent[0] == "mail.example.org" and sent[1]["To"] == "juf.e@example.org"
    assert LINK.search(sent[1].get_content())


# --- issue 11 on these pages ------------------------------------------------------------------


def test_unticking_every_role_asks_first(app):
    admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    teacher = make_user(app, "meester.c", "regenboog", "leerkracht")
    client = client_of(app, admin)
    response = post(client, PEOPLE, {f"roles__{admin.id}": ["schooladmin"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Meester.C wordt dan van de school verwijderd" in page
    assert roles_of(app, teacher) == ["leerkracht"]
    confirm = TOKEN.search(page).group(1)
    done = client.post(PEOPLE, data={"csrf_token": confirm, f"roles__{admin.id}": "schooladmin",
                                     "bevestigd": "ja"})
    assert done.status_code == 302 and roles_of(app, teacher) == []


def test_admin_pages_show_names_not_none_or_usernames(app):
    admin = make_user(app, "platform", "regenboog", "leerkracht", admin=True)
    board = make_user(app, "bestuur.x", "regenboog")
    with app.extensions["meldroute.db_sessions"]() as db:
        db.add(Membership(user_id=board.id, board_id="stichting-a", role="bestuursadmin"))
        db.commit()
    page = client_of(app, admin).get("/beheer/gebruikers").get_data(as_text=True)
    assert "None" not in page
    assert "bestuur stichting-a: bestuursbeheerder" in page
    assert "Basisschool De Regenboog: leerkracht" in page


def test_finding3_the_command_line_prints_a_one_time_link(app, cli_env, capsys):
    from meldroute.webapp.cli import main

    teacher = make_user(app, "juf.b", "regenboog", "leerkracht")
    assert main(["user", "reset", "juf.b", "--link"]) == 0
    link = re.search(r"/wachtwoord-herstellen/\S+", capsys.readouterr().out).group(0)
    assert _use_link(app, link).status_code == 302
    assert app.test_client().get(link).status_code == 404
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.get(User, teacher.id).totp_secret is None


def test_an_account_whose_role_still_waits_is_told_so_and_sees_nothing(app):
    """Signed in before the school confirmed a role: a page that says why, not a 404, and
    no dossier list; the platform admin without a school reaches the accounts page."""
    waiting = make_user(app, "nog-geen-rol", "regenboog")
    client = app.test_client()
    sign_in_as(app, client, waiting.id, None)
    response = client.get("/dossiers")
    assert response.status_code == 403
    assert "nog geen rol op een school" in response.get_data(as_text=True)
    admin = make_user(app, "platformbeheer", "regenboog", admin=True)
    other = app.test_client()
    sign_in_as(app, other, admin.id, None)
    assert other.get("/beheer/gebruikers").status_code == 200
    assert other.get("/dossiers").headers["Location"].endswith("/beheer/gebruikers")


@pytest.mark.parametrize("field, value", [
    ("username", "piet\n"), ("username", "Piet Jansen"), ("email", "piet@school.example\n")])
def test_an_account_value_with_a_line_break_or_wrong_characters_is_refused(app, field, value):
    """A crafted form (a browser strips the line break) cannot store ``"piet\\n"``:
    Python's ``$`` also matches before a final line break."""
    admin = make_user(app, "platform", "regenboog", "leerkracht", admin=True)
    form = {"username": "piet", "display_name": "Piet", "email": "piet@school.example",
            "membership": "regenboog:leerkracht", field: value}
    response = post(client_of(app, admin), "/beheer/gebruikers", form)
    assert response.status_code == 400
    assert ("Kleine letters" if field == "username" else "Geen geldig e-mailadres") in \
        response.get_data(as_text=True)
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.scalar(select(User).where(User.username.like("piet%"))) is None
