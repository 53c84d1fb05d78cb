"""The school-admin section: contacts, roles, version history and the try-it panel.

For the school's ``schooladmin`` and for the ``bestuursadmin`` of its board. Every save
is checked by the school-configuration JSON Schema and the semantic checks of
``meldroute check``; an invalid change is refused with the message next to the field and
nothing is stored. Every save is a new version; older versions stay readable.

The pages are here; their forms, and where a problem's message goes, are in
``schooladmin_forms.py``; the rule that a change must not leave a step without anyone to
do it is in ``staffing.py``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import or_, select, update

from meldroute.engine import (
    Problem,
    SchoolConfig,
    data_document,
    evaluate,
    followed_protocols,
    resolve_contact,
    resolve_role,
)

from . import reset, schemaforms, school_configs
from .access import confirming_roles, coordinating_roles, guarded_roles
from .auth import signed_in_required
from .changes import config_changes
from .context import db, forget_schools, now, record, registry, today
from .filters import dutch_date
from .models import Membership, OidcLink, RoleGrant, School, User
from .schooladmin_forms import (
    ContactForm,
    NewContactForm,
    people_form_class,
    place_key_problem,
    place_role_problems,
    reason_too_long,
    roles_form_class,
    roles_from_form,
    roles_initial,
    tryout_form_class,
)
from .staffing import (
    apply_grant,
    may_confirm,
    pending_grants,
    request_grant,
    role_change_detail,
    role_holders,
    unheld_remap_targets,
    unstaffed_steps,
    who_confirms,
)
from .web_sessions import end_web_sessions

bp = Blueprint("settings", __name__, url_prefix="/scholen/<school_id>/instellingen")


def can_admin(user: User, school_id: str) -> bool:
    if "schooladmin" in user.roles_at(school_id):
        return True
    if not user.boards:  # no board to administer it through: no need to look it up
        return False
    school = db().get(School, school_id)
    return bool(school and school.board_id and school.board_id in user.boards)


def _guard(school_id: str) -> tuple[SchoolConfig, school_configs.Effective]:
    """The school if this user administers it; otherwise 404, recorded as denied."""
    if not can_admin(g.user, school_id):
        record("school.config.read", result="denied", school_id=None, detail=school_id[:40])
        db().commit()
        abort(404)
    school = registry().school(school_id)
    found = school_configs.effective(db(), school_id)
    if school is None or found is None:
        abort(404)
    return school, found


def _own(school_id: str) -> dict[str, Any]:
    return school_configs.data_of(school_configs.latest(db(), school_configs.SCHOOL,
                                                        school_id))


def _board(school_id: str) -> dict[str, Any]:
    school = db().get(School, school_id)
    if school is None or not school.board_id:
        return {}
    return school_configs.data_of(school_configs.latest(db(), school_configs.BOARD,
                                                        school.board_id))


def _save(school_id: str, data: dict[str, Any], reason: str) -> list[Problem]:
    """Check and store a new version; the problems when it is refused (nothing stored)."""
    problems = school_configs.check_school(db(), registry().protocols,
                                           data_document(data, f"{school_id}.yaml"))
    problems += _unstaffed_steps(school_id, data)
    if problems:
        record("school.config", result="rejected", school_id=school_id)
        db().commit()
        return problems
    version = school_configs.save(db(), school_configs.SCHOOL, school_id, data,
                                  g.user.username, reason or "gewijzigd")
    record("school.config", school_id=school_id, detail=f"versie {version.version}")
    db().commit()
    forget_schools()
    return []


def _unstaffed_steps(school_id: str, data: dict[str, Any]) -> list[Problem]:
    holders = role_holders(db(), school_id)
    if not holders:  # a school without accounts yet
        return []
    merged = school_configs.merge(data, _board(school_id))[0]
    return unstaffed_steps(registry().protocols, followed_protocols(data)[0], school_id,
                           merged, holders)


@bp.route("")
@signed_in_required
def overview(school_id: str) -> Any:
    school, found = _guard(school_id)
    protocol = registry().protocol_for(school)
    routes = registry().protocols_for(school)  # every route's contacts and roles
    keys = list(dict.fromkeys([*(k for p in routes for k in p.contacts),
                               *found.data.get("contacts", {})]))
    contacts = [(k, resolve_contact(_route_of(routes, "contacts", k), school, k),
                 found.data.get("contacts", {}).get(k)) for k in keys]
    roles = list(dict.fromkeys([*(r for p in routes for r in p.roles), *school.roles]))
    record("school.config.read", school_id=school_id)
    db().commit()
    return render_template("settings/overview.html", school=school, found=found,
                           contacts=contacts, roles=roles, protocol=protocol, routes={
                               p.id: p for p in routes}, role_names={
                               r: _route_of(routes, "roles", r).roles[r].name
                               for r in roles if any(r in p.roles for p in routes)},
                           origins=found.origins,
                           author=_author_names([found.school_version]).get(
                               found.school_version.author, found.school_version.author))


@bp.route("/contacten/<key>", methods=["GET", "POST"])
@signed_in_required
def contact(school_id: str, key: str) -> Any:
    school, found = _guard(school_id)
    protocol = _route_of(registry().protocols_for(school), "contacts", key)
    new = key == "nieuw"
    form_class: Any = NewContactForm if new else ContactForm  # generated from the schema
    own = _own(school_id)
    current = {**found.data.get("contacts", {}).get(key, {})} if not new else {}
    if request.method == "GET":
        form = form_class(data=current)
        return render_template("settings/contact.html", school=school, form=form, key=key,
                               new=new, origins=found.origins, problems=[],
                               fallback=protocol.contacts.get(key))
    form = form_class(request.form)
    target = (form.key.data or "").strip() if new else key
    fields = schemaforms.values(form)
    contacts = dict(own.get("contacts", {}))
    if new and (target in contacts or target in found.data.get("contacts", {})):
        form.key.errors = ["Dit contact bestaat al."]
        return render_template("settings/contact.html", school=school, form=form, key=key,
                               new=new, origins=found.origins, problems=[],
                               fallback=None), 400
    if reason_too_long(form):
        return render_template("settings/contact.html", school=school, form=form, key=key,
                               new=new, origins=found.origins, problems=[],
                               fallback=protocol.contacts.get(key)), 400
    if key == "veilig_thuis" and "phone" not in fields:
        # Veilig Thuis cannot be removed: without a number the national one is used
        fields.setdefault("name", "Veilig Thuis")
    contacts[target or "?"] = fields
    problems = _save(school_id, {**own, "contacts": contacts}, form.reason.data or "")
    if problems:
        rest = schemaforms.place_errors(form, problems, ("contacts", target or "?"))
        if new:
            rest = [m for m in rest if not place_key_problem(form, m, target)]
        return render_template("settings/contact.html", school=school, form=form, key=key,
                               new=new, origins=found.origins, problems=rest,
                               fallback=protocol.contacts.get(key)), 400
    flash("Contact opgeslagen (nieuwe versie).", "ok")
    return redirect(url_for("settings.overview", school_id=school_id))


@bp.route("/contacten/<key>/verwijderen", methods=["GET", "POST"])
@signed_in_required
def remove_contact(school_id: str, key: str) -> Any:
    """GET: what removing the contact means, with a confirm button; POST: remove it."""
    school, found = _guard(school_id)
    own = _own(school_id)
    if key == "veilig_thuis" or key not in own.get("contacts", {}):
        flash("Dit contact kan niet worden verwijderd (Veilig Thuis kan alleen worden "
              "gewijzigd; een contact van het bestuur wijzigt het bestuur).", "error")
        return redirect(url_for("settings.overview", school_id=school_id)), 409
    contact = own["contacts"][key]
    if request.method == "GET":
        inherited = found.origins.get(("contacts", key, "name")) == "bestuur"
        return render_template(
            "settings/confirm.html", school=school, title=f"Contact {contact.get('name', key)}"
            " verwijderen", back=url_for("settings.overview", school_id=school_id),
            button="Ja, verwijder dit contact", items=[
                f"{contact.get('name', key)} verdwijnt uit de contacten van {school.name}"
                + (" (het contact van het bestuur blijft)." if inherited else "."),
                "Dossiers die dit contact noemen, laten het voortaan niet meer zien.",
                "De huidige instellingen blijven bewaard als versie: je kunt die versie "
                "later herstellen onder Versies."])
    contacts = {k: v for k, v in own["contacts"].items() if k != key}
    problems = _save(school_id, {**own, "contacts": contacts},
                     f"contact {contact.get('name', key)} verwijderd")
    for p in problems:
        flash(schemaforms.plain_message(p.message), "error")
    if not problems:
        flash("Contact verwijderd (nieuwe versie).", "ok")
    return redirect(url_for("settings.overview", school_id=school_id))


@bp.route("/rollen", methods=["GET", "POST"])
@signed_in_required
def roles(school_id: str) -> Any:
    school, found = _guard(school_id)
    protocol = registry().protocol_for(school)
    form_class = roles_form_class(protocol, found.data, registry().protocols_for(school))
    people = _people(school_id)
    if request.method == "GET":
        form = form_class(data=roles_initial(form_class, found.data))
        return render_template("settings/roles.html", school=school, form=form,
                               protocol=protocol, people=people, problems=[])
    form = form_class(request.form)
    if reason_too_long(form):
        return render_template("settings/roles.html", school=school, form=form,
                               protocol=protocol, people=people, problems=[]), 400
    names, remap = roles_from_form(form, _board(school_id).get("roles", {}))
    own = _own(school_id)
    data = {**own, "roles": names} if names else {k: v for k, v in own.items() if k != "roles"}
    if remap:
        data["remap"] = remap
    else:
        data.pop("remap", None)
    if _widens_access(protocol, school, remap, known={*protocol.roles, *school.roles, *names}):
        record("school.config", result="refused", school_id=school_id, detail="remap")
        db().commit()
        return render_template("settings/roles.html", school=school, form=form,
                               protocol=protocol, people=people, problems=[
                                   "Een rol die in elke stap de rol overneemt van wie alle "
                                   "dossiers opent of rollen bevestigt, opent alle dossiers "
                                   "van de school of bevestigt rollen. "
                                   "Dat kan niet via deze pagina: kies de stappen waarin de "
                                   "rol wordt overgenomen, of laat het bestuur de "
                                   "configuratie invoeren (meldroute school import), zodat "
                                   "een tweede persoon de wijziging ziet."]), 400
    problems = _save(school_id, data, form.reason.data or "")
    if problems:
        return render_template("settings/roles.html", school=school, form=form,
                               protocol=protocol, people=people,
                               problems=place_role_problems(form, problems)), 400
    flash("Rollen opgeslagen (nieuwe versie).", "ok")
    return redirect(url_for("settings.overview", school_id=school_id))


def _route_of(routes: list[Any], section: str, key: str) -> Any:
    """The first of the school's routes that knows this contact or role (else the main)."""
    return next((p for p in routes if key in getattr(p, section)), routes[0])


