"""Reset links: a one-time link, valid for a day, with which a user sets a new password
and then enrols two-step verification again.

The link is the only copy of its token: the database keeps its SHA-256. It is mailed to
the account's e-mail address when mail is set up (``MELDROUTE_SMTP_HOST``, optionally
``MELDROUTE_SMTP_PORT``, ``MELDROUTE_SMTP_USER``/``MELDROUTE_SMTP_PASSWORD`` with
STARTTLS, ``MELDROUTE_MAIL_FROM``); otherwise it is shown once to whoever made it, to
pass on in person. A new link ends the earlier ones; using it ends every session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import smtplib
from email.message import EmailMessage
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from meldroute.forms.fields import add_error

from . import mail, security
from .auth import PasswordForm
from .context import db, now, record, registry
from .models import ResetToken, User
from .web_sessions import end_web_sessions

bp = Blueprint("reset", __name__)
RESET_HOURS = 24


class ResetForm(PasswordForm):
    """The account page's new-password fields (same policy), without re-authentication:
    the link is the proof."""

    current = None  # type: ignore[assignment]
    code = None  # type: ignore[assignment]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def issue(db_session: Session, user: User, created_by_id: int | None,
          moment: dt.datetime) -> str:
    """A new link's token for ``user`` (earlier unused links stop working)."""
    db_session.execute(update(ResetToken).where(
        ResetToken.user_id == user.id, ResetToken.used_at.is_(None)).values(used_at=moment))
    token = secrets.token_urlsafe(32)
    db_session.add(ResetToken(token_hash=_hash(token), user_id=user.id,
                              created_by_id=created_by_id, created_at=moment,
                              expires_at=moment + dt.timedelta(hours=RESET_HOURS)))
    return token


def smtp_host() -> str:
    return str(current_app.config.get("SMTP_HOST") or os.environ.get("MELDROUTE_SMTP_HOST", ""))


def send_link(user: User, link: str) -> bool:
    """Mail the link to the account's address; False when there is no mail or no address
    (or the mail server refused), so that the link is shown instead. Mail as set up in
    ``mail`` (``MELDROUTE_SMTP_URL``, or the older ``MELDROUTE_SMTP_HOST``)."""
    try:
        config = mail.settings(legacy_host=smtp_host())
    except mail.MailSettingError as exc:
        current_app.logger.warning("reset mail not sent user=%s: %s", user.id, exc)
        return False
    if config is None or not user.email:
        return False
    message = EmailMessage()
    message["Subject"] = "Meldroute: nieuw wachtwoord instellen"
    message["To"] = user.email
    message.set_content(
        f"Beste {user.display_name},\n\nMet deze link stel je een nieuw wachtwoord in en "
        f"daarna opnieuw tweestapsverificatie. De link werkt één keer en {RESET_HOURS} uur "
        f"lang:\n\n{link}\n\nHeb je hier niet om gevraagd? Neem contact op met de "
        "beheerder.\n")
    try:
        mail.send(config, [message])
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.warning("reset mail not sent user=%s: %s", user.id,
                                   exc.__class__.__name__)
        return False
    return True


def deliver(db_session: Session, user: User, created_by_id: int | None) -> str | None:
    """Issue a link and mail it; the link itself when it could not be mailed (to be shown
    once to the one who made it)."""
    link = url_for("reset.set_password", token=issue(db_session, user, created_by_id, now()),
                   _external=True)
    return None if send_link(user, link) else link


def _valid(token: str) -> ResetToken | None:
    found = db().scalar(select(ResetToken).where(ResetToken.token_hash == _hash(token)))
    if found is None or found.used_at is not None or _utc(found.expires_at) <= now():
        return None
    user = db().get(User, found.user_id)
    return found if user is not None and user.active and not user.demo else None


@bp.route("/wachtwoord-herstellen/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Any:
    found = _valid(token[:100])
    if found is None:
        return render_template("reset.html", form=None), 404
    user = db().get(User, found.user_id)
    assert user is not None
    form = ResetForm(request.form if request.method == "POST" else None)
    if request.method == "GET" or not form.validate():
        return render_template("reset.html", form=form, user=user), (
            400 if request.method == "POST" else 200)
    names = [s.name for s in (registry().school(i) for i in user.schools) if s]
    problems = security.password_problems(form.new.data or "", names, user.username)
    for problem in problems:
        add_error(form.new, problem)
    if problems:
        return render_template("reset.html", form=form, user=user), 400
    used = db().execute(update(ResetToken).where(  # one use, even when sent twice at once
        ResetToken.id == found.id, ResetToken.used_at.is_(None)).values(used_at=now()))
    if used.rowcount != 1:  # type: ignore[attr-defined]
        db().rollback()
        return render_template("reset.html", form=None), 404
    user.password_hash = security.hash_password(form.new.data or "")
    user.must_change_password = False
    user.totp_secret, user.totp_last_step = None, None  # enrolled again at sign-in
    end_web_sessions(db(), user.id)
    record("password.reset", user=user, school_id=user.first_school)
    db().commit()
    flash("Je nieuwe wachtwoord is ingesteld. Log in; daarna stel je "
          "tweestapsverificatie opnieuw in.", "ok")
    return redirect(url_for("auth.login"))
