"""The school-admin forms, built from the school-configuration JSON Schema and the
school's protocol, and where a refused change's problems are shown on them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from wtforms import RadioField, SelectField, StringField
from wtforms.validators import Optional

from meldroute.engine import Problem, Protocol, SchoolConfig, resolve_role
from meldroute.forms.fields import CheckboxListField, DutchForm, SelectChoice

from . import schemaforms
from .models import User

REASON_MAX = 300


class ReasonForm(DutchForm):
    reason = StringField("Reden van de wijziging", validators=[Optional()])


def reason_too_long(form: Any) -> bool:
    """A reason over the limit is refused with a message next to it (never cut off)."""
    length = len(form.reason.data or "")
    if length > REASON_MAX:
        form.reason.errors = [*form.reason.errors, f"Dit is te lang: {length} tekens, er "
                              f"passen er maximaal {REASON_MAX}."]
        return True
    return False


ContactForm = schemaforms.form_class(schemaforms.contact_schema(), "ContactForm", {
    "reason": ReasonForm.reason})
NewContactForm = schemaforms.form_class(schemaforms.contact_schema(), "NewContactForm", {
    "key": StringField("Sleutel (kleine letters, bv. wijkagent)", render_kw={"maxlength": 40}),
    "reason": ReasonForm.reason})


def place_key_problem(form: Any, message: str, key: str) -> bool:
    """Put a problem with a new contact's key next to the key field."""
    if "sleutel" in message or (key and f"'{key}'" in message and "contact" in message):
        form.key.errors = [*form.key.errors, message]
        return True
    return False


def roles_form_class(protocol: Protocol, data: Mapping[str, Any],
                     routes: Sequence[Protocol] = ()) -> Any:
    """Names per role, a new role, and the remappings (one empty row to add one); with
    several routes (``routes``, the main one first) each remapping names its route."""
    routes = list(routes) or [protocol]
    spec = schemaforms.role_schema()["properties"]["name"]
    names = {r.id: r.name for p in reversed(routes) for r in p.roles.values()}
    roles = list(dict.fromkeys([*(r for p in routes for r in p.roles), *data.get("roles", {})]))
    steps: dict[str, str] = {}  # every route's steps (the main route's first)
    for route in routes:
        for step in route.steps:
            steps.setdefault(step.id, f"{step.number}. {step.title}")
    attrs: dict[str, Any] = {}
    for role in roles:
        known = names.get(role, role)
        attrs[f"name__{role}"] = StringField(
            f"{spec.get('title', 'Naam')}: {known}",
            render_kw={"maxlength": spec.get("maxLength", 200)})
    attrs["new_role"] = StringField("Nieuwe rol (sleutel, bv. aandachtsfunctionaris)",
                                    render_kw={"maxlength": 40})
    attrs["new_role_name"] = StringField("Naam van de nieuwe rol", render_kw={"maxlength": 200})
    remap_spec = schemaforms.school_schema()["properties"]["remap"]["items"]["properties"]
    role_choices = [SelectChoice("", "—")] + [SelectChoice(r, r) for r in roles]
    for i in range(len(data.get("remap", [])) + 1):
        if len(routes) > 1:
            attrs[f"remap_{i}_protocol"] = SelectField(
                remap_spec["protocol"]["title"], validate_choice=False,
                choices=[SelectChoice(p.id, p.title) for p in routes])
        attrs[f"remap_{i}_role"] = SelectField(remap_spec["role"]["title"],
                                               choices=list(role_choices), validate_choice=False)
        attrs[f"remap_{i}_to"] = SelectField(remap_spec["to"]["title"],
                                             choices=list(role_choices), validate_choice=False)
        attrs[f"remap_{i}_steps"] = CheckboxListField(
            remap_spec["steps"]["title"], validate_choice=False,
            choices=[SelectChoice(sid, label) for sid, label in steps.items()])
    attrs["reason"] = ReasonForm.reason
    form_class = type("RolesForm", (DutchForm,), attrs)
    form_class.roles = roles  # type: ignore[attr-defined]
    form_class.main_route = routes[0].id  # type: ignore[attr-defined]
    form_class.remap_rows = len(data.get("remap", [])) + 1  # type: ignore[attr-defined]
    return form_class