def _widens_access(protocol: Any, school: SchoolConfig, remap: list[dict[str, Any]],
                   known: set[str]) -> bool:
    """Would this remapping make a (known) role open every dossier of a route that does
    not now (a remap of a coordinating role in every step)? Nobody widens that alone on
    this page; an unknown role is refused when the configuration is checked."""
    for route in registry().protocols_for(school):
        # (a role that confirms grants is guarded as one that opens every dossier)
        opening = {r.id for r in route.roles.values() if r.access == "all" or r.confirms_grants}
        after = {r["to"] for r in remap if r.get("protocol", school.protocol) == route.id
                 and r.get("role") in opening and not r.get("steps") and r["to"] in known}
        if after - coordinating_roles(route, school) - confirming_roles([route], school) \
                - opening:
            return True
    return False


@bp.route("/mensen", methods=["GET", "POST"])
@signed_in_required
def people(school_id: str) -> Any:
    """Who holds which role at this school (the school's accounts). Nobody gives
    themselves a dossier-opening role; given to someone else, it (like the school admin
    role, whose holders confirm such grants) waits for a second person (``grants``)."""
    school, found = _guard(school_id)
    protocol = registry().protocol_for(school)
    roles = list(dict.fromkeys([*protocol.roles, *school.roles, "schooladmin"]))
    # (and who signed in through the school's provider without a role yet: oidc.py)
    members = list(db().scalars(select(User).where(User.demo.is_(False), or_(
        User.id.in_(select(Membership.user_id).where(Membership.school_id == school_id)),
        User.id.in_(select(OidcLink.user_id).where(OidcLink.school_id == school_id))))
        .order_by(User.display_name, User.id)))
    form_class = people_form_class(protocol, school, roles, members)
    if request.method == "GET":
        form = form_class(data={f"roles__{u.id}": u.roles_at(school_id) for u in members})
        return _people_page(school, form, [])
    form = form_class(request.form)
    problems: list[str] = []
    if not form.validate():
        problems.append("Kies alleen rollen uit de lijst.")
    wanted = {u.id: set(form[f"roles__{u.id}"].data or []) for u in members}
    # dossier-opening roles, and the roles that confirm them (school admin, confirms_grants),
    # wait
    routes = registry().protocols_for(school)
    guarded = guarded_roles(routes, school) | {"schooladmin"}
    waiting = {u.id: (wanted[u.id] - set(u.roles_at(school_id))) & guarded for u in members}
    problems += _people_problems(school_id, found, members, wanted, waiting)
    if problems:
        return _people_page(school, form, problems, 400)
    leaving = [u for u in members if u.roles_at(school_id) and not wanted[u.id]]
    if leaving and request.form.get("bevestigd") != "ja":
        return render_template("settings/people_confirm.html", school=school,
                               leaving=leaving, fields=list(request.form.items(multi=True)))
    now_given = {uid: held - waiting[uid] for uid, held in wanted.items()}
    _set_memberships(school_id, members, now_given)
    for user in members:
        if waiting[user.id]:
            grant = request_grant(db(), user.id, school_id, waiting[user.id], g.user.id)
            record("school.grant", result="pending", school_id=school_id,
                   detail=f"grant {grant.id} " + role_change_detail(
                       user.id, now_given[user.id], now_given[user.id] | waiting[user.id]))
    db().commit()
    flash("Wie welke rol heeft is opgeslagen." + (
        " Een rol waarmee iemand alle dossiers opent (of schoolbeheerder wordt), gaat pas "
        f"in als {confirmers_at(school_id, 'een andere beheerder')} die bevestigt."
        if any(waiting.values()) else ""), "ok")
    return redirect(url_for("settings.people", school_id=school_id))


