"""The school-admin section: contacts, roles, version history and the try-it panel.

For the school's ``schooladmin`` and for the ``bestuursadmin`` of its board. Every save
is checked by the school-configuration JSON Schema and the semantic checks of
``meldroute check``; an invalid change is refused with the message next to the field and
nothing is stored. Every save is a new version; older versions stay readable.
"""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import select
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from meldroute.engine import Problem, data_document, evaluate
from meldroute.engine.model import SchoolConfig, resolve_contact, resolve_role
from meldroute.forms.fields import CheckboxListField, DutchForm

from . import configs, schemaforms
from .auth import db, record, signed_in_required
from .models import Membership, School, User
from .registry import Registry

bp = Blueprint("settings", __name__, url_prefix="/scholen/<school_id>/instellingen")
REASON_MAX = 300


def registry() -> Registry:
    found: Registry = current_app.extensions["meldroute.registry"]
    return found


def can_admin(user: User, school_id: str) -> bool:
    if "schooladmin" in user.roles_at(school_id):
        return True
    school = db().get(School, school_id)
    return bool(school and school.board_id and school.board_id in user.boards)


def _guard(school_id: str) -> tuple[SchoolConfig, configs.Effective]:
    """The school if this user administers it; otherwise 404, recorded as denied."""
    if not can_admin(g.user, school_id):
        record("school.config.read", result="denied", school_id=None, detail=school_id[:40])
        db().commit()
        abort(404)
    school = registry().school(school_id)
    found = configs.effective(db(), school_id)
    if school is None or found is None:
        abort(404)
    return school, found


def _own(school_id: str) -> dict[str, Any]:
    return configs.data_of(configs.latest(db(), configs.SCHOOL, school_id))


def _board(school_id: str) -> dict[str, Any]:
    school = db().get(School, school_id)
    if school is None or not school.board_id:
        return {}
    return configs.data_of(configs.latest(db(), configs.BOARD, school.board_id))


def _save(school_id: str, data: dict[str, Any], reason: str) -> list[Problem]:
    """Check and store a new version; the problems when it is refused (nothing stored)."""
    problems = configs.check_school(db(), registry().protocols,
                                    data_document(data, f"{school_id}.yaml"))
    problems += _unstaffed_steps(school_id, data)
    if problems:
        record("school.config", result="rejected", school_id=school_id)
        db().commit()
        return problems
    version = configs.save(db(), configs.SCHOOL, school_id, data, g.user.username,
                           reason or "gewijzigd")
    record("school.config", school_id=school_id, detail=f"versie {version.version}")
    db().commit()
    g.pop("meldroute_schools", None)  # the registry's per-request look-ups are stale now
    return []


def _unstaffed_steps(school_id: str, data: dict[str, Any]) -> list[Problem]:
    """A remapping must not leave a step without anyone to do it (when the school has
    accounts at all)."""
    holders = _role_holders(school_id)
    if not holders:
        return []
    protocol = registry().protocols[data.get("protocol", "meldcode-onderwijs")]
    merged = configs.merge(data, _board(school_id))[0]
    problems = []
    for i, rule in enumerate(merged.get("remap", [])):
        if rule["to"] not in holders:
            steps = rule.get("steps") or [s.id for s in protocol.steps]
            titles = ", ".join(f"{protocol.step(s).number} ({protocol.step(s).title})"
                               for s in steps if s in protocol.steps_by_id)
            problems.append(Problem(
                f"{school_id}.yaml", 1, 1,
                f"Niemand op school heeft de rol '{rule['to']}': stap {titles} zou dan "
                "zonder verantwoordelijke zijn.", "references", where=("remap", i, "to")))
    return problems


def _role_holders(school_id: str, leave_out: set[int] | frozenset[int] = frozenset()
                  ) -> set[str]:
    """The roles someone at the school holds (leaving out the given users)."""
    return {m.role for m in db().scalars(select(Membership).where(
        Membership.school_id == school_id)) if m.user_id not in leave_out}


class ReasonForm(DutchForm):
    reason = StringField("Reden van de wijziging", validators=[Optional()],
                         render_kw={"maxlength": REASON_MAX})


