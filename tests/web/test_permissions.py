"""The permission matrix: every route × every role × {own dossier, same school not
assigned, other school}, with the answer each cell must give. A route that is not in
the matrix fails the test."""

from __future__ import annotations

from typing import Any

from meldroute.webapp.services import create_dossier, save_step

from .conftest import ROUTES, TOKEN, make_user, sign_in_as

ROLES = ["anonymous", "leerkracht", "ib", "zorgteam", "directeur", "bevoegd_gezag",
         "aandachtsfunctionaris", "admin", "schooladmin", "bestuursadmin"]
# the demo school remaps ib -> aandachtsfunctionaris in afwegen only: that gives no access
# to every dossier
COORDINATING = {"ib", "directeur"}
SIGNALEREN_ACTORS = {"leerkracht", "admin", *COORDINATING}  # the admin is a leerkracht
RELATIONS = ["own", "same", "other"]

# --- issue 14, daily work (Mijn taken, named people): rows and cells --------------------------
DAILY_ROUTES = {
    "daily.my_tasks": ("GET", "/taken"),
    "daily.people": ("GET", "/dossiers/{d}/mensen"),
    "daily.people:post": ("POST", "/dossiers/{d}/mensen"),
    "daily.remove_person": ("POST", "/dossiers/{d}/mensen/999999/verwijderen"),
}
ROUTES.update(DAILY_ROUTES)


def daily_expected(endpoint: str, role: str, visible: bool) -> int:
    """Mijn taken: every member of staff (their own tasks); the named people of a dossier:
    who may see it reads them, a coordinating role assigns (the empty form: refused) and
    removes (this assignment does not exist)."""
    if endpoint == "daily.my_tasks":
        return 200
    if not visible:
        return 404
    if endpoint == "daily.people":
        return 200
    if role not in COORDINATING:
        return 403
    return 400 if endpoint == "daily.people:post" else 404


# what a POST sends besides its CSRF token (chosen so that nothing valid is stored)
POSTED = {
    "settings.roles:post": {"remap_0_role": "ib", "remap_0_to": "bestaat_niet"},
    "board.contact:post": {"phone": "12345"},
    "settings.people:post": {"roles__{u}": "bestaat_niet"},
    "dossiers.unflag:post": {"reason": "Ten onrechte aangevinkt."},
}


def oidc_expected(endpoint: str) -> int:
    """Sign-in through a school's provider: the same for everyone (none configured)."""
    return 400 if endpoint == "oidc.start" else 404  # no provider chosen; no such provider


def expected(endpoint: str, role: str, relation: str) -> int:
    if endpoint.startswith("oidc."):
        return oidc_expected(endpoint)
    visible = relation == "own" or (relation == "same" and role in COORDINATING)
    if endpoint in ("static", "auth.login"):
        return 200
    if endpoint == "auth.login:post":
        return 400  # the (empty) form is refused
    if endpoint.startswith(("auth.code", "auth.enroll", "auth.logout")):
        return 302
    if endpoint.startswith("reset."):
        return 404  # a link that does not exist, for anyone
    if role == "anonymous":
        return 302  # to the sign-in page
    if endpoint.startswith(("settings.", "board.")):
        return admin_expected(endpoint, role, relation)
    if endpoint.startswith("admin.") and role != "admin":
        return 404  # the platform admin's pages (no school needed): nobody else
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
    if endpoint == "dossiers.step:post":
        if not visible:
            return 404
        return 400 if role in SIGNALEREN_ACTORS else 403  # actors: the empty form refused
    if endpoint == "dossiers.record_fact":
        # only the actors of the step at work (the director's: the dossier was flagged acute
        # earlier in the matrix) or a coordinating role; they post an empty form: refused
        return (400 if role in COORDINATING else 403) if visible else 404
    if endpoint == "dossiers.unflag":  # just flagged: a coordinating role may lift it
        return (200 if role in COORDINATING else 302) if visible else 404
    if endpoint.split(":")[0] in ("dossiers.close", "dossiers.reopen", "dossiers.unflag",
                                  "dossiers.flag_as_acute"):
        return 302 if visible else 404  # (closing etc.: not now, so back to the dossier)
    if endpoint == "dossiers.audit_log":
        return 200 if visible and role in COORDINATING else 404
    if endpoint in EXPORT_CELLS:
        return EXPORT_CELLS[endpoint] if visible else 404
    if endpoint.startswith("daily."):
        return daily_expected(endpoint, role, visible)
    return 200 if visible else 404


# issue 14: the timeline, the exports and the route picture: need-to-know exactly like the
# dossier page; a note posted empty is refused (nothing stored)
EXPORT_CELLS = {"timeline.show": 200, "timeline.add_note": 400, "exports.pdf": 200,
                "exports.melding": 200, "routepicture.picture": 200}