def _people_problems(school_id: str, found: school_configs.Effective, members: list[User],
                     wanted: dict[int, set[str]], waiting: dict[int, set[str]]) -> list[str]:
    problems = []
    if "schooladmin" not in wanted.get(g.user.id, {"schooladmin"}):
        problems.append("Je kunt je eigen rol als schoolbeheerder niet weghalen.")
    if waiting.get(g.user.id):
        problems.append("Je kunt jezelf geen rol geven waarmee je alle dossiers van de school "
                        f"opent. Vraag {confirmers_at(school_id, 'een andere beheerder')}.")
    holders = {r for uid, held in wanted.items() for r in held - waiting[uid]} | role_holders(
        db(), school_id, leave_out={u.id for u in members})
    problems += unheld_remap_targets(found.data.get("remap", []), holders)
    return problems


def _people_page(school: SchoolConfig, form: Any, problems: list[str], status: int = 200
                 ) -> Any:
    grants = pending_grants(db(), school.id)
    administers, confirming = can_admin(g.user, school.id), confirming_at(school.id)
    return render_template("settings/people.html", school=school, form=form,
                           problems=problems, grants=grants,
                           confirmable={gr.id for gr in grants
                                        if may_confirm(g.user, gr, administers, confirming)},
                           role_name=_role_namer(school),
                           confirmers=confirmers_at(school.id, "een andere beheerder")), status