@bp.route("")
@signed_in_required
def overview(school_id: str) -> Any:
    school, found = _guard(school_id)
    protocol = registry().protocol_for(school)
    keys = list(dict.fromkeys([*protocol.contacts, *found.data.get("contacts", {})]))
    contacts = [(k, resolve_contact(protocol, school, k), found.data.get("contacts", {}).get(k))
                for k in keys]
    roles = list(dict.fromkeys([*protocol.roles, *school.roles]))
    record("school.config.read", school_id=school_id)
    db().commit()
    return render_template("settings/overview.html", school=school, found=found,
                           contacts=contacts, roles=roles, protocol=protocol,
                           origins=found.origins)


ContactForm = schemaforms.form_class(schemaforms.contact_schema(), "ContactForm", {
    "reason": ReasonForm.reason})
NewContactForm = schemaforms.form_class(schemaforms.contact_schema(), "NewContactForm", {
    "key": StringField("Sleutel (kleine letters, bv. wijkagent)", render_kw={"maxlength": 40}),
    "reason": ReasonForm.reason})


@bp.route("/contacten/<key>", methods=["GET", "POST"])
@signed_in_required
def contact(school_id: str, key: str) -> Any:
    school, found = _guard(school_id)
    protocol = registry().protocol_for(school)
    new = key == "nieuw"
    form_class = NewContactForm if new else ContactForm
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
    if key == "veilig_thuis" and "phone" not in fields:
        # Veilig Thuis cannot be removed: without a number the national one is used
        fields.setdefault("name", "Veilig Thuis")
    contacts[target or "?"] = fields
    problems = _save(school_id, {**own, "contacts": contacts}, form.reason.data or "")
    if problems:
        rest = schemaforms.place_errors(form, problems, ("contacts", target or "?"))
        if new:
            rest = [m for m in rest if not _key_problem(form, m, target)]
        return render_template("settings/contact.html", school=school, form=form, key=key,
                               new=new, origins=found.origins, problems=rest,
                               fallback=protocol.contacts.get(key)), 400
    flash("Contact opgeslagen (nieuwe versie).", "ok")
    return redirect(url_for("settings.overview", school_id=school_id))


def _key_problem(form: Any, message: str, key: str) -> bool:
    if "sleutel" in message or (key and f"'{key}'" in message and "contact" in message):
        form.key.errors = [*form.key.errors, message]
        return True
    return False


@bp.route("/contacten/<key>/verwijderen", methods=["POST"])
@signed_in_required
def remove_contact(school_id: str, key: str) -> Any:
    school, found = _guard(school_id)
    own = _own(school_id)
    if key == "veilig_thuis" or key not in own.get("contacts", {}):
        flash("Dit contact kan niet worden verwijderd (Veilig Thuis kan alleen worden "
              "gewijzigd; een contact van het bestuur wijzigt het bestuur).", "error")
        return redirect(url_for("settings.overview", school_id=school_id)), 409
    contacts = {k: v for k, v in own["contacts"].items() if k != key}
    problems = _save(school_id, {**own, "contacts": contacts}, f"contact {key} verwijderd")
    for p in problems:
        flash(p.message, "error")
    if not problems:
        flash("Contact verwijderd (nieuwe versie).", "ok")
    return redirect(url_for("settings.overview", school_id=school_id))


def _roles_form(school: SchoolConfig, protocol: Any, data: dict[str, Any]) -> Any:
    spec = schemaforms.role_schema()["properties"]["name"]
    roles = list(dict.fromkeys([*protocol.roles, *data.get("roles", {})]))
    attrs: dict[str, Any] = {}
    for role in roles:
        known = protocol.roles[role].name if role in protocol.roles else role
        attrs[f"name__{role}"] = StringField(
            f"{spec.get('title', 'Naam')}: {known}",
            render_kw={"maxlength": spec.get("maxLength", 200)})
    attrs["new_role"] = StringField("Nieuwe rol (sleutel, bv. aandachtsfunctionaris)",
                                    render_kw={"maxlength": 40})
    attrs["new_role_name"] = StringField("Naam van de nieuwe rol", render_kw={"maxlength": 200})
    remap_spec = schemaforms.school_schema()["properties"]["remap"]["items"]["properties"]
    role_choices = [SelectChoice("", "—")] + [SelectChoice(r, r) for r in roles]
    for i in range(len(data.get("remap", [])) + 1):
        attrs[f"remap_{i}_role"] = SelectField(remap_spec["role"]["title"],
                                               choices=list(role_choices), validate_choice=False)
        attrs[f"remap_{i}_to"] = SelectField(remap_spec["to"]["title"],
                                             choices=list(role_choices), validate_choice=False)
        attrs[f"remap_{i}_steps"] = CheckboxListField(
            remap_spec["steps"]["title"], validate_choice=False,
            choices=[SelectChoice(s.id, f"{s.number}. {s.title}") for s in protocol.steps])
    attrs["reason"] = ReasonForm.reason
    form_class = type("RolesForm", (DutchForm,), attrs)
    form_class.roles = roles  # type: ignore[attr-defined]
    form_class.remap_rows = len(data.get("remap", [])) + 1  # type: ignore[attr-defined]
    return form_class


