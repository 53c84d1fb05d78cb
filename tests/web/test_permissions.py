"""The permission matrix: every route × every role × {own dossier, same school not
assigned, other school}, with the answer each cell must give. A route that is not in
the matrix fails the test."""

from __future__ import annotations

from typing import Any

from meldroute.webapp.services import create_dossier, save_step

from .conftest import ROUTES, TOKEN, make_user, sign_in_as

ROLES = ["anonymous", "leerkracht", "ib", "zorgteam", "directeur", "bevoegd_gezag",
         "aandachtsfunctionaris", "admin", "schooladmin", "bestuursadmin"]
COORDINATING = {"ib", "directeur", "aandachtsfunctionaris"}
RELATIONS = ["own", "same", "other"]

# what a POST sends besides its CSRF token (chosen so that nothing valid is stored)
POSTED = {
    "settings.roles:post": {"remap_0_role": "ib", "remap_0_to": "bestaat_niet"},
    "board.contact:post": {"phone": "12345"},
    "settings.people:post": {"roles__{u}": "bestaat_niet"},
    "dossiers.unflag:post": {"reason": "Ten onrechte aangevinkt."},
}


def expected(endpoint: str, role: str, relation: str) -> int:
    visible = relation == "own" or (relation == "same" and role in COORDINATING)
    if endpoint in ("static", "auth.login"):
        return 200
    if endpoint == "auth.login:post":
        return 400  # the (empty) form is refused
    if endpoint.startswith(("auth.code", "auth.enroll", "auth.logout")):
        return 302
    if role == "anonymous":
        return 302  # to the sign-in page
    if endpoint.startswith(("settings.", "board.")):
        return admin_expected(endpoint, role, relation)
    if role == "bestuursadmin" and endpoint not in ("auth.account", "auth.account:post"):
        return 302  # belongs to no school: sent to the board's page
    if endpoint.startswith("admin."):
        if role != "admin":
            return 404
        if endpoint == "admin.users:post":
            return 400
        return 302 if endpoint in ("admin.toggle_active", "admin.end_user_sessions") else 200
    if endpoint in ("dossiers.new:post", "auth.account:post"):
        return 400
    if endpoint == "auth.switch_school":
        return 404  # posted without a school of the user's
    if endpoint == "dossiers.home":
        return 302
    if endpoint in ("dossiers.overview", "dossiers.new", "dossiers.contacts", "auth.account"):
        return 200
    if endpoint in ("dossiers.step:post", "dossiers.record_fact"):
        return 400 if visible else 404  # visible: the (empty) form is refused
    if endpoint == "dossiers.unflag":  # just flagged: a coordinating role may lift it
        return (200 if role in COORDINATING else 302) if visible else 404
    if endpoint.split(":")[0] in ("dossiers.close", "dossiers.reopen", "dossiers.unflag",
                                  "dossiers.flag_as_acute"):
        return 302 if visible else 404  # (closing etc.: not now, so back to the dossier)
    if endpoint == "dossiers.audit_log":
        return 200 if visible and role in COORDINATING else 404
    return 200 if visible else 404