def _role_namer(school: SchoolConfig) -> Any:
    protocol = registry().protocol_for(school)

    def name(role: str) -> str:
        return "schoolbeheerder" if role == "schooladmin" else resolve_role(
            protocol, school, role, None).name
    return name


def _set_memberships(school_id: str, members: list[User], wanted: dict[int, set[str]]
                     ) -> None:
    """Apply the changes; each person's change audited with their roles before -> after."""
    for user in members:
        before = set(user.roles_at(school_id))
        if before == wanted[user.id]:
            continue
        for membership in list(user.memberships):
            if membership.school_id == school_id and membership.role not in wanted[user.id]:
                db().delete(membership)
        for role in wanted[user.id] - before:
            db().add(Membership(user_id=user.id, school_id=school_id, role=role))
        record("school.people", school_id=school_id,
               detail=role_change_detail(user.id, before, wanted[user.id]))


def confirming_at(school_id: str) -> frozenset[str]:
    """The roles whose holders confirm grants at the school (``confirms_grants``)."""
    school = registry().school(school_id)
    return confirming_roles(registry().protocols_for(school), school) if school \
        else frozenset()


def confirmers_at(school_id: str, admin: str) -> str:
    """Who confirms a grant at the school, in words (``staffing.who_confirms``)."""
    school = registry().school(school_id)
    if school is None:
        return admin
    routes = registry().protocols_for(school)

    def name(role: str) -> str:  # its own name, not that of a role a remap lets play it
        spec = next((p.roles[role] for p in routes if role in p.roles), None)
        return school.roles.get(role) or (spec.name if spec else role)
    return who_confirms((name(role) for role in confirming_roles(routes, school)), admin)


