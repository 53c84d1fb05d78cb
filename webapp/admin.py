"""The admin page: accounts (add, disable, reset, end sessions). Platform admins only.

The platform admin manages accounts and nothing else: being one opens no dossier, and a
role the admin gives at a school waits until that school confirms it (a school admin or
the director there, ``settings.grants``). A reset makes a one-time link (``reset.py``),
mailed to the account or shown once here; resetting an account that opens every dossier
of its school waits for that school's confirmation too.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from meldroute.engine import resolve_role
from meldroute.forms.fields import DutchForm, SelectChoice, add_error

from . import reset as reset_links
from . import security
from .access import guarded_roles
from .auth import admin_required
from .context import db, record, registry
from .models import Membership, RoleGrant, User
from .registry import Registry
from .schooladmin import confirmers_at
from .staffing import request_grant
from .web_sessions import end_web_sessions

bp = Blueprint("admin", __name__, url_prefix="/beheer")


def role_choices(registry: Registry) -> list[SelectChoice]:
    choices = []
    for school in registry.schools.values():
        protocol = registry.protocol_for(school)
        for role in dict.fromkeys([*protocol.roles, *school.roles]):
            name = resolve_role(protocol, school, role, None).name
            choices.append(SelectChoice(f"{school.id}:{role}", f"{school.name}: {name}"))
    return choices


class UserForm(DutchForm):
    username = StringField("Gebruikersnaam", validators=[
        DataRequired(), Length(max=security.USERNAME_MAX),
        Regexp(security.whole(security.USERNAME),
               message="Kleine letters, cijfers, punt, streepje.")])
    display_name = StringField("Naam", validators=[DataRequired(),
                                                  Length(max=security.NAME_MAX)])
    email = StringField("E-mailadres", validators=[
        Optional(), Length(max=security.EMAIL_MAX),
        Regexp(security.whole(security.EMAIL), message="Geen geldig e-mailadres.")],
        description="Hierheen gaat de link om een wachtwoord in te stellen (als de mail "
                    "is ingesteld).")
    membership = SelectField("School en rol", validators=[DataRequired()],
                             description="Gaat pas in als de school het bevestigt (een "
                                         "schoolbeheerder daar, of wie er rollen "
                                         "bevestigt).")


def membership_label(membership: Membership) -> str:
    """A role in words: 'Basisschool X: directeur', 'bestuur Y: bestuursbeheerder'."""
    if membership.board_id:
        return f"bestuur {membership.board_id}: bestuursbeheerder"
    return role_label(membership.school_id or "", membership.role)


def school_label(school_id: str) -> str:
    school = registry().school(school_id)
    return school.name if school is not None else school_id


def role_label(school_id: str, role: str) -> str:
    school = registry().school(school_id)
    if school is None:
        return f"{school_id}: {role}"
    name = "schoolbeheerder" if role == "schooladmin" else resolve_role(
        registry().protocol_for(school), school, role, None).name
    return f"{school.name}: {name}"


def _page(form: UserForm, status: int = 200) -> Any:
    pending = db().scalars(select(RoleGrant).where(RoleGrant.status == "pending")).all()
    waiting: dict[int, list[str]] = {}
    for grant in pending:
        waiting.setdefault(grant.user_id, []).extend(
            [f"nieuw wachtwoord ({school_label(grant.school_id)})"]
            if grant.kind == "reset" else
            [role_label(grant.school_id, r) for r in grant.role_list])
    return render_template("admin_users.html", form=form, users=_all_users(),
                           waiting=waiting, label=membership_label), status


@bp.route("/gebruikers", methods=["GET", "POST"])
@admin_required
def users() -> Any:
    form = UserForm(request.form if request.method == "POST" else None)
    form.membership.choices = role_choices(registry())
    if request.method == "GET":
        record("user.list")
        db().commit()
        return _page(form)
    if form.validate() and db().scalar(select(User).where(
            User.username == form.username.data)):
        add_error(form.username, "Deze gebruikersnaam bestaat al.")
    if form.errors:
        return _page(form, 400)
    school_id, role = form.membership.data.split(":", 1)
    user = User(username=form.username.data, display_name=form.display_name.data,
                email=(form.email.data or "").strip() or None, password_hash=None)
    db().add(user)
    db().flush()
    grant = request_grant(db(), user.id, school_id, [role], g.user.id)
    record("user.add", school_id=school_id, detail=f"user {user.id}")
    record("school.grant", result="pending", school_id=school_id,
           detail=f"grant {grant.id} user {user.id}: - -> {role}")
    link = reset_links.deliver(db(), user, g.user.id)
    db().commit()
    if link is not None:
        return render_template("admin_reset.html", user=user, link=link, new=True,
                               back=url_for("admin.users"),
                               confirmers=confirmers_at(school_id, "een schoolbeheerder"))
    flash(f"Het account van {user.display_name} is aangemaakt; de link om een wachtwoord "
          "in te stellen is gemaild. De rol gaat in als de school die bevestigt.", "ok")
    return redirect(url_for("admin.users"))


def _all_users() -> list[User]:
    return list(db().scalars(select(User).where(User.demo.is_(False))
                             .order_by(User.display_name, User.id)))


def _user(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None or user.demo:
        abort(404)
    return user


@bp.route("/gebruikers/<int:user_id>/actief", methods=["POST"])
@admin_required
def toggle_active(user_id: int) -> Any:
    user = _user(user_id)
    user.active = not user.active
    ended = 0 if user.active else end_web_sessions(db(), user.id)
    record("user.enable" if user.active else "user.disable", detail=f"user {user.id}")
    db().commit()
    flash(f"{user.display_name} is {'weer actief' if user.active else 'geblokkeerd'}"
          f"{f'; {ended} sessie(s) beëindigd' if ended else ''}.", "ok")
    return redirect(url_for("admin.users"))


@bp.route("/gebruikers/<int:user_id>/sessies-beeindigen", methods=["POST"])
@admin_required
def end_user_sessions(user_id: int) -> Any:
    user = _user(user_id)
    ended = end_web_sessions(db(), user.id)
    record("sessions.end", detail=f"user {user.id}: {ended}")
    db().commit()
    flash(f"{ended} sessie(s) van {user.display_name} beëindigd.", "ok")
    return redirect(url_for("admin.users"))


def opening_school(user: User) -> str | None:
    """A school where ``user`` holds a role that opens every dossier, or confirms grants
    (None: none)."""
    for school_id in user.schools:
        school = registry().school(school_id)
        routes = registry().protocols_for(school) if school is not None else []
        if school is not None and set(user.roles_at(school_id)) & guarded_roles(routes, school):
            return school_id
    return None


@bp.route("/gebruikers/<int:user_id>/herstel", methods=["POST"])
@admin_required
def reset(user_id: int) -> Any:
    """A one-time link to set a new password and enrol 2FA again; every session ends.
    For an account that opens every dossier of a school, that school confirms first."""
    user = _user(user_id)
    school_id = opening_school(user)
    if school_id is not None:
        grant = request_grant(db(), user.id, school_id, [], g.user.id, kind="reset")
        record("user.reset", result="pending", school_id=school_id,
               detail=f"grant {grant.id} user {user.id}")
        db().commit()
        flash(f"{user.display_name} opent alle dossiers van de school: het herstel gaat pas "
              f"door als {confirmers_at(school_id, 'een schoolbeheerder')} daar het "
              "bevestigt.", "ok")
        return redirect(url_for("admin.users"))
    link = reset_links.deliver(db(), user, g.user.id)
    end_web_sessions(db(), user.id)
    record("user.reset", detail=f"user {user.id}")
    db().commit()
    if link is None:
        flash(f"De link om een nieuw wachtwoord in te stellen is gemaild naar "
              f"{user.display_name}.", "ok")
        return redirect(url_for("admin.users"))
    return render_template("admin_reset.html", user=user, link=link,
                           back=url_for("admin.users"))