def admin_expected(endpoint: str, role: str, relation: str) -> int:
    own_school = relation != "other"
    if endpoint.startswith("board."):
        if role != "bestuursadmin" or not own_school or "remove_contact" in endpoint:
            return 404  # (the contact to remove does not exist)
        return 400 if endpoint.endswith(":post") else 200
    if role not in ("schooladmin", "bestuursadmin") or not own_school:
        return 404
    if endpoint == "settings.people:post":
        return 400  # a role that does not exist
    return {"settings.contact:post": 400, "settings.roles:post": 400,
            "settings.remove_contact": 409, "settings.remove_contact:confirm": 409,
            "settings.restore": 302}.get(endpoint, 200)


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    listed = {name.split(":")[0] for name in ROUTES}
    assert endpoints == listed, f"not in the matrix: {endpoints - listed}; " \
                                f"gone: {listed - endpoints}"
    methods = {(rule.endpoint, m) for rule in app.url_map.iter_rules()
               for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert methods == {(n.split(":")[0], method) for n, (method, _) in ROUTES.items()}


def _dossier_of(app: Any, user: Any, school_id: str) -> int:
    registry = app.extensions["meldroute.registry"]
    with app.app_context(), app.extensions["meldroute.db_sessions"]() as db:
        from meldroute.webapp.models import User

        owner = db.get(User, user.id)
        dossier = create_dossier(db, registry, registry.school(school_id), owner, "X.Y.", "3",
                                 "Verzonnen Kind", app.config["CLOCK"]())
        db.commit()
        protocol = registry.protocol_for(registry.school(school_id))
        answers = {"observaties": [{"datum": "2026-11-20", "waargenomen_door": ["leerkracht"],
                                    "feit": "feit", "bron": None}]}
        save_step(db, registry, dossier, protocol.step("signaleren"), answers, owner, 0,
                  app.config["CLOCK"]())
        return int(dossier.id)


def test_permission_matrix(app):
    from meldroute.webapp import school_configs
    from meldroute.webapp.models import Membership

    with app.extensions["meldroute.db_sessions"]() as db:
        for board, school in (("stichting-a", "regenboog"), ("stichting-b", "zonnebloem")):
            school_configs.save(db, "board", board, {"id": board, "name": board}, "test", "test")
            data = school_configs.data_of(school_configs.latest(db, "school", school))
            school_configs.save(db, "school", school, {**data, "board": board}, "test", "test")
        db.commit()
    users = {role: make_user(app, f"u-{role}", "regenboog",
                             "leerkracht" if role == "admin" else role, admin=role == "admin")
             for role in ROLES if role not in ("anonymous", "bestuursadmin")}
    users["bestuursadmin"] = make_user(app, "u-bestuur", "regenboog")  # no role at a school
    with app.extensions["meldroute.db_sessions"]() as db:
        db.add(Membership(user_id=users["bestuursadmin"].id, board_id="stichting-a",
                          role="bestuursadmin"))
        db.commit()
    colleague = make_user(app, "collega", "regenboog", "leerkracht")
    elsewhere = make_user(app, "elders", "zonnebloem", "leerkracht")
    target = make_user(app, "doelwit", "regenboog", "leerkracht")
    same = _dossier_of(app, colleague, "regenboog")
    other = _dossier_of(app, elsewhere, "zonnebloem")
    own = {role: _dossier_of(app, user, "regenboog") for role, user in users.items()}

    cells = 0
    wrong = []
    for role in ROLES:
        for relation in RELATIONS:
            for endpoint, (method, template) in ROUTES.items():
                client = app.test_client()
                if role != "anonymous":
                    sign_in_as(app, client, users[role].id,
                               None if role == "bestuursadmin" else "regenboog")
                dossier = {"own": own.get(role, same), "same": same, "other": other}[relation]
                url = template.format(d=dossier, u=target.id,
                                      s="zonnebloem" if relation == "other" else "regenboog",
                                      b="stichting-b" if relation == "other" else "stichting-a")
                if method == "POST":
                    page = client.get("/account" if role != "anonymous"
                                      else "/inloggen").get_data(as_text=True)
                    data = {"csrf_token": TOKEN.search(page).group(1), "base_version": "1",
                            **{k.format(u=target.id): v
                               for k, v in POSTED.get(endpoint, {}).items()}}
                    response = client.post(url, data=data)
                else:
                    response = client.get(url)
                response.close()
                cells += 1
                want = expected(endpoint, role, relation)
                if response.status_code != want:
                    wrong.append(f"{role:22} {relation:5} {method} {url}: "
                                 f"{response.status_code}, expected {want}")
    assert not wrong, "\n".join(wrong)
    assert cells == len(ROLES) * len(RELATIONS) * len(ROUTES)
