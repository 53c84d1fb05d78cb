"""Template filters (English names): Dutch dates, tel: links, role names, audit actions."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from flask import Flask

from meldroute.engine import resolve_role

from .lifecycle import deadline_kind

MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december"]
DAYS = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
# Times are stored in UTC and shown as the school sees its clock, whatever the server's.
SCHOOL_TIME = ZoneInfo("Europe/Amsterdam")


def dutch_date(value: Any) -> str:
    if isinstance(value, dt.datetime):  # naive: UTC as stored (SQLite drops the zone)
        local = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(
            SCHOOL_TIME)
        return f"{local.day} {MONTHS[local.month - 1]} {local.year} {local:%H:%M}"
    if isinstance(value, dt.date):
        return f"{DAYS[value.weekday()]} {value.day} {MONTHS[value.month - 1]} {value.year}"
    if isinstance(value, str):
        try:
            return dutch_date(dt.date.fromisoformat(value))
        except ValueError:
            return value
    return ""


@functools.lru_cache(maxsize=256)  # a page shows the same few numbers on every view
def tel_uri(phone: str | None) -> str:
    if not phone:
        return ""
    digits = "".join(c for c in phone if c.isdigit())
    if phone.strip().replace(" ", "").isdigit() and len(digits) <= 4:
        return "tel:" + digits  # a short number (112): dialled as it is, never +31
    try:
        number = phonenumbers.parse(phone, "NL")
    except phonenumbers.NumberParseException:
        return ""
    return "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def role_name(role: str, state: Any, step: Any) -> str:
    return resolve_role(state.protocol, state.school, role, step.id).name


ACTIONS = {
    "dossier.create": "aangemaakt", "dossier.read": "bekeken", "dossier.change": "gewijzigd",
    "dossier.close": "afgesloten", "dossier.delete": "verwijderd", "audit.read":
    "logboek bekeken", "dossier.list": "overzicht bekeken",
    "dossier.acute": "gemarkeerd als acuut gevaar", "dossier.reopen": "weer geopend",
    "dossier.acute_off": "markering acuut gevaar opgeheven",
    "dossier.migrate": "naar een andere protocolversie verplaatst",
    "dossier.export": "geëxporteerd", "dossier.note": "notitie toegevoegd",
}
# The outcome of an action as the log shows it (the stored word stays English).
RESULTS = {
    "ok": "gelukt", "rejected": "geweigerd: niet volledig ingevuld",
    "refused": "geweigerd", "denied": "geen toegang", "conflict":
    "niet opgeslagen: iemand anders was eerder", "closed": "geweigerd: dossier is afgesloten",
    "failed": "mislukt", "throttled": "geblokkeerd: te veel pogingen",
}


def action_label(action: str) -> str:
    return ACTIONS.get(action, action.split(".")[-1])


def result_label(result: str) -> str:
    return RESULTS.get(result, result)


def audit_detail(detail: str, protocol: Any) -> str:
    """An audit entry's detail in words: step ids become "stap 4 (Afwegen)", flag names
    their label; the detail never holds content, only ids and numbers."""
    if not detail:
        return ""
    first, _, rest = detail.partition(" ")
    step = next((s for s in protocol.steps if s.id == first), None)
    if step is not None:
        words = {"versies": "alle versies bekeken"}.get(rest, rest)
        return f"stap {step.number} ({step.title})" + (f", {words}" if words else "")
    for fact in protocol.facts.values():
        if any(source.name == detail for source in fact.sources):
            return str(fact.label)
    return detail


def register(app: Flask) -> None:
    app.add_template_filter(action_label, "action_label")
    app.add_template_filter(result_label, "result_label")
    app.add_template_filter(audit_detail, "audit_detail")
    app.add_template_filter(role_name, "role_name")
    app.add_template_filter(dutch_date, "dutch_date")
    app.add_template_filter(tel_uri, "tel_uri")
    app.add_template_filter(deadline_kind, "deadline_kind")