@bp.route("/rollen", methods=["GET", "POST"])
@signed_in_required
def roles(school_id: str) -> Any:
    school, found = _guard(school_id)
    protocol = registry().protocol_for(school)
    own = _own(school_id)
    form_class = _roles_form(school, protocol, found.data)
    people = _people(school_id)
    if request.method == "GET":
        initial: dict[str, Any] = {}
        for role in form_class.roles:
            initial[f"name__{role}"] = found.data.get("roles", {}).get(role, {}).get("name", "")
        for i, rule in enumerate(found.data.get("remap", [])):
            initial[f"remap_{i}_role"] = rule["role"]
            initial[f"remap_{i}_to"] = rule["to"]
            initial[f"remap_{i}_steps"] = rule.get("steps", [])
        form = form_class(data=initial)
        return render_template("settings/roles.html", school=school, form=form,
                               protocol=protocol, people=people, problems=[])
    form = form_class(request.form)
    board_roles = _board(school_id).get("roles", {})
    names = {}
    for role in form_class.roles:
        value = (form[f"name__{role}"].data or "").strip()
        if value and value != board_roles.get(role, {}).get("name"):
            names[role] = {"name": value}  # the school's own word for the role
    new_role = (form.new_role.data or "").strip()
    if new_role:
        names[new_role] = {"name": (form.new_role_name.data or "").strip()}
    remap = []
    for i in range(form_class.remap_rows):
        role, to = form[f"remap_{i}_role"].data, form[f"remap_{i}_to"].data
        if role or to:
            rule: dict[str, Any] = {"role": role or "", "to": to or ""}
            if form[f"remap_{i}_steps"].data:
                rule["steps"] = list(form[f"remap_{i}_steps"].data)
            remap.append(rule)
    data = {**own, "roles": names} if names else {k: v for k, v in own.items() if k != "roles"}
    if remap:
        data["remap"] = remap
    else:
        data.pop("remap", None)
    problems = _save(school_id, data, form.reason.data or "")
    if problems:
        rest = []
        for p in problems:
            where = p.where
            if len(where) >= 3 and where[0] == "remap" and isinstance(where[1], int):
                name = f"remap_{where[1]}_{where[2]}"
                if name in form._fields:
                    form[name].errors = [*form[name].errors, p.message]
                    continue
            if len(where) >= 2 and where[0] == "roles" and f"name__{where[1]}" in form._fields:
                form[f"name__{where[1]}"].errors = [p.message]
                continue
            if len(where) >= 2 and where[0] == "roles":
                form.new_role.errors = [*form.new_role.errors, p.message]
                continue
            rest.append(p.message)
        return render_template("settings/roles.html", school=school, form=form,
                               protocol=protocol, people=people, problems=rest), 400
    flash("Rollen opgeslagen (nieuwe versie).", "ok")
    return redirect(url_for("settings.overview", school_id=school_id))