def may_confirm_at(user: User, school_id: str) -> bool:
    """Who confirms a grant that waits for a second person: the school's admins and the
    holders of its confirming roles (the directeur in the Meldcode)."""
    return can_admin(user, school_id) or bool(confirming_at(school_id)
                                              & set(user.roles_at(school_id)))


@bp.route("/toekenningen", methods=["GET"])
@signed_in_required
def grants(school_id: str) -> Any:
    """The grants that wait for a second person (for the school's admins and director)."""
    school = registry().school(school_id)
    if school is None or not may_confirm_at(g.user, school_id):
        record("school.grant", result="denied", school_id=None, detail=school_id[:40])
        db().commit()
        abort(404)
    found = pending_grants(db(), school_id)
    administers, confirming = can_admin(g.user, school_id), confirming_at(school_id)
    return render_template("settings/grants.html", school=school, grants=found,
                           confirmable={gr.id for gr in found
                                        if may_confirm(g.user, gr, administers, confirming)},
                           role_name=_role_namer(school),
                           confirmers=confirmers_at(school_id, "een andere beheerder"))


@bp.route("/toekenningen/<int:grant_id>", methods=["POST"])
@signed_in_required
def decide_grant(school_id: str, grant_id: int) -> Any:
    """Confirm or refuse a grant (or a reset); never one's own, never one for oneself."""
    grant = db().get(RoleGrant, grant_id)
    if grant is None or grant.school_id != school_id or not may_confirm_at(g.user, school_id):
        record("school.grant", result="denied", school_id=None, detail=f"grant {grant_id}")
        db().commit()
        abort(404)
    back = redirect(url_for("settings.grants", school_id=school_id))
    if not may_confirm(g.user, grant, can_admin(g.user, school_id), confirming_at(school_id)):
        record("school.grant", result="refused", school_id=school_id,
               detail=f"grant {grant.id}: not by the asker or for oneself")
        db().commit()
        flash("Dit kun je niet bevestigen: een tweede persoon (niet wie het vroeg en niet "
              "wie de rol krijgt) beslist.", "error")
        return back, 403
    confirmed = request.form.get("besluit") == "bevestigen"
    decided = db().execute(update(RoleGrant).where(  # once, even when two decide at once
        RoleGrant.id == grant.id, RoleGrant.status == "pending").values(
        status="confirmed" if confirmed else "refused", decided_by_id=g.user.id,
        decided_at=now()))
    if decided.rowcount != 1:  # type: ignore[attr-defined]
        db().rollback()
        flash("Hierover is al beslist.", "error")
        return back, 409
    link = None
    if not confirmed:
        record("school.grant", result="refused", school_id=school_id,
               detail=f"grant {grant.id} user {grant.user_id}")
    elif grant.kind == "reset":
        link = reset.deliver(db(), grant.user, g.user.id)
        end_web_sessions(db(), grant.user_id)
        record("user.reset", school_id=school_id,
               detail=f"grant {grant.id} user {grant.user_id}")
    else:
        before, after = apply_grant(db(), grant)
        record("school.people", school_id=school_id,
               detail=f"grant {grant.id} " + role_change_detail(grant.user_id, before, after))
    db().commit()
    if link is not None:
        return render_template("admin_reset.html", user=grant.user, link=link,
                               back=url_for("settings.grants", school_id=school_id))
    flash("Bevestigd." if confirmed else "Geweigerd; er is niets veranderd.", "ok")
    return back


