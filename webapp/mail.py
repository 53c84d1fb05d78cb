"""Sending mail: one place for the SMTP settings of reset links and reminders.

``MELDROUTE_SMTP_URL`` says where and how:

- ``smtp://user:password@host:587``: STARTTLS, required (the mail is not sent when the
  server does not offer it), then the login when the URL has a user;
- ``smtps://user:password@host:465``: TLS from the first byte;
- ``smtp://host:25?starttls=no``: no encryption, for a relay on the same machine or
  network; refused with a user (a password never goes over the wire in the clear).

Without it, the older ``MELDROUTE_SMTP_HOST`` (``_PORT``, ``_USER``, ``_PASSWORD``) still
works as before (STARTTLS and a login when a user is set). Neither set: no mail. The sender
is ``MELDROUTE_MAIL_FROM`` (default ``meldroute@<host>``). User and password in the URL are
percent-encoded (``%40`` for ``@``).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT = 20  # seconds per SMTP operation


class MailSettingError(ValueError):
    """``MELDROUTE_SMTP_URL`` cannot be used (the message says why, in Dutch)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # "starttls", "ssl", "none", or "legacy" (STARTTLS only with a user)
    user: str = ""
    password: str = ""
    sender: str = ""


def settings(environ: os._Environ[str] | dict[str, str] | None = None,
             legacy_host: str = "") -> SmtpSettings | None:
    """The SMTP settings from the environment; None when mail is not set up."""
    env = os.environ if environ is None else environ
    url = env.get("MELDROUTE_SMTP_URL", "").strip()
    if url:
        found = parse_url(url)
    else:
        host = legacy_host or env.get("MELDROUTE_SMTP_HOST", "")
        if not host:
            return None
        found = SmtpSettings(host, int(env.get("MELDROUTE_SMTP_PORT", "25") or 25), "legacy",
                             env.get("MELDROUTE_SMTP_USER", ""),
                             env.get("MELDROUTE_SMTP_PASSWORD", ""))
    sender = env.get("MELDROUTE_MAIL_FROM", "") or f"meldroute@{found.host}"
    return SmtpSettings(found.host, found.port, found.security, found.user, found.password,
                        sender)


def parse_url(url: str) -> SmtpSettings:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailSettingError("MELDROUTE_SMTP_URL moet beginnen met smtp:// of smtps:// "
                               "en een server noemen, bijvoorbeeld "
                               "smtp://gebruiker:wachtwoord@mail.example.org:587")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError as exc:
        raise MailSettingError("MELDROUTE_SMTP_URL: de poort is geen getal") from exc
    query = parse_qs(parts.query)
    plain = query.get("starttls", ["ja"])[0].lower() in ("no", "nee", "false", "0")
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    if parts.scheme == "smtp" and plain and user:
        raise MailSettingError("MELDROUTE_SMTP_URL: met starttls=no gaat een wachtwoord "
                               "onversleuteld over het net; gebruik STARTTLS of smtps://")
    security = "ssl" if parts.scheme == "smtps" else ("none" if plain else "starttls")
    return SmtpSettings(parts.hostname, port, security, user, password)


def send(config: SmtpSettings, messages: list[EmailMessage]) -> None:
    """Send ``messages`` over one connection (raises OSError or SMTPException)."""
    for message in messages:
        if "From" not in message:
            message["From"] = config.sender
    context = ssl.create_default_context()
    if config.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=TIMEOUT,
                                              context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT)
    with smtp:
        if config.security == "starttls" or (config.security == "legacy" and config.user):
            smtp.starttls(context=context)
        if config.user:
            smtp.login(config.user, config.password)
        for message in messages:
            smtp.send_message(message)
