"""The admin page: accounts (add, disable, reset, end sessions). Admins only."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from meldroute.engine import resolve_role
from meldroute.forms.fields import DutchForm, SelectChoice, add_error

from . import security
from .auth import admin_required
from .context import db, record, registry
from .models import Membership, User
from .registry import Registry
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
        DataRequired(), Length(max=64),
        Regexp(r"^[a-z0-9._-]+$", message="Kleine letters, cijfers, punt, streepje.")])
    display_name = StringField("Naam", validators=[DataRequired(), Length(max=200)])
    membership = SelectField("School en rol", validators=[DataRequired()])
    password = PasswordField("Tijdelijk wachtwoord", validators=[DataRequired(),
                                                                 Length(max=256)],
                             description="De gebruiker kiest bij de eerste keer inloggen een "
                                         "eigen wachtwoord en stelt tweestapsverificatie in.")


@bp.route("/gebruikers", methods=["GET", "POST"])
@admin_required
def users() -> Any:
    app_registry = registry()
    form = UserForm(request.form if request.method == "POST" else None)
    form.membership.choices = role_choices(app_registry)
    if request.method == "POST":
        problems: list[str] = []
        if form.validate():
            school_id, role = form.membership.data.split(":", 1)
            school = app_registry.school(school_id)
            problems = security.password_problems(form.password.data or "",
                                                  [school.name] if school else [],
                                                  form.username.data or "")
            if db().scalar(select(User).where(User.username == form.username.data)):
                add_error(form.username, "Deze gebruikersnaam bestaat al.")
            for problem in problems:
                add_error(form.password, problem)
            if not form.errors:
                user = User(username=form.username.data, display_name=form.display_name.data,
                            password_hash=security.hash_password(form.password.data or ""),
                            must_change_password=True)
                user.memberships.append(Membership(school_id=school_id, role=role))
                db().add(user)
                db().flush()
                record("user.add", detail=f"user {user.id} {school_id}:{role}")
                db().commit()
                flash(f"Gebruiker {user.username} is aangemaakt.", "ok")
                return redirect(url_for("admin.users"))
        return render_template("admin_users.html", form=form, users=_all_users()), 400
    record("user.list")
    db().commit()
    return render_template("admin_users.html", form=form, users=_all_users())


def _all_users() -> list[User]:
    return list(db().scalars(select(User).where(User.demo.is_(False)).order_by(User.username)))


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
    flash(f"{user.username} is {'weer actief' if user.active else 'geblokkeerd'}"
          f"{f'; {ended} sessie(s) beëindigd' if ended else ''}.", "ok")
    return redirect(url_for("admin.users"))


@bp.route("/gebruikers/<int:user_id>/sessies-beeindigen", methods=["POST"])
@admin_required
def end_user_sessions(user_id: int) -> Any:
    user = _user(user_id)
    ended = end_web_sessions(db(), user.id)
    record("sessions.end", detail=f"user {user.id}: {ended}")
    db().commit()
    flash(f"{ended} sessie(s) van {user.username} beëindigd.", "ok")
    return redirect(url_for("admin.users"))


@bp.route("/gebruikers/<int:user_id>/herstel", methods=["POST"])
@admin_required
def reset(user_id: int) -> Any:
    """A new temporary password and a fresh 2FA enrolment; every session ends."""
    user = _user(user_id)
    temporary = "-".join(secrets.token_urlsafe(4) for _ in range(4))
    user.password_hash = security.hash_password(temporary)
    user.must_change_password = True
    user.totp_secret = None
    user.totp_last_step = None
    end_web_sessions(db(), user.id)
    record("user.reset", detail=f"user {user.id}")
    db().commit()
    return render_template("admin_reset.html", user=user, temporary=temporary)
