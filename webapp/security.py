"""Passwords (Argon2id), their policy, TOTP codes, and login throttling.

Policy (OWASP ASVS 2.1): at least 12 characters, no composition rules, not one of the
30,000 common passwords that zxcvbn ships, not the school's name, and a zxcvbn score of
at least 3 with the school's name, the username and the app's own words as known words.
Throttling counts failures in the database, so it holds across worker processes and
machines.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from typing import Any

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    ColumnElement,
    CursorResult,
    and_,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from .models import LoginAttempt, User

# a username and an e-mail address as the admin page and ``meldroute user add`` take them:
# the whole value (``re.fullmatch``, or ``whole``: Python's ``$`` also matches before a
# final line break, so ``"piet\n"`` would pass ``^...$``)
USERNAME = r"[a-z0-9._-]+"
USERNAME_MAX = 64
EMAIL = r"[^@\s?&]+@[^@\s?&]+\.[^@\s?&]+"
EMAIL_MAX = 254
NAME_MAX = 200  # the name others see


def whole(pattern: str) -> str:
    """``pattern`` for the whole value, for ``re.match`` (WTForms' ``Regexp``)."""
    return rf"^(?:{pattern})\Z"


def valid_email(email: str) -> bool:
    """Whether ``email`` is an account's e-mail address (the whole value, not too long)."""
    return len(email) <= EMAIL_MAX and re.fullmatch(EMAIL, email) is not None


def account_problems(username: str, email: str | None, name: str | None = None
                     ) -> list[str]:
    """What is wrong with a new account's username, e-mail address and name (Dutch)."""
    problems = []
    if name is not None and (not name.strip() or len(name) > NAME_MAX):
        problems.append(f"naam: verplicht, hoogstens {NAME_MAX} tekens")
    if len(username) > USERNAME_MAX or not re.fullmatch(USERNAME, username):
        problems.append("gebruikersnaam: alleen kleine letters, cijfers, punt, streepje "
                        f"(hoogstens {USERNAME_MAX} tekens)")
    if email is not None and not valid_email(email):
        problems.append("e-mailadres: geen geldig e-mailadres")
    return problems


MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_SCORE = 3  # zxcvbn's score (0-4): 3 is "safely unguessable" for an online attack
SCORED_LENGTH = 100  # zxcvbn scores the first 100 characters (its time grows with length)
APP_WORDS = ("meldroute", "meldcode", "wachtwoord", "school")
WINDOW = dt.timedelta(minutes=1)
TOTP_ISSUER = "Meldroute"

_HASHER = PasswordHasher()  # argon2-cffi's defaults: Argon2id, RFC 9106 low-memory profile
_DUMMY = _HASHER.hash("meldroute-dummy-password-for-timing")


@functools.cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def password_problems(password: str, school_names: Iterable[str] = (),
                      username: str = "") -> list[str]:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Het wachtwoord moet minstens {MIN_LENGTH} tekens hebben.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Het wachtwoord mag hoogstens {MAX_LENGTH} tekens hebben.")
    lowered = password.lower()
    if lowered in common_passwords():
        problems.append("Dit wachtwoord komt voor in een lijst van veelgebruikte wachtwoorden.")
    for name in school_names:
        simple = "".join(ch for ch in name.lower() if ch.isalnum())
        if simple and (simple in "".join(ch for ch in lowered if ch.isalnum())):
            problems.append("Het wachtwoord mag de naam van de school niet bevatten.")
            break
    if username and username.lower() in lowered:
        problems.append("Het wachtwoord mag de gebruikersnaam niet bevatten.")
    if not problems and _score(password, [*school_names, username]) < MIN_SCORE:
        problems.append("Dit wachtwoord is te makkelijk te raden. Kies een langere zin "
                        "van een paar gewone woorden.")
    return problems


def _score(password: str, known: Iterable[str]) -> int:
    words = [*APP_WORDS]
    for item in known:
        words.extend(w for w in item.lower().replace(".", " ").split() if w)
    score: int = zxcvbn(password[:SCORED_LENGTH], user_inputs=words)["score"]
    return score


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Constant work whether or not the user exists; rehashes when parameters changed."""
    if user is None or not user.password_hash:
        try:
            _HASHER.verify(_DUMMY, password + "x")
        except VerificationError:
            pass
        return False
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return True


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)


# --- TOTP ------------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_qr(uri: str) -> str:
    """The provisioning URI as a QR code: an SVG data URI for an ``<img>`` (no script)."""
    data_uri: str = segno.make(uri, error="m").svg_data_uri(scale=4, border=4)
    return data_uri


def totp_step(secret: str, code: str, now: dt.datetime, last_step: int | None) -> int | None:
    """The time step the code belongs to (now, or one step either side), or None.

    A code of a step at or before ``last_step`` is a replay and is refused.
    """
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    for offset in (-1, 0, 1):
        moment = now + dt.timedelta(seconds=30 * offset)
        if totp.at(moment) == code:
            step = int(totp.timecode(moment))
            if last_step is not None and step <= last_step:
                return None
            return step
    return None


# --- throttling ------------------------------------------------------------------------------
#
# Failures are counted in the database (so the limits hold across processes and machines),
# by three keys:
# - account + address: 5 failures, then a wait that doubles with each further failure
#   (1, 2, 4 ... 60 minutes after the last one). Only that address waits: an attacker
#   cannot lock the real user out from an address of their own.
# - account, from every address together: at most ACCOUNT_PASSWORD_CEILING password and
#   ACCOUNT_CODE_CEILING code failures an hour (ASVS: at most 100 guesses an hour).
# - address, every account together: ADDRESS_PER_MINUTE failures a minute (spraying).
# A refused (throttled) attempt is not counted; it leaves one marker row (and one audit
# entry) per key a minute, so a flood adds no rows beyond that.

FREE_FAILURES = 5  # per account + address, before the backoff starts
MAX_BACKOFF = dt.timedelta(minutes=60)
HOUR = dt.timedelta(hours=1)
ACCOUNT_PASSWORD_CEILING = 100  # password failures an hour, per account, all addresses
ACCOUNT_CODE_CEILING = 50  # code failures an hour, per account, all addresses
ADDRESS_PER_MINUTE = 20  # failures a minute from one address, all accounts
CODE_STAGES = ("totp", "reauth")
THROTTLED = "throttled"  # the stage of a marker row


def backoff(failures: int) -> dt.timedelta:
    """How long an account + address waits after its last failure."""
    if failures < FREE_FAILURES:
        return dt.timedelta(0)
    return min(dt.timedelta(minutes=2 ** min(failures - FREE_FAILURES, 10)), MAX_BACKOFF)


def _sum(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def throttled(db: Session, username: str, address: str, now: dt.datetime,
              stage: str = "password") -> str | None:
    """Why this attempt is refused ("account", "address", "account+address"), or None.
    One query."""
    username = username.lower()[:64]
    stages = CODE_STAGES if stage in CODE_STAGES else ("password",)
    mine = and_(LoginAttempt.username == username, LoginAttempt.address == address[:64])
    row = db.execute(select(
        _sum(mine), func.max(case((mine, LoginAttempt.at))),
        _sum(and_(LoginAttempt.username == username, LoginAttempt.stage.in_(stages))),
        _sum(and_(LoginAttempt.address == address[:64], LoginAttempt.at >= now - WINDOW)),
    ).where(LoginAttempt.success.is_(False), LoginAttempt.stage != THROTTLED,
            LoginAttempt.at >= now - HOUR,
            or_(LoginAttempt.username == username, LoginAttempt.address == address[:64]))
    ).one()
    by_me, last, by_account, by_address = int(row[0]), row[1], int(row[2]), int(row[3])
    ceiling = ACCOUNT_CODE_CEILING if stage in CODE_STAGES else ACCOUNT_PASSWORD_CEILING
    if by_account >= ceiling:
        return "account"
    if by_address >= ADDRESS_PER_MINUTE:
        return "address"
    if last is not None and by_me >= FREE_FAILURES:
        last = last if last.tzinfo else last.replace(tzinfo=dt.UTC)
        if now < last + backoff(by_me):
            return "account+address"
    return None


def record_attempt(db: Session, username: str, address: str, success: bool, stage: str,
                   now: dt.datetime) -> None:
    db.add(LoginAttempt(username=username.lower()[:64], address=address[:64],
                        success=success, stage=stage, at=now))


def record_throttled(db: Session, username: str, address: str, why: str,
                     now: dt.datetime) -> bool:
    """One marker row per key a minute; True when this attempt is the first (to audit)."""
    username = "*" if why == "address" else username.lower()[:64]
    address = "*" if why == "account" else address[:64]
    seen = db.scalar(select(LoginAttempt.id).where(
        LoginAttempt.stage == THROTTLED, LoginAttempt.username == username,
        LoginAttempt.address == address, LoginAttempt.at >= now - WINDOW).limit(1))
    if seen is not None:
        return False
    record_attempt(db, username, address, False, THROTTLED, now)
    return True


def claim_code(db: Session, user_id: int, step: int) -> bool:
    """Use a TOTP code: one UPDATE that succeeds only for a step after the last one used,
    so the same code sent twice at once lets exactly one request in."""
    result = db.execute(
        update(User).where(User.id == user_id, or_(User.totp_last_step.is_(None),
                                                    User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def purge_attempts(db: Session, before: dt.datetime) -> int:
    """Delete attempts older than ``before`` (the caller commits)."""
    result = db.execute(delete(LoginAttempt).where(LoginAttempt.at < before))
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)