def _people(school_id: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    rows = db().execute(select(Membership.role, User.display_name).join(User).where(
        Membership.school_id == school_id, User.active.is_(True))).all()
    for role, name in rows:
        found.setdefault(role, []).append(name)
    return found


@bp.route("/versies")
@signed_in_required
def history(school_id: str) -> Any:
    school, found = _guard(school_id)
    all_versions = school_configs.versions(db(), school_configs.SCHOOL, school_id)
    numbers = [v.version for v in all_versions]
    try:
        a = int(request.args.get("a", numbers[1] if len(numbers) > 1 else numbers[0]))
        b = int(request.args.get("b", numbers[0]))
    except ValueError:
        abort(400)
    by_number = {v.version: v for v in all_versions}
    if a not in by_number or b not in by_number:
        abort(404)
    changes = config_changes(school_configs.data_of(by_number[a]),
                             school_configs.data_of(by_number[b]),
                             _step_words(school))
    record("school.config.read", school_id=school_id, detail=f"versies {a}-{b}")
    db().commit()
    return render_template("settings/history.html", school=school, versions=all_versions,
                           changes=changes, a=a, b=b, names=_author_names(all_versions))


def _step_words(school: SchoolConfig) -> dict[str, str]:
    protocol = registry().protocol_for(school)
    return {s.id: f"stap {s.number} ({s.title})" for s in protocol.steps}


def _author_names(found: list[Any]) -> dict[str, str]:
    """Display names of the authors of configuration versions (stored as usernames)."""
    usernames = {v.author for v in found}
    return dict(db().execute(select(User.username, User.display_name).where(
        User.username.in_(usernames))).all()) if usernames else {}


@bp.route("/versies/<int:version>/herstellen", methods=["GET", "POST"])
@signed_in_required
def restore(school_id: str, version: int) -> Any:
    """GET: what restoring the version changes, with a confirm button; POST: restore it."""
    school, _found = _guard(school_id)
    all_versions = school_configs.versions(db(), school_configs.SCHOOL, school_id)
    old = next((v for v in all_versions if v.version == version), None)
    if old is None:
        abort(404)
    data = school_configs.data_of(old)
    board = _own(school_id).get("board")  # which board owns the school is not restored
    data = {k: v for k, v in data.items() if k != "board"}
    if board:
        data["board"] = board
    if request.method == "GET":
        changes = config_changes(_own(school_id), data, _step_words(school))
        return render_template(
            "settings/confirm.html", school=school, title=f"Versie {version} herstellen",
            back=url_for("settings.history", school_id=school_id), changes=changes,
            button=f"Ja, herstel versie {version}", items=[
                f"De instellingen worden weer zoals in versie {version} "
                f"({dutch_date(old.created_at)}).",
                "Dat wordt een nieuwe versie; de huidige versie blijft bewaard."])
    problems = _save(school_id, data, f"versie {version} hersteld")
    for p in problems:
        flash(f"Versie {version} kan niet worden hersteld: "
              f"{schemaforms.plain_message(p.message)}", "error")
    if not problems:
        flash(f"Versie {version} is hersteld (als nieuwe versie).", "ok")
    return redirect(url_for("settings.history", school_id=school_id))


@bp.route("/proefdossier", methods=["GET", "POST"])
@signed_in_required
def tryout(school_id: str) -> Any:
    """Answers to the weighing questions, evaluated with this school's configuration as it
    is now (on the app's clock); nothing is stored."""
    school, found = _guard(school_id)
    protocol = registry().protocol_for(school)
    form = tryout_form_class(protocol)(request.form if request.method == "POST" else None)
    evaluation = None
    if request.method == "POST" and form.validate():
        answers = {q: form[q].data for q in protocol.questions if form[q].data}
        evaluation = evaluate(protocol, school, answers, today())
        record("school.tryout", school_id=school_id)
        db().commit()
    return render_template("settings/tryout.html", school=school, form=form, e=evaluation,
                           protocol=protocol), (400 if request.method == "POST"
                                                and evaluation is None else 200)