@bp.route("/mensen", methods=["GET", "POST"])
@signed_in_required
def people(school_id: str) -> Any:
    """Who holds which role at this school (the school's accounts)."""
    school, found = _guard(school_id)
    protocol = registry().protocol_for(school)
    roles = list(dict.fromkeys([*protocol.roles, *school.roles, "schooladmin"]))
    members = list(db().scalars(select(User).join(Membership).where(
        Membership.school_id == school_id, User.demo.is_(False)).distinct()
        .order_by(User.username)))
    choices = [SelectChoice(r, "schoolbeheerder" if r == "schooladmin"
                            else resolve_role(protocol, school, r, None).name) for r in roles]
    form_class = type("PeopleForm", (DutchForm,), {
        f"roles__{u.id}": CheckboxListField(u.display_name, choices=list(choices))
        for u in members})
    if request.method == "GET":
        form = form_class(data={f"roles__{u.id}": u.roles_at(school_id) for u in members})
        return render_template("settings/people.html", school=school, form=form,
                               problems=[])
    form = form_class(request.form)
    problems: list[str] = []
    if not form.validate():
        problems.append("Kies alleen rollen uit de lijst.")
    wanted = {u.id: set(form[f"roles__{u.id}"].data or []) for u in members}
    if "schooladmin" not in wanted.get(g.user.id, {"schooladmin"}):
        problems.append("U kunt uw eigen rol als schoolbeheerder niet weghalen.")
    holders = {r for held in wanted.values() for r in held} | _role_holders(
        school_id, leave_out={u.id for u in members})
    for rule in found.data.get("remap", []):
        if rule["to"] not in holders:
            problems.append(f"Niemand zou dan de rol '{rule['to']}' hebben, die in de route "
                            f"de rol '{rule['role']}' overneemt.")
    if problems:
        return render_template("settings/people.html", school=school, form=form,
                               problems=problems), 400
    for user in members:
        for membership in list(user.memberships):
            if membership.school_id == school_id and membership.role not in wanted[user.id]:
                db().delete(membership)
        for role in wanted[user.id] - set(user.roles_at(school_id)):
            db().add(Membership(user_id=user.id, school_id=school_id, role=role))
    record("school.people", school_id=school_id)
    db().commit()
    flash("Wie welke rol heeft is opgeslagen.", "ok")
    return redirect(url_for("settings.people", school_id=school_id))


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
    all_versions = configs.versions(db(), configs.SCHOOL, school_id)
    numbers = [v.version for v in all_versions]
    diff = None
    try:
        a = int(request.args.get("a", numbers[1] if len(numbers) > 1 else numbers[0]))
        b = int(request.args.get("b", numbers[0]))
    except ValueError:
        abort(400)
    by_number = {v.version: v for v in all_versions}
    if a not in by_number or b not in by_number:
        abort(404)
    left = configs.export_yaml(configs.data_of(by_number[a])).splitlines()
    right = configs.export_yaml(configs.data_of(by_number[b])).splitlines()
    diff = Markup(difflib.HtmlDiff(wrapcolumn=60).make_table(  # noqa: S704 - escaped by difflib
        left, right, f"versie {a}", f"versie {b}", context=True, numlines=2))
    record("school.config.read", school_id=school_id, detail=f"versies {a}-{b}")
    db().commit()
    return render_template("settings/history.html", school=school, versions=all_versions,
                           diff=diff, a=a, b=b)


@bp.route("/versies/<int:version>/herstellen", methods=["POST"])
@signed_in_required
def restore(school_id: str, version: int) -> Any:
    _guard(school_id)
    old = next((v for v in configs.versions(db(), configs.SCHOOL, school_id)
                if v.version == version), None)
    if old is None:
        abort(404)
    data = configs.data_of(old)
    board = _own(school_id).get("board")  # which board owns the school is not restored
    data = {k: v for k, v in data.items() if k != "board"}
    if board:
        data["board"] = board
    problems = _save(school_id, data, f"versie {version} hersteld")
    for p in problems:
        flash(f"Versie {version} kan niet worden hersteld: {p.message}", "error")
    if not problems:
        flash(f"Versie {version} is hersteld (als nieuwe versie).", "ok")
    return redirect(url_for("settings.history", school_id=school_id))


@bp.route("/proefdossier", methods=["GET", "POST"])
@signed_in_required
def tryout(school_id: str) -> Any:
    """Answers to the weighing questions, evaluated with this school's configuration as it
    is now; nothing is stored."""
    school, found = _guard(school_id)
    protocol = registry().protocol_for(school)
    attrs: dict[str, Any] = {}
    for q in protocol.questions.values():
        attrs[q.id] = RadioField(q.label, description=q.text, validators=[Optional()],
                                 choices=[SelectChoice("", "niet beantwoord")] + [
                                     SelectChoice(a, protocol.answer_labels[a])
                                     for a in q.answers])
    form = type("TryForm", (DutchForm,), attrs)(request.form if request.method == "POST"
                                                else None)
    evaluation = None
    if request.method == "POST" and form.validate():
        answers = {q: form[q].data for q in protocol.questions if form[q].data}
        evaluation = evaluate(protocol, school, answers, dt.date.today())
        record("school.tryout", school_id=school_id)
        db().commit()
    return render_template("settings/tryout.html", school=school, form=form, e=evaluation,
                           protocol=protocol), (400 if request.method == "POST"
                                                and evaluation is None else 200)

