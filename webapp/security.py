"""Passwords (Argon2id), their policy, TOTP codes, and login throttling.

Policy (OWASP ASVS 2.1): at least 12 characters, no composition rules, not one of the
30,000 common passwords that zxcvbn ships, not the school's name. Throttling counts
failures in the database, so it holds across worker processes and machines.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import LoginAttempt, User

MIN_LENGTH = 12
MAX_LENGTH = 256
MAX_FAILURES = 5  # the sixth attempt within the window is refused
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
    return problems


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


def throttled(db: Session, username: str, address: str, now: dt.datetime) -> bool:
    since = now - WINDOW
    failures = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.success.is_(False), LoginAttempt.at >= since)
    by_user = db.scalar(failures.where(LoginAttempt.username == username.lower())) or 0
    by_address = db.scalar(failures.where(LoginAttempt.address == address)) or 0
    return by_user >= MAX_FAILURES or by_address >= MAX_FAILURES * 4


def record_attempt(db: Session, username: str, address: str, success: bool, stage: str,
                   now: dt.datetime) -> None:
    db.add(LoginAttempt(username=username.lower()[:64], address=address[:64],
                        success=success, stage=stage, at=now))
