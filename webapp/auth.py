"""Sign-in (password + TOTP), sign-out, the account page, and the demo sign-in.

Every login, success or failure, is recorded (login attempts for throttling, the audit
trail for the record); a throttled attempt once a minute per key (security.py). The
session gets a fresh id after the password step and again after the code step; a code is
used with one conditional UPDATE (``security.claim_code``). Demo users (demo mode only)
sign in with one click.
"""

from __future__ import annotations

import datetime as dt
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
    url_for,
)
from flask import session as web_session
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from meldroute.forms.fields import DutchForm, add_error

from . import crypto, oidc, security
from .context import address, db, now, record, registry
from .models import User, WebSession
from .web_sessions import (
    current_session_id,
    current_web_session,
    end_web_session,
    end_web_sessions,
)

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])
PENDING_MINUTES = 5  # between password and code
THROTTLED = "Te veel mislukte pogingen. Wacht een paar minuten en probeer het opnieuw."


_WITH_ROLES = [joinedload(User.memberships)]  # built once (issue 13)


@bp.before_app_request
def load_user() -> None:
    g.user = None
    g.school_id = None
    user_id = getattr(web_session, "user_id", None)
    if user_id is None:
        return
    user = db().get(User, user_id, options=_WITH_ROLES)
    if user is None or not user.active or (user.demo and not current_app.config["DEMO"]):
        current_web_session().destroy()
        return
    g.user = user
    school = getattr(web_session, "school_id", None)
    g.school_id = school if school in user.schools else user.first_school