def admin_expected(endpoint: str, role: str, relation: str) -> int:
    own_school = relation != "other"
    if endpoint.startswith("board."):
        if role != "bestuursadmin" or not own_school or "remove_contact" in endpoint:
            return 404  # (the contact to remove does not exist)
        return 400 if endpoint.endswith(":post") else 200
    if endpoint in ("settings.grants", "settings.decide_grant"):
        confirms = role in ("schooladmin", "bestuursadmin", "directeur") and own_school
        return 200 if confirms and endpoint == "settings.grants" else 404
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


# --- rows for role grants, step-limited remaps and per-step save rights -----------------------

# who saves which step at the demo school (besides the coordinating ib and directeur): the
# rules' actors, optional ones included; the demo school remaps ib -> aandachtsfunctionaris
# in afwegen
STEP_SAVERS = {
    "signaleren": {"leerkracht"},
    "consulteren": {"leerkracht"},
    "gesprek": {"leerkracht", "zorgteam"},
    "afwegen": {"leerkracht", "aandachtsfunctionaris"},
    "beslissen": set(),
    "nazorg": {"leerkracht"},
}
STEP_ROLES = ["leerkracht", "ib", "zorgteam", "directeur", "bevoegd_gezag",
              "aandachtsfunctionaris", "schooladmin"]


def loaded(app: Any, user: Any) -> Any:
    """The user with their roles, for calling the access rules directly."""
    from sqlalchemy.orm import joinedload

    from meldroute.webapp.models import User

    with app.extensions["meldroute.db_sessions"]() as db:
        found = db.get(User, user.id, options=[joinedload(User.memberships)])
        db.expunge_all()
        return found


def test_per_step_save_rights(app):
    from meldroute.webapp.access import may_act

    registry = app.extensions["meldroute.registry"]
    school = registry.school("regenboog")
    protocol = registry.protocol_for(school)
    wrong, cells = [], 0
    for step in protocol.steps:
        for role in STEP_ROLES:
            user = loaded(app, make_user(app, f"s-{step.id}-{role}", "regenboog", role))
            want = role in COORDINATING or role in STEP_SAVERS[step.id]
            cells += 1
            if may_act(user, "regenboog", step, protocol, school) != want:
                wrong.append(f"{role} in {step.id}: expected {want}")
            if may_act(user, "zonnebloem", step, protocol, school):
                wrong.append(f"{role} in {step.id} at another school")
    assert not wrong, "\n".join(wrong)
    assert cells == len(STEP_SAVERS) * len(STEP_ROLES)


def _save_remap(app, remap):
    from meldroute.webapp import school_configs

    with app.extensions["meldroute.db_sessions"]() as db:
        data = school_configs.data_of(school_configs.latest(db, "school", "regenboog"))
        school_configs.save(db, "school", "regenboog", {**data, "remap": remap}, "t", "t")
        db.commit()


def test_step_limited_remaps(app):
    from meldroute.webapp.access import coordinating_roles, may_act

    registry = app.extensions["meldroute.registry"]
    colleague = make_user(app, "collega", "regenboog", "leerkracht")
    dossier = _dossier_of(app, colleague, "regenboog")
    teacher = loaded(app, make_user(app, "juf", "regenboog", "leerkracht"))
    focal = make_user(app, "af", "regenboog", "aandachtsfunctionaris")
    rows = []
    for remap, opens in (
            ([{"role": "directeur", "to": "leerkracht", "steps": ["beslissen"]},
              {"role": "ib", "to": "aandachtsfunctionaris", "steps": ["afwegen"]}],
             {"juf": 404, "af": 404}),
            ([{"role": "ib", "to": "aandachtsfunctionaris"}], {"juf": 404, "af": 200})):
        _save_remap(app, remap)
        school = registry.school("regenboog")
        protocol = registry.protocol_for(school)
        for user in (teacher, focal):
            client = app.test_client()
            sign_in_as(app, client, user.id, "regenboog")
            rows.append((remap[0]["role"], user.username,
                         client.get(f"/dossiers/{dossier}").status_code, opens[user.username]))
        limited = bool(remap[0].get("steps"))
        rows.append(("beslissen", "juf", may_act(teacher, "regenboog",
                                                   protocol.step("beslissen"), protocol,
                                                   school), limited))
        rows.append(("coordinating", "juf", "leerkracht" in coordinating_roles(protocol, school),
                     False))
    wrong = [row for row in rows if row[2] != row[3]]
    assert not wrong, wrong
    assert len(rows) == 8


GRANT_ROWS = [  # (who posts, whose roles, roles asked, opens the dossier after, status)
    ("self-grant directeur", 400, 404),
    ("self-grant ib", 400, 404),
    ("unconfirmed grant", 302, 404),
    ("confirmed by the granter", 403, 404),
    ("confirmed by the grantee", 404, 404),
    ("confirmed by a teacher", 404, 404),
    ("confirmed by another admin", 302, 200),
]


