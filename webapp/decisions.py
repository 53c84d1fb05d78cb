"""Decisions, memoised: the engine is asked once per distinct question.

An evaluation depends only on the protocol version (its digest), the school's and its
board's configuration versions, the dossier's inputs (answers; facts once the engine takes
them) and the day. All of these are in the key, so a cached decision can never be stale:
a changed answer, a new configuration version or the next day is a different key. The
cache is bounded (least recently used out) and shared by the threads of a process.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from meldroute.engine import Evaluation, Protocol, SchoolConfig, evaluate

MAX_DECISIONS = 4096
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class DecisionKey:
    protocol: str  # the protocol's digest
    config: tuple[int, int | None]  # the school's and its board's configuration versions
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


class BoundedCache(Generic[K, V]):
    """A bounded, thread-safe memo: least recently used entries go first. The key must
    hold everything the value depends on (nothing here expires it)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        result = compute()  # outside the lock: computations are pure, a race costs one run
        with self._lock:
            self._entries[key] = result
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return result

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


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
    key = DecisionKey(protocol.digest, config, day, freeze(inputs))
    return DECISIONS.get(key, lambda: evaluate(protocol, school, today=day, **inputs))