def roles_initial(form_class: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """The roles form filled in from the school's effective configuration."""
    initial: dict[str, Any] = {}
    for role in form_class.roles:
        initial[f"name__{role}"] = data.get("roles", {}).get(role, {}).get("name", "")
    for i, rule in enumerate(data.get("remap", [])):
        initial[f"remap_{i}_protocol"] = rule.get("protocol", form_class.main_route)
        initial[f"remap_{i}_role"] = rule["role"]
        initial[f"remap_{i}_to"] = rule["to"]
        initial[f"remap_{i}_steps"] = rule.get("steps", [])
    return initial


def roles_from_form(form: Any, board_roles: Mapping[str, Any]
                    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The school's own role names (where they differ from the board's) and remappings."""
    names = {}
    for role in form.roles:
        value = (form[f"name__{role}"].data or "").strip()
        if value and value != board_roles.get(role, {}).get("name"):
            names[role] = {"name": value}  # the school's own word for the role
    new_role = (form.new_role.data or "").strip()
    if new_role:
        names[new_role] = {"name": (form.new_role_name.data or "").strip()}
    remap = []
    for i in range(form.remap_rows):
        role, to = form[f"remap_{i}_role"].data, form[f"remap_{i}_to"].data
        if role or to:
            rule: dict[str, Any] = {"role": role or "", "to": to or ""}
            route = form[f"remap_{i}_protocol"].data if f"remap_{i}_protocol" in form else None
            if route and route != form.main_route:  # (the main route: no ``protocol``)
                rule = {"protocol": route, **rule}
            if form[f"remap_{i}_steps"].data:
                rule["steps"] = list(form[f"remap_{i}_steps"].data)
            remap.append(rule)
    return names, remap


def place_role_problems(form: Any, problems: Iterable[Problem]) -> list[str]:
    """Each problem next to its field on the roles form; the messages that have none."""
    rest = []
    for p in problems:
        where, message = p.where, schemaforms.plain_message(p.message)
        if len(where) >= 3 and where[0] == "remap" and isinstance(where[1], int):
            name = f"remap_{where[1]}_{where[2]}"
            if name in form._fields:
                form[name].errors = [*form[name].errors, message]
                continue
        if len(where) >= 2 and where[0] == "roles" and f"name__{where[1]}" in form._fields:
            form[f"name__{where[1]}"].errors = [message]
            continue
        if len(where) >= 2 and where[0] == "roles":
            form.new_role.errors = [*form.new_role.errors, message]
            continue
        rest.append(message)
    return rest


def people_form_class(protocol: Protocol, school: SchoolConfig, roles: Iterable[str],
                      members: Iterable[User]) -> Any:
    """One list of role boxes per account of the school."""
    choices = [SelectChoice(r, "schoolbeheerder" if r == "schooladmin"
                            else resolve_role(protocol, school, r, None).name) for r in roles]
    return type("PeopleForm", (DutchForm,), {
        f"roles__{u.id}": CheckboxListField(u.display_name, choices=list(choices))
        for u in members})


def tryout_form_class(protocol: Protocol) -> Any:
    """The weighing questions, each optional."""
    attrs: dict[str, Any] = {}
    for q in protocol.questions.values():
        attrs[q.id] = RadioField(q.label, description=q.text, validators=[Optional()],
                                 choices=[SelectChoice("", "niet beantwoord")] + [
                                     SelectChoice(a, protocol.answer_labels[a])
                                     for a in q.answers])
    return type("TryForm", (DutchForm,), attrs)
