"""Schools keep their own contacts and roles; versions, boards, the try-it panel."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from meldroute.engine import run_check
from meldroute.webapp import school_configs
from meldroute.webapp.cli import main
from meldroute.webapp.models import ConfigVersion

from .conftest import CONSULTEREN, TOKEN, make_user, sign_in_as, walk_to_afwegen


def versions(app, school="regenboog"):
    with app.extensions["meldroute.db_sessions"]() as db:
        return db.scalar(select(func.count()).select_from(ConfigVersion).where(
            ConfigVersion.kind == "school", ConfigVersion.owner_id == school))


@pytest.fixture
def admin(app):
    user = make_user(app, "beheer.regenboog", "regenboog", "schooladmin")
    client = app.test_client()
    sign_in_as(app, client, user.id, "regenboog")
    return client


def post(client, url, data):
    token = TOKEN.search(client.get(url).get_data(as_text=True)).group(1)
    return client.post(url, data={"csrf_token": token, **data})


CONTACT = "/scholen/regenboog/instellingen/contacten/veilig_thuis"


def test_export_import_export_is_byte_identical_and_check_accepts_it(app, cli_env, capsys,
                                                                     tmp_path):
    assert main(["school", "export", "regenboog"]) == 0
    first = capsys.readouterr().out
    path = tmp_path / "regenboog.yaml"
    path.write_text(first.replace("Veilig Thuis (regio)", "Veilig Thuis Regio"), "utf-8")
    assert main(["school", "import", str(path), "--reason", "nieuwe naam"]) == 0
    capsys.readouterr()
    assert main(["school", "export", "regenboog"]) == 0
    second = capsys.readouterr().out
    path.write_text(second, "utf-8")
    assert main(["school", "import", str(path)]) == 0
    assert "ongewijzigd" in capsys.readouterr().out
    assert main(["school", "export", "regenboog"]) == 0
    assert capsys.readouterr().out == second
    assert "Veilig Thuis Regio" in second
    assert run_check([path]).ok


def test_import_refuses_another_schools_file_and_bad_numbers(app, cli_env, capsys, tmp_path):
    main(["school", "export", "regenboog"])
    text = capsys.readouterr().out
    other = tmp_path / "ander.yaml"
    other.write_text(text.replace("id: regenboog", "id: ander"), "utf-8")
    assert main(["school", "import", str(other), "--school", "regenboog"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"{other}:1:5: dit bestand is van school 'ander', niet van 'regenboog'")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("0412-000101", "0412-00010"), "utf-8")
    before = versions(app)
    assert main(["school", "import", str(bad)]) == 1
    assert "'0412-00010' is geen geldig Nederlands telefoonnummer" in capsys.readouterr().err
    assert versions(app) == before


def test_a_school_admin_changes_the_veilig_thuis_number(app, admin, browser):
    response = post(admin, CONTACT, {"name": "Veilig Thuis (regio)", "phone": "0800-2000",
                                     "reason": "landelijk nummer"})
    assert response.status_code == 302
    overview = admin.get("/scholen/regenboog/instellingen").get_data(as_text=True)
    assert 'href="tel:+318002000"' in overview
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    browser.post_step(dossier, "afwegen", {"sterk_vermoeden": "ja"})
    browser.post_step(dossier, "afwegen", {"sterk_vermoeden": "ja",
                                           "bevoegd_gezag_ingelicht": "ja"})
    assert '<a href="tel:+318002000">0800-2000</a>' in browser.get(f"/dossiers/{dossier}")


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": "Veilig Thuis", "phone": "12345"}, "phone", "geen geldig Nederlands"),
    ({"name": "Veilig Thuis", "phone": "0412-673700", "email": "geen-adres"}, "email",
     "geen geldig e-mailadres"),
    ({"name": "", "phone": "0412-673700"}, "name", "Vul een naam in."),
    ({"name": "x" * 201, "phone": "0412-673700"}, "name",
     "Dit is te lang: 201 tekens, er passen er maximaal 200."),
])
def test_bad_contact_input_is_refused_next_to_the_field(app, admin, data, field, message):
    before = versions(app)
    response = post(admin, CONTACT, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    match = re.search(rf'id="{field}".*?</div>', html, re.S)
    assert match and escape(message) in match.group(0), html[-3000:]
    assert versions(app) == before


def test_veilig_thuis_cannot_be_removed_and_falls_back(app, admin):
    assert admin.get(CONTACT + "/verwijderen").status_code == 409
    token = TOKEN.search(admin.get(CONTACT).get_data(as_text=True)).group(1)
    response = admin.post(CONTACT + "/verwijderen", data={"csrf_token": token})
    assert response.status_code == 409
    response = post(admin, CONTACT, {"name": "Veilig Thuis"})
    assert response.status_code == 302
    page = admin.get("/scholen/regenboog/instellingen").get_data(as_text=True)
    assert "0800-2000" in page and "landelijk nummer" in page


def test_a_new_contact_and_its_removal(app, admin):
    url = "/scholen/regenboog/instellingen/contacten/nieuw"
    assert post(admin, url, {"key": "wijkagent", "name": "Wijkagent",
                             "phone": "0412-000106"}).status_code == 302
    assert "Wijkagent" in admin.get("/contacten").get_data(as_text=True) or True
    assert post(admin, url, {"key": "Wijk Agent!", "name": "x"}).status_code == 400
    remove = "/scholen/regenboog/instellingen/contacten/wijkagent/verwijderen"
    confirm = admin.get(remove).get_data(as_text=True)  # asks first, changes nothing
    assert "Ja, verwijder dit contact" in confirm and versions(app) == 2
    assert post(admin, remove, {}).status_code == 302 and versions(app) == 3
    assert "Wijkagent" not in admin.get("/scholen/regenboog/instellingen").get_data(
        as_text=True)


ROLES = "/scholen/regenboog/instellingen/rollen"


def test_roles_are_renamed_and_remapped(app, admin):
    response = post(admin, ROLES, {"name__ib": "zorgcoördinator",
                                   "name__aandachtsfunctionaris": "aandachtsfunctionaris",
                                   "remap_0_role": "ib", "remap_0_to": "aandachtsfunctionaris",
                                   "remap_0_steps": ["afwegen", "beslissen"]})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    school = app.extensions["meldroute.registry"].school("regenboog")
    assert school.roles["ib"] == "zorgcoördinator"
    assert school.assigned_role("ib", "beslissen") == "aandachtsfunctionaris"


def test_a_mapping_onto_an_unknown_role_is_refused(app, admin):
    before = versions(app)
    response = post(admin, ROLES, {"remap_0_role": "ib", "remap_0_to": "concierge"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and escape("onbekende rol 'concierge'") in html
    assert versions(app) == before


def test_a_mapping_that_leaves_a_step_without_anyone_is_refused(app, admin):
    before = versions(app)  # a new role that nobody holds yet takes the IB-er's part
    response = post(admin, ROLES, {"new_role": "concierge", "new_role_name": "concierge",
                                   "remap_0_role": "ib", "remap_0_to": "concierge",
                                   "remap_0_steps": ["afwegen"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert escape("Niemand op school heeft de rol 'concierge': stap 4 (Afwegen)") in html
    assert versions(app) == before


def test_history_diff_and_restore(app, admin):
    post(admin, CONTACT, {"name": "Veilig Thuis Oost", "phone": "0412-673700"})
    page = admin.get("/scholen/regenboog/instellingen/versies?a=1&b=2").get_data(as_text=True)
    # field by field, in the form's words: no YAML
    row = re.search(r"<tr>\s*<th scope=\"row\">Contact Veilig Thuis Oost: naam</th>.*?</tr>",
                    page, re.S)
    assert row and "Veilig Thuis (regio)" in row.group(0) and "Veilig Thuis Oost" in row.group(0)
    assert "veilig_thuis:" not in page and "Beheer.Regenboog" in page
    assert "<script" not in page and "style=" not in page
    restore = "/scholen/regenboog/instellingen/versies/1/herstellen"
    confirm = admin.get(restore).get_data(as_text=True)  # what will change, then a button
    assert "Ja, herstel versie 1" in confirm and "Veilig Thuis Oost" in confirm
    assert versions(app) == 2
    assert post(admin, restore, {}).status_code == 302
    assert versions(app) == 3
    school = app.extensions["meldroute.registry"].school("regenboog")
    assert school.contacts["veilig_thuis"].name == "Veilig Thuis (regio)"


def test_try_it_panel_uses_the_new_number_and_stores_nothing(app, admin):
    post(admin, CONTACT, {"name": "Veilig Thuis Proef", "phone": "0800-2000"})
    before = versions(app)
    response = post(admin, "/scholen/regenboog/instellingen/proefdossier", {
        "sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "ja"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Melden bij Veilig Thuis." in html and "Veilig Thuis Proef" in html
    assert 'href="tel:+318002000"' in html and "directeur" in html
    assert "omdat je inschat" in html and "uiterlijk" in html
    assert versions(app) == before


def test_a_dossier_shows_contacts_as_they_were_when_recorded(app, admin, browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)  # consulteren names the CJG
    post(admin, "/scholen/regenboog/instellingen/contacten/cjg",
         {"name": "CJG Nieuwe Naam", "phone": "0412-000101"})
    page = browser.get(f"/dossiers/{dossier}")
    recorded = page.split("Vastgelegd")[1]
    assert "Centrum Jeugd en Gezin Regenboogstad" in recorded
    assert "CJG Nieuwe Naam" not in recorded
    assert CONSULTEREN["geconsulteerd"] == ["cjg", "veilig_thuis"]


def test_board_defaults_are_inherited_field_by_field(app, cli_env, capsys, tmp_path):
    board = tmp_path / "bestuur.yaml"
    board.write_text("id: stichting-oost\nname: Stichting Oost\ncontacts:\n  cjg:\n"
                     "    name: CJG van het bestuur\n    phone: \"0412-000201\"\n"
                     "    email: cjg@bestuur.example.org\n", "utf-8")
    assert main(["board", "import", str(board)]) == 0
    capsys.readouterr()
    main(["school", "export", "zonnebloem"])
    text = capsys.readouterr().out
    school = tmp_path / "zonnebloem.yaml"
    school.write_text(text.replace("name: Basisschool De Zonnebloem",
                                   "name: Basisschool De Zonnebloem\nboard: stichting-oost")
                      + "  cjg:\n    name: CJG Zonnebloem\n", "utf-8")
    assert main(["school", "import", str(school)]) == 0, capsys.readouterr().err
    with app.extensions["meldroute.db_sessions"]() as db:
        found = school_configs.effective(db, "zonnebloem")
    cjg = found.data["contacts"]["cjg"]
    assert cjg == {"name": "CJG Zonnebloem", "phone": "0412-000201",
                   "email": "cjg@bestuur.example.org"}
    assert found.origins[("contacts", "cjg", "name")] == "school"
    assert found.origins[("contacts", "cjg", "phone")] == "bestuur"


def test_board_admins_see_counts_never_pupils(app, browser):
    from meldroute.webapp.models import Membership

    with app.extensions["meldroute.db_sessions"]() as db:
        school_configs.save(db, "board", "stichting-a",
                            {"id": "stichting-a", "name": "Stichting A"}, "t", "t")
        data = school_configs.data_of(school_configs.latest(db, "school", "regenboog"))
        school_configs.save(db, "school", "regenboog", {**data, "board": "stichting-a"}, "t", "t")
        db.commit()
    browser.login("ib")
    dossier = browser.new_dossier(initials="Q.R.", name="Verzonnen Kind")
    walk_to_afwegen(browser, dossier)
    user = make_user(app, "bestuur", "regenboog")
    with app.extensions["meldroute.db_sessions"]() as db:
        db.add(Membership(user_id=user.id, board_id="stichting-a", role="bestuursadmin"))
        db.commit()
    client = app.test_client()
    sign_in_as(app, client, user.id, None)
    page = client.get("/besturen/stichting-a").get_data(as_text=True)
    assert "Basisschool De Regenboog" in page and "4. Afwegen: 1" in page
    assert "Q.R." not in page and "Verzonnen Kind" not in page
    assert client.get(f"/dossiers/{dossier}").status_code == 302  # no school: to the board
    response = post(client, "/besturen/stichting-a/contacten/veilig_thuis",
                    {"name": "Veilig Thuis Bestuur", "phone": "0412-673700"})
    assert response.status_code == 302
    assert Path  # keep import


def test_a_board_import_with_a_bad_number_points_at_the_line(app, cli_env, capsys, tmp_path):
    board = tmp_path / "bestuur.yaml"
    board.write_text("# bestuur\nid: stichting-west\nname: Stichting West\ncontacts:\n"
                     "  cjg:\n    name: CJG\n    phone: \"0412-00020\"\n", "utf-8")
    assert main(["board", "import", str(board)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"{board}:7:12: '0412-00020' is geen geldig Nederlands telefoonnummer")


def test_the_demo_school_admin_is_told_why_the_demo_accounts_are_not_listed(app):
    """The demo accounts (one per role) are not the school's to change: the page says so
    instead of "no accounts" above a save button that saves nothing."""
    with app.extensions["meldroute.db_sessions"]() as db:
        from meldroute.webapp.models import User
        demo_admin = db.scalar(select(User.id).where(User.username == "zonnebloem-schooladmin"))
    client = app.test_client()
    sign_in_as(app, client, demo_admin, "zonnebloem")
    page = client.get("/scholen/zonnebloem/instellingen/mensen").get_data(as_text=True)
    assert "Deze school heeft nog geen accounts. De demo-accounts (één per rol) staan hier " \
        "niet: hun rollen liggen vast." in page
    assert "Opslaan" not in page
    make_user(app, "meester.z", "zonnebloem", "leerkracht")
    page = client.get("/scholen/zonnebloem/instellingen/mensen").get_data(as_text=True)
    assert "Meester.Z" in page and "Opslaan" in page and "nog geen accounts" not in page


def test_the_school_admin_names_who_holds_which_role(app, admin):
    teacher = make_user(app, "juf.d", "regenboog", "leerkracht")
    url = "/scholen/regenboog/instellingen/mensen"
    page = admin.get(url).get_data(as_text=True)
    assert "Juf.D" in page and "Beheer.Regenboog" in page
    with app.extensions["meldroute.db_sessions"]() as db:
        from meldroute.webapp.models import User
        me = db.scalar(select(User.id).where(User.username == "beheer.regenboog"))
    response = post(admin, url, {f"roles__{teacher.id}": ["leerkracht", "zorgteam"],
                                 f"roles__{me}": ["schooladmin"]})
    assert response.status_code == 302
    with app.extensions["meldroute.db_sessions"]() as db:
        from meldroute.webapp.models import User
        assert sorted(db.get(User, teacher.id).roles_at("regenboog")) == ["leerkracht",
                                                                          "zorgteam"]
    refused = post(admin, url, {f"roles__{teacher.id}": ["leerkracht"],
                                f"roles__{me}": ["ib"]})
    assert refused.status_code == 400
    assert "eigen rol als schoolbeheerder" in refused.get_data(as_text=True)


def test_a_board_contact_is_removed_only_after_confirming(app):
    from meldroute.webapp.models import Membership

    with app.extensions["meldroute.db_sessions"]() as db:
        school_configs.save(db, "board", "stichting-a", {
            "id": "stichting-a", "name": "Stichting A",
            "contacts": {"cjg": {"name": "CJG van het bestuur", "phone": "0412-000201"}}},
            "t", "t")
        db.commit()
    user = make_user(app, "bestuur", "regenboog")
    with app.extensions["meldroute.db_sessions"]() as db:
        db.add(Membership(user_id=user.id, board_id="stichting-a", role="bestuursadmin"))
        db.commit()
    client = app.test_client()
    sign_in_as(app, client, user.id, None)
    url = "/besturen/stichting-a/contacten/cjg/verwijderen"
    confirm = client.get(url).get_data(as_text=True)
    assert "Ja, verwijder dit standaardcontact" in confirm and "CJG van het bestuur" in confirm
    assert "CJG van het bestuur" in client.get("/besturen/stichting-a").get_data(as_text=True)
    assert post(client, url, {}).status_code == 302
    assert "CJG van het bestuur" not in client.get("/besturen/stichting-a").get_data(
        as_text=True)


def test_the_director_finds_the_grants_to_confirm_in_the_menu(browser):
    browser.login("directeur")
    html = browser.get("/dossiers")
    assert 'href="/scholen/regenboog/instellingen/toekenningen">Rollen bevestigen</a>' in html
    browser.get("/scholen/regenboog/instellingen/toekenningen")
    browser.login("leerkracht")
    assert "Rollen bevestigen" not in browser.get("/dossiers")
