"""Decisions, memoised: the engine is asked once per distinct question.

An evaluation depends only on the protocol version (its digest), the school's and its
board's configuration versions, the dossier's inputs (answers; facts once the engine takes
them) and the day. All of these are in the key, so a cached decision can never be stale:
a changed answer, a new configuration version or the next day is a different key. The
cache is bounded (least recently used out) and shared by the threads of a process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from meldroute.engine import Evaluation, Protocol, SchoolConfig, evaluate

from .memo import BoundedCache

MAX_DECISIONS = 4096


@dataclass(frozen=True)
class DecisionKey:
    protocol: str  # the protocol's digest
    config: tuple[int, int | None]  # the school's and its board's configuration versions
    # the configuration built from them, by identity (``SchoolConfig`` compares so): version
    # ids are one database's, and a process can meet two (a restored database, the tests'
    # one per app); the registry builds one object per pair, so a repeat still finds it
    school: SchoolConfig
    day: dt.date
    inputs: Hashable  # every input by name (answers, facts), frozen


def freeze(value: Any) -> Hashable:
    """A hashable copy of JSON-like data (mappings and lists, in a stable order)."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        items = [freeze(v) for v in value]
        return tuple(sorted(items, key=repr)) if isinstance(value, set | frozenset) \
            else tuple(items)
    assert isinstance(value, Hashable)
    return value


class DecisionCache(BoundedCache[DecisionKey, Evaluation]):
    def __init__(self, size: int = MAX_DECISIONS) -> None:
        super().__init__(size)


DECISIONS = DecisionCache()


def decide(protocol: Protocol, school: SchoolConfig, config: tuple[int, int | None] | None,
           day: dt.date, **inputs: Mapping[str, Any]) -> Evaluation:
    """``evaluate(protocol, school, **inputs, today=day)``, memoised.

    ``config`` is the pair of configuration versions ``school`` was built from; None (a
    configuration not from the database) is evaluated every time. A new input of the
    engine (facts) is one more keyword here and at the call.
    """
    if config is None:
        return evaluate(protocol, school, today=day, **inputs)
    key = DecisionKey(protocol.digest, config, school, day, freeze(inputs))
    return DECISIONS.get(key, lambda: evaluate(protocol, school, today=day, **inputs))
