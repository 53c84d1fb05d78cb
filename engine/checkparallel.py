"""A second process for ``meldroute check``: half the reachable states.

A first check (nothing in the cache) spends most of its time walking every reachable
state of each protocol through durable_rules. On a machine with two or more cores the
check forks once, right after the files are parsed (``start``, from ``checkrun.run``): the
helper inherits the modules loaded and the parsed files. It builds each protocol from the
parsed file as the main process will (before the schema and graph checks say it may: its
results are used only for a protocol that passes every check in the main process), lists
the reachable sets of answers and puts their numbers in a pipe, and begins to evaluate
them. The main process meanwhile checks the schemas, the schools, the scenarios and the
rule graph (``routegraph.py``), then takes numbers from the same pipe — each
number once, as a pipe's reads are atomic. Both evaluate their sets of answers with every
set of facts in play; the helper sends its outcomes back, and the main process counts
them in order (``enumerate.tally``), so the report is the sequential one. For a protocol
the main process finds broken, it empties the pipe and drops the helper's outcomes.

Every state is still evaluated by durable_rules (in one process or the other, each with
its own rules engine after the fork: nothing is evaluated before it). Without
``os.fork``, with one core, with threads running, or when anything in the helper fails,
the main process does the work itself.
"""

from __future__ import annotations

import itertools
import os
import pickle
import signal
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .enumerate import AnswerState, Enumeration
    from .model import Protocol

_TOKEN = struct.Struct("=I")
_MAX_SHARED = 60_000 // _TOKEN.size  # numbers that fit in a pipe without blocking (64 KiB)
_MAX_POOLS = 16  # protocol files whose states are shared (the others: by the main process)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ProtocolWork:
    """What the helper found for one protocol file: the number of reachable sets of
    answers shared through the pipe (0: not shared)."""

    states: int


class Helper:
    """The forked helper, seen from the main process. If it stops or sends something
    unreadable, the main process does the rest itself."""

    def __init__(self, pid: int, results: int, pools: list[int]) -> None:
        self.pid, self._results, self._pools = pid, os.fdopen(results, "rb"), pools
        self._next = 0  # the protocol file the next message is about
        self._alive = True

    def _receive(self) -> Any:
        if not self._alive:
            return None
        try:
            size = self._results.read(8)
            if len(size) != 8:
                raise EOFError("the helper process stopped")
            return pickle.loads(self._results.read(int.from_bytes(size, "big")))  # noqa: S301
        except Exception:
            self._alive = False
            return None

    def work(self, index: int) -> ProtocolWork | None:
        """The helper's listing of protocol file ``index``'s states (in the order given to
        ``start``), or None if it could not list them. Call with rising indices."""
        while self._next < index:  # files the main process found broken: skip theirs
            self.skip(self._next)
        message = self._receive()
        self._next += 1
        return message if isinstance(message, ProtocolWork) else None

    def skip(self, index: int) -> None:
        """Drop protocol file ``index``'s states: empty its pipe so that the helper stops
        soon, and read past its outcomes."""
        while self._next < index:
            self.skip(self._next)
        message = self._receive()
        self._next += 1
        if isinstance(message, ProtocolWork) and message.states:
            for _ in _take(self._pools[index]):
                pass
            self._receive()

    def enumerate(self, index: int, protocol: Protocol) -> Enumeration:
        """Protocol file ``index``'s states, shared with the helper; counted in order."""
        from .enumerate import outcomes_of, states_of, tally

        states = states_of(protocol)
        outcomes = outcomes_of(protocol, states, _take(self._pools[index]))
        theirs = self._receive()
        if isinstance(theirs, dict):
            outcomes.update(theirs)
        missing = [i for i in range(len(states)) if i not in outcomes]
        outcomes.update(outcomes_of(protocol, states, missing))  # the helper stopped
        return tally(protocol, (outcomes[i] for i in range(len(states))))

    def close(self) -> None:
        """Stop the helper (if it still runs) and reap it."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:  # pragma: no cover - reaped already
            pass
        os.waitpid(self.pid, 0)
        self._results.close()
        for fd in self._pools:
            os.close(fd)


def _take(pool: int) -> Iterator[int]:
    """Numbers from the pipe until it is empty (the other process takes the rest)."""
    while True:
        try:
            data = os.read(pool, _TOKEN.size)
        except BlockingIOError:
            return
        if len(data) != _TOKEN.size:  # pragma: no cover - the writers write whole numbers
            return
        yield _TOKEN.unpack(data)[0]


def start(files: list[Path]) -> Helper | None:
    """Fork the helper for the check of these files; None where that does not pay or
    cannot be done (then the caller does everything itself)."""
    if not files or not hasattr(os, "fork") or _cores() < 2 or \
            threading.active_count() > 1 or os.environ.get("MELDROUTE_JOBS") == "1":
        return None
    pools = [os.pipe() for _ in range(min(len(files), _MAX_POOLS))]
    results_read, results_write = os.pipe()
    for read, _ in pools:
        os.set_blocking(read, False)
    pid = os.fork()
    if pid == 0:  # the helper: never returns into the caller's code
        try:
            os.close(results_read)
            _helper(files, pools, results_write)
        finally:
            os._exit(0)
    os.close(results_write)
    for _, write in pools:
        os.close(write)
    return Helper(pid, results_read, [read for read, _ in pools])


def _size(protocol: Protocol, state: AnswerState) -> int:
    from .enumerate import MAX_COMBINATIONS, fact_states

    if state.position is None:
        return 1
    return sum(1 for _ in itertools.islice(fact_states(protocol, state.position.builtins),
                                           MAX_COMBINATIONS + 1))


def _send(out: Any, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(len(data).to_bytes(8, "big") + data)
    out.flush()


def _helper(files: list[Path], pools: list[tuple[int, int]], results: int) -> None:
    """The helper's part: per protocol file, in order, its ``ProtocolWork`` (None when it
    cannot tell), then (when states are shared) the outcomes of the numbers it took."""
    from . import cache
    from .checkreport import CheckReport
    from .checkrun import read_files
    from .enumerate import outcomes_of, states_of
    from .loader import build_protocol, protocol_problems

    cache.enable(False)  # the main process reads and writes the cache
    with os.fdopen(results, "wb") as out:
        for index, doc in enumerate(read_files(files, CheckReport())["protocol"]):
            try:
                if protocol_problems(doc):
                    raise ValueError("the main process reports this protocol's problems")
                protocol = build_protocol(doc)
                states = states_of(protocol)
            except Exception:  # not schema-checked here: the main process does it all
                _send(out, None)
                continue
            shared = 0 < len(states) <= _MAX_SHARED and index < len(pools)
            if shared:  # the sets of answers with the most sets of facts first: no long tail
                order = sorted(range(len(states)), key=lambda i: -_size(protocol, states[i]))
                os.write(pools[index][1], b"".join(_TOKEN.pack(i) for i in order))
            _send(out, ProtocolWork(len(states) if shared else 0))
            if shared:
                _send(out, outcomes_of(protocol, states, _take(pools[index][0])))
