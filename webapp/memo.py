"""``BoundedCache``: the one memo of the web app's hot path (decisions, a step form's
markup, decrypted values). Bounded (least recently used out) and thread-safe; nothing
expires an entry, so its key must hold everything the value depends on.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A bounded, thread-safe memo: least recently used entries go first. The key must
    hold everything the value depends on (nothing here expires it)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: K, compute: Callable[[], V]) -> V:
        found = self.peek(key)
        if found is not None:
            return found
        result = compute()  # outside the lock: computations are pure, a race costs one run
        self.put(key, result)
        return result

    def peek(self, key: K) -> V | None:
        """The value kept under ``key``, or None (counted as a hit or a miss)."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