def signed_in_required(view: F) -> F:
    """Signed in (a board admin may belong to no school)."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("auth.login"))
        if g.user.must_change_password and request.endpoint != "auth.account":
            return redirect(url_for("auth.account"))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def login_required(view: F) -> F:
    """Signed in and working at a school."""
    @wraps(view)
    @signed_in_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.school_id is None:
            if g.user.boards:
                return redirect(url_for("board.home", board_id=g.user.boards[0]))
            if g.user.is_admin:
                return redirect(url_for("admin.users"))
            return render_template("error.html", title="Nog geen school", message=(
                "Je account heeft nog geen rol op een school. Een rol gaat in zodra iemand "
                "van de school die bevestigt (een beheerder, of wie er rollen bevestigt).")), 403
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """The platform admin: accounts, no school needed (and no dossiers)."""
    @wraps(view)
    @signed_in_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not g.user.is_admin:
            abort(404)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


class LoginForm(DutchForm):
    username = StringField("Gebruikersnaam", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Wachtwoord", validators=[DataRequired(), Length(max=256)])


class CodeForm(DutchForm):
    code = StringField("Code uit de authenticator-app", validators=[DataRequired(),
                                                                     Length(max=10)])


class PasswordForm(DutchForm):
    current = PasswordField("Huidig wachtwoord", validators=[DataRequired(), Length(max=256)])
    code = StringField("Code uit de authenticator-app", validators=[Length(max=10)])
    new = PasswordField("Nieuw wachtwoord", validators=[DataRequired(), Length(max=256)],
                        description="Minstens 12 tekens; een zin van een paar woorden werkt "
                                    "goed.")
    repeat = PasswordField("Nieuw wachtwoord (nogmaals)", validators=[
        DataRequired(), EqualTo("new", message="De wachtwoorden zijn niet gelijk.")])


def _complete_login(user: User) -> Any:
    via = web_session.get("via")  # signed in through a school's provider (oidc.py)
    provider_id, school = (via.get("provider"), via.get("school")) \
        if isinstance(via, dict) else (None, None)
    school = school if school in user.schools else user.first_school
    current_web_session().login(user.id, school, now())
    if provider_id:
        web_session["via"] = {"provider": provider_id}  # for the provider's logout
    record("login", user=user, school_id=school,
           detail=f"oidc {provider_id}" if provider_id else "")
    security.record_attempt(db(), user.username, address(), True,
                            "oidc" if provider_id else "totp", now())
    db().commit()
    current_app.logger.info("login user=%s", user.id)
    if user.must_change_password:
        return redirect(url_for("auth.account"))
    if not user.schools and user.boards:
        return redirect(url_for("board.home", board_id=user.boards[0]))
    return redirect(url_for("dossiers.overview"))


def _pending_user(key: str) -> User | None:
    pending = web_session.get(key)
    if not isinstance(pending, dict):
        return None
    started = dt.datetime.fromisoformat(pending.get("at", "1970-01-01T00:00:00+00:00"))
    if now() - started > dt.timedelta(minutes=PENDING_MINUTES):
        web_session.pop(key, None)
        return None
    user = db().get(User, pending.get("user"))
    return user if user is not None and user.active else None


def _refused(username: str, stage: str, user: User | None) -> bool:
    """Throttled: audited once a minute per key, flashed; True when refused."""
    why = security.throttled(db(), username, address(), now(), stage)
    if why is None:
        return False
    if security.record_throttled(db(), username, address(), why, now()):
        record("login", result="throttled", user=user, actor=None if user else username,
               detail=f"{stage} {why}")
    db().commit()
    flash(THROTTLED, "error")
    return True


def _password_step_done(user: User, via: dict[str, str] | None = None) -> Any:
    """The right password (or a provider's sign-in without its second factor): the
    session moves to the database under a fresh id, the code step comes next."""
    web_session = current_web_session()
    web_session.pop("via", None)
    if via is not None:
        web_session["via"] = via
    key = "totp_pending" if user.totp_secret else "enroll_pending"
    web_session[key] = {"user": user.id, "at": now().isoformat()}
    if not user.totp_secret:  # kept encrypted in the session row until enrolled
        web_session["enroll_secret"] = crypto.ring().encrypt(security.new_totp_secret())
    web_session.rotate()
    return redirect(url_for("auth.code" if user.totp_secret else "auth.enroll"))


def _enroll_secret() -> str | None:
    stored = web_session.get("enroll_secret")
    if not isinstance(stored, str):
        return None
    try:
        return crypto.ring().decrypt(stored)
    except crypto.KeyError_:
        return None


def oidc_signed_in(user: User, provider_id: str, school_id: str, mfa: bool) -> Any:
    """A provider vouched for ``user`` (oidc.py): done when it asserted more than one
    factor, else the account's own code (or setting it up) as after a password."""
    via = {"provider": provider_id, "school": school_id}
    if mfa:
        current_web_session()["via"] = via
        return _complete_login(user)
    record("oidc.login", result="totp", user=user, school_id=school_id,
           detail=f"{provider_id} user {user.id}")
    db().commit()
    return _password_step_done(user, via)


def login_page(status: int = 200, form: LoginForm | None = None) -> Any:
    """The sign-in page: the school providers' buttons (or picker), the password form."""
    demo_users = db().scalars(select(User).where(User.demo.is_(True)).order_by(User.id)
                              ).all() if current_app.config["DEMO"] else []
    return render_template("login.html", users=demo_users, form=form or LoginForm(None),
                           providers=oidc.show_form()), status


@bp.route("/inloggen", methods=["GET", "POST"])
def login() -> Any:
    demo = current_app.config["DEMO"]
    demo_users = db().scalars(select(User).where(User.demo.is_(True)).order_by(User.id)
                              ).all() if demo else []
    form = LoginForm(request.form if request.method == "POST" and "user" not in request.form
                     else None)
    if request.method == "POST" and "user" in request.form:  # the demo sign-in
        if not demo:
            abort(404)
        user = next((u for u in demo_users if str(u.id) == request.form["user"]), None)
        if user is None:
            flash("Kies een van de demogebruikers.", "error")
            return login_page(400, form)
        return _complete_login(user)
    if request.method == "POST":
        if not form.validate():
            return login_page(400, form)
        username = (form.username.data or "").strip().lower()
        if _refused(username, "password", None):
            return login_page(429, form)
        user = db().scalar(select(User).where(User.username == username))
        ok = security.verify_password(user, form.password.data or "") and user is not None and \
            user.active and not user.demo
        security.record_attempt(db(), username, address(), ok, "password", now())
        if not ok:
            record("login", result="failed", actor=username)
            db().commit()
            flash("Gebruikersnaam of wachtwoord onjuist.", "error")
            return login_page(401, form)
        db().commit()  # a rehashed password is kept
        assert user is not None
        return _password_step_done(user)
    return login_page(200, form)


@bp.route("/inloggen/code", methods=["GET", "POST"])
def code() -> Any:
    user = _pending_user("totp_pending")
    if user is None or not user.totp_secret:
        return redirect(url_for("auth.login"))
    form = CodeForm(request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        if _refused(user.username, "totp", user):
            return render_template("code.html", form=form), 429
        step = security.totp_step(user.totp_secret, form.code.data or "", now(),
                                  user.totp_last_step)
        if step is None or not security.claim_code(db(), user.id, step):
            security.record_attempt(db(), user.username, address(), False, "totp", now())
            record("login", result="failed", user=user, detail="totp")
            db().commit()
            add_error(form.code, "Deze code klopt niet of is al gebruikt.")
            return render_template("code.html", form=form), 401
        web_session.pop("totp_pending", None)
        return _complete_login(user)
    return render_template("code.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/inloggen/tweestapsverificatie", methods=["GET", "POST"])
def enroll() -> Any:
    user = _pending_user("enroll_pending")
    secret = _enroll_secret()
    if user is None or user.totp_secret or secret is None:
        return redirect(url_for("auth.login"))
    form = CodeForm(request.form if request.method == "POST" else None)
    uri = security.totp_uri(secret, user.username)
    shown = {"form": form, "secret": secret, "uri": uri, "qr": security.totp_qr(uri)}
    if request.method == "POST" and form.validate():
        step = security.totp_step(secret, form.code.data or "", now(), None)
        if step is None or not security.claim_code(db(), user.id, step):
            security.record_attempt(db(), user.username, address(), False, "totp", now())
            record("totp.enroll", result="failed", user=user)
            db().commit()
            add_error(form.code, "Deze code klopt niet. Controleer de tijd op je telefoon.")
            return render_template("enroll.html", **shown), 400
        user.totp_secret = secret
        record("totp.enroll", user=user)
        web_session.pop("enroll_pending", None)
        web_session.pop("enroll_secret", None)
        return _complete_login(user)
    return render_template("enroll.html", **shown)


@bp.route("/uitloggen", methods=["POST"])
def logout() -> Any:
    via = web_session.get("via")
    if g.user is not None:
        record("logout")
        db().commit()
    current_web_session().destroy()
    # signed in through a school's provider: offer its logout too (its end-session endpoint)
    elsewhere = oidc.end_session_url(via.get("provider")) if isinstance(via, dict) else None
    if elsewhere is not None:
        return render_template("logged_out.html", provider=elsewhere[0], url=elsewhere[1])
    return redirect(url_for("auth.login"))


@bp.route("/school", methods=["POST"])
@login_required
def switch_school() -> Any:
    """Work in another of the user's schools (a user may belong to several)."""
    wanted = request.form.get("school", "")
    if wanted not in g.user.schools:
        record("school.switch", result="denied", detail=wanted[:40])
        db().commit()
        abort(404)
    current_web_session().school_id = wanted
    web_session.modified = True
    record("school.switch", school_id=wanted)
    db().commit()
    return redirect(url_for("dossiers.overview"))


def _sessions(user: User) -> list[dict[str, Any]]:
    """The user's web sessions for the account page, the current one first."""
    current = current_session_id()
    rows = db().scalars(select(WebSession).where(WebSession.user_id == user.id)
                        .order_by(WebSession.last_seen_at.desc())).all()
    shown = [{"id": row.id, "current": row.id == current, "agent": row.agent or "onbekend",
              "address": row.address or "onbekend", "since": row.created_at,
              "last_seen": row.last_seen_at} for row in rows]
    return sorted(shown, key=lambda item: not item["current"])


def _end_sessions(user: User, action: str) -> Any:
    """End one other session of the user (``end:<id>``), or all others (``end-others``)."""
    current = current_session_id()
    if action == "end-others":
        rows = db().scalars(select(WebSession.id).where(WebSession.user_id == user.id)).all()
        ended = sum(end_web_session(db(), user.id, row) for row in rows if row != current)
    else:
        wanted = action.removeprefix("end:")
        ended = int(wanted != current and end_web_session(db(), user.id, wanted))
    record("session.end", result="ok" if ended else "none", detail=f"{ended} sessie(s)")
    db().commit()
    flash(f"{ended} andere sessie(s) beëindigd." if ended else
          "Die sessie bestaat niet (meer).", "ok" if ended else "error")
    return redirect(url_for("auth.account"))


def _account_page(form: PasswordForm, status: int = 200) -> Any:
    return render_template("account.html", form=form, sessions=_sessions(g.user)), status


@bp.route("/account", methods=["GET", "POST"])
@signed_in_required
def account() -> Any:
    user: User = g.user
    action = request.form.get("action", "") if request.method == "POST" else ""
    if action.startswith("end"):
        return _end_sessions(user, action)
    form = PasswordForm(request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        # re-authentication: the current password and, with 2FA, a fresh code
        if security.throttled(db(), user.username, address(), now(), "reauth"):
            flash(THROTTLED, "error")
            return _account_page(form, 429)
        ok = security.verify_password(user, form.current.data or "")
        step = None
        if ok and user.totp_secret:
            step = security.totp_step(user.totp_secret, form.code.data or "", now(),
                                      user.totp_last_step)
            ok = step is not None
        if not ok:
            security.record_attempt(db(), user.username, address(), False, "reauth", now())
            record("password.change", result="failed")
            db().commit()
            add_error(form.current, "Het wachtwoord of de code klopt niet.")
            return _account_page(form, 401)
        names = [s.name for s in (registry().school(i) for i in user.schools) if s]
        problems = security.password_problems(form.new.data or "", names, user.username)
        if problems:
            for problem in problems:
                add_error(form.new, problem)
            return _account_page(form, 400)
        if step is not None and not security.claim_code(db(), user.id, step):
            add_error(form.code, "Deze code is al gebruikt.")
            return _account_page(form, 401)
        user.password_hash = security.hash_password(form.new.data or "")
        user.must_change_password = False
        end_web_sessions(db(), user.id)
        record("password.change")
        db().commit()
        current_web_session().login(user.id, g.school_id, now())
        flash("Je wachtwoord is gewijzigd; andere sessies zijn beëindigd.", "ok")
        return redirect(url_for("dossiers.overview"))
    return _account_page(form, 400 if request.method == "POST" else 200)