def test_role_grant_rows(app):
    from meldroute.webapp.models import RoleGrant

    admin = make_user(app, "beheer.a", "regenboog", "schooladmin")
    second = make_user(app, "beheer.b", "regenboog", "schooladmin")
    other_teacher = make_user(app, "meester.x", "regenboog", "leerkracht")
    grantee = make_user(app, "juf.g", "regenboog", "leerkracht")
    colleague = make_user(app, "collega", "regenboog", "leerkracht")
    dossier = _dossier_of(app, colleague, "regenboog")
    people = "/scholen/regenboog/instellingen/mensen"
    clients = {}
    for user in (admin, second, other_teacher, grantee):
        clients[user.username] = app.test_client()
        sign_in_as(app, clients[user.username], user.id, "regenboog")

    def post(client, url, data):
        token = TOKEN.search(client.get("/account").get_data(as_text=True)).group(1)
        return client.post(url, data={"csrf_token": token, **data}).status_code

    base = {f"roles__{u.id}": ["leerkracht"] for u in (other_teacher, grantee, colleague)}
    base[f"roles__{second.id}"] = ["schooladmin"]

    def people_post(mine, theirs):
        return post(clients["beheer.a"], people, {**base, f"roles__{admin.id}": mine,
                                                  f"roles__{grantee.id}": theirs})

    def opens(name):
        client = clients[name]
        return client.get(f"/dossiers/{dossier}").status_code

    def decide(name):
        with app.extensions["meldroute.db_sessions"]() as db:
            grant = db.scalar(select_pending(RoleGrant))
        return post(clients[name], f"/scholen/regenboog/instellingen/toekenningen/{grant}",
                    {"besluit": "bevestigen"})

    got = [
        (people_post(["schooladmin", "directeur"], ["leerkracht"]), opens("beheer.a")),
        (people_post(["schooladmin", "ib"], ["leerkracht"]), opens("beheer.a")),
        (people_post(["schooladmin"], ["leerkracht", "directeur"]), opens("juf.g")),
        (decide("beheer.a"), opens("juf.g")),
        (decide("juf.g"), opens("juf.g")),
        (decide("meester.x"), opens("juf.g")),
        (decide("beheer.b"), opens("juf.g")),
    ]
    want = [(status, after) for _name, status, after in GRANT_ROWS]
    assert got == want, [(row[0], g) for row, g in zip(GRANT_ROWS, got, strict=True)]


def select_pending(model: Any) -> Any:
    from sqlalchemy import select

    return select(model.id).where(model.status == "pending")


# --- the staff route (meldplicht): the bevoegd gezag and the opener, never the subject ------

STAFF_ROUTE_USERS = {  # name: roles at the demo school
    "opener": ("leerkracht",), "collega": ("leerkracht",), "ib": ("ib",),
    "zorgteam": ("zorgteam",), "directeur": ("directeur",),
    "bevoegd_gezag": ("bevoegd_gezag",), "aandachtsfunctionaris": ("aandachtsfunctionaris",),
    "schooladmin": ("schooladmin",), "subject": ("leerkracht", "ib", "directeur"),
}
STAFF_ROUTE_SEES = {"opener", "directeur", "bevoegd_gezag"}  # (directeur: the demo remap)
STAFF_ROUTE_ENDPOINTS = ["dossiers.show", "dossiers.step", "dossiers.step:post",
                         "dossiers.audit_log"]


def staff_route_expected(endpoint: str, name: str) -> int:
    if name not in STAFF_ROUTE_SEES:
        return 404
    if endpoint == "dossiers.audit_log":
        return 404 if name == "opener" else 200
    return 400 if endpoint.endswith(":post") else 200  # (an empty form is refused)


def test_staff_route_cells(app):
    registry = app.extensions["meldroute.registry"]
    users = {name: make_user(app, f"m-{name}", "regenboog", *roles)
             for name, roles in STAFF_ROUTE_USERS.items()}
    with app.extensions["meldroute.db_sessions"]() as db:
        from meldroute.webapp.models import User

        school = registry.school("regenboog")
        dossier = create_dossier(db, registry, school, db.get(User, users["opener"].id), "S.T.",
                                 "4", "Verzonnen Kind", app.config["CLOCK"](),
                                 protocol=registry.protocols["meldplicht-medewerker"],
                                 subject_id=users["subject"].id)
        db.commit()
        dossier_id = dossier.id
    wrong, cells = [], 0
    for name, user in users.items():
        client = app.test_client()
        sign_in_as(app, client, user.id, "regenboog")
        for endpoint in STAFF_ROUTE_ENDPOINTS:
            method, template = ROUTES[endpoint]
            url = template.format(d=dossier_id).replace("/stap/signaleren", "/stap/melden")
            if method == "POST":
                token = TOKEN.search(client.get("/account").get_data(as_text=True)).group(1)
                response = client.post(url, data={"csrf_token": token, "base_version": "0"})
            else:
                response = client.get(url)
            response.close()
            cells += 1
            if response.status_code != staff_route_expected(endpoint, name):
                wrong.append(f"{name} {method} {url}: {response.status_code}, expected "
                             f"{staff_route_expected(endpoint, name)}")
    assert not wrong, "\n".join(wrong)
    assert cells == len(STAFF_ROUTE_USERS) * len(STAFF_ROUTE_ENDPOINTS)
