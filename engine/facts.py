"""Routing facts beside the answers: what a dossier records, as the protocol declares it.

A protocol's ``facts:`` are few and discrete (``ja``/``nee``, or one of a few values);
its ``dates:`` only compute deadlines and ``passed`` facts. This module turns a dossier's
recorded values into facts (``dossier_facts``), checks facts given to ``evaluate``
(``check_facts``) and settles every fact's value for one evaluation (``settle``): a fact
not in play (its ``when`` does not hold) has its default, so only reached facts route.
Nothing here knows the Meldcode: the mapping is data in the protocol file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import AnswerError, AnswerProblem
from .model import Condition, FactDef, FactSource, Protocol
from .workdays import add_working_days

FactValue = str | dt.date


def _has_value(value: Any) -> bool:
    """A stored field value that counts as filled in (not empty, not false, not "nee")."""
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "nee", "n", "0", "off")
    if isinstance(value, (list, tuple, dict, set)):
        return bool(value)
    return True


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _recorded(source: FactSource, values: Mapping[str, Any], recorded_steps: Collection[str],
              flags: Mapping[str, str]) -> str | None:
    if source.kind == "flag":
        return flags.get(source.name)
    present = (source.name in recorded_steps if source.kind == "step"
               else _has_value(values.get(source.name)))
    return source.value if present else source.otherwise


def dossier_facts(protocol: Protocol, values: Mapping[str, Any],
                  recorded_steps: Collection[str] = (),
                  flags: Mapping[str, str] | None = None) -> dict[str, FactValue]:
    """The facts (and dates) a dossier's records give, for ``evaluate(..., facts=...)``.

    ``values``: field id -> stored value (of every step's newest version, merged);
    ``recorded_steps``: the ids of the steps that have a record; ``flags``: what the
    dossier records besides its steps (e.g. ``acuut: ja``, ``reactie_veilig_thuis:
    neemt_over``, ``gesloten: ja``). Which field, step or flag records which fact is the
    protocol's ``facts[].from``; ``passed`` facts are left to ``evaluate`` (they depend on
    today). A flag value the fact does not allow is left out (the default applies)."""
    flags = flags or {}
    facts: dict[str, FactValue] = {}
    for d in protocol.dates.values():
        day = _as_date(values.get(d.field)) if d.field else _as_date(flags.get(d.id))
        if day is not None:
            facts[d.id] = day
    for f in protocol.facts.values():
        for source in f.sources:
            if source.kind == "passed":
                continue
            value = _recorded(source, values, recorded_steps, flags)
            if value is not None and value in f.values:
                facts[f.id] = value
                break
    return facts


def check_facts(protocol: Protocol, facts: Mapping[str, Any]) -> dict[str, FactValue]:
    """Facts as ``evaluate`` takes them (dates as ``date`` or ISO text); unknown facts and
    values a fact does not have are an ``AnswerError`` (all at once)."""
    problems: list[AnswerProblem] = []
    checked: dict[str, FactValue] = {}
    for key, value in facts.items():
        if key in protocol.dates:
            day = _as_date(value)
            if day is None:
                problems.append(AnswerProblem(key, None, f"'{value}' bij '{key}' is geen "
                                                         "datum (JJJJ-MM-DD)"))
            else:
                checked[key] = day
        elif key in protocol.facts:
            allowed = protocol.facts[key].values
            if value not in allowed:
                problems.append(AnswerProblem(key, None, f"waarde {value!r} is niet mogelijk "
                                              f"bij feit '{key}' (mogelijk: "
                                              f"{', '.join(allowed)})"))
            else:
                checked[key] = value
        else:
            known = [*protocol.facts, *protocol.dates]
            problems.append(AnswerProblem(key, None, f"onbekend feit '{key}' (bekend: "
                                                     f"{', '.join(known)})"))
    if problems:
        raise AnswerError(problems)
    return checked


def matches(conditions: tuple[Condition, ...], env: Mapping[str, str]) -> bool:
    """Any of the conditions holds (no conditions: always)."""
    if not conditions:
        return True
    return any(all(env.get(k) in v for k, v in c.items()) for c in conditions)


def _derived(f: FactDef, dates: Mapping[str, dt.date], today: dt.date) -> str | None:
    for source in f.sources:
        if source.kind == "passed" and source.name in dates:
            due = add_working_days(dates[source.name], source.working_days)
            return "ja" if today > due else "nee"
    return None


@dataclass(frozen=True)
class Settled:
    """Every fact's value for one evaluation, and which facts were in play."""

    values: Mapping[str, str]  # builtin facts and every protocol fact
    in_play: tuple[str, ...]
    dates: Mapping[str, dt.date]


def settle(protocol: Protocol, given: Mapping[str, FactValue], builtins: Mapping[str, str],
           today: dt.date) -> Settled:
    """Each fact in the protocol's order: in play -> the given value, else the one derived
    from a date (``passed``), else the default; not in play -> the default."""
    dates = {k: v for k, v in given.items() if isinstance(v, dt.date)}
    env = dict(builtins)
    in_play = []
    for f in protocol.facts.values():
        value = f.default
        if matches(f.when, env):
            in_play.append(f.id)
            given_value = given.get(f.id)
            if isinstance(given_value, str):
                value = given_value
            else:
                value = _derived(f, dates, today) or f.default
        env[f.id] = value
    return Settled(env, tuple(in_play), dates)
