"""Sign-in. Until accounts exist (a later issue) only the demo sign-in exists: one demo
user per role, offered only when the app runs in demo mode."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import User

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["meldroute.sessions"]()
    session_: Session = g.db
    return session_


@bp.before_app_request
def load_user() -> None:
    user_id = session.get("user_id")
    g.user = db().get(User, user_id) if isinstance(user_id, int) else None
    if g.user is not None and g.user.demo and not current_app.config["DEMO"]:
        g.user = None  # demo users only work in demo mode


def login_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("auth.login"))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@bp.route("/inloggen", methods=["GET", "POST"])
def login() -> Any:
    demo = current_app.config["DEMO"]
    users = db().scalars(select(User).where(User.demo.is_(True)).order_by(User.id)).all() \
        if demo else []
    if request.method == "POST":
        if not demo:
            abort(404)
        chosen = request.form.get("user", "")
        user = next((u for u in users if str(u.id) == chosen), None)
        if user is None:
            flash("Kies een van de demogebruikers.", "error")
            return render_template("login.html", users=users), 400
        session.clear()
        session["user_id"] = user.id
        current_app.logger.info("demo sign-in user=%s", user.id)
        return redirect(url_for("dossiers.overview"))
    return render_template("login.html", users=users)


@bp.route("/uitloggen", methods=["POST"])
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"))
