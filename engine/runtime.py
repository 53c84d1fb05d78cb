"""The only module that imports durable_rules.

What ../shared/notes/durable-rules.md measured, and how this module answers it:

- the stock ``Host`` starts dispatcher threads that race with the caller (segfaults with
  several threads): ``_QuietHost`` switches them off;
- state lives in a fixed table of 1,024 rules sessions: every evaluation uses a fresh ``uuid4``
  sid and deletes it in ``finally``; a process-wide lock serialises access;
- exceptions in actions are swallowed into the rules session's state: the state is read after
  every evaluation and an ``exception`` becomes an ``EngineError``;
- a ruleset name cannot be registered twice: the name carries the protocol's digest;
- the engine mutates the ruleset dict: it gets a deep copy;
- with facts (not events) every matching rule fires, so overlaps show up as conflicts.

A fact per reached answer is asserted; the rules' ``when`` are durable_rules conditions
on those facts. Python only feeds facts and records which rule fired.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from durable import engine as durable_engine

from .errors import EngineError
from .model import Protocol, Rule

_CATCH_ALL = "_seen"  # fires on every answer, so that an answer no rule uses is still handled
_ACTION_PREFIX = "fire:"


_CATCH_FACTS = "_seen_fact"
CAP = 10_000  # more facts than a protocol can have


def _condition(question: str, answers: tuple[str, ...], on_facts: bool = False
               ) -> dict[str, Any]:
    key = "v" if on_facts else "a"
    answer: dict[str, Any] = (
        {key: answers[0]} if len(answers) == 1 else {"$or": [{key: a} for a in answers]}
    )
    if on_facts:
        return {"$and": [{"t": "fact"}, {"f": question}, answer]}
    return {"$and": [{"t": "answer"}, {"q": question}, answer]}


def compile_rule(rule: Rule) -> dict[str, Any]:
    """A rule's ``when`` as a durable_rules rule definition (a stage rule's ``when`` is
    over facts, a route rule's over answers)."""
    if rule.is_start:
        terms = [{"m": {"t": "start"}}]
    else:
        terms = [{f"c{i}": _condition(q, answers, rule.on_facts)}
                 for i, (q, answers) in enumerate(rule.when.items())]
    return {"all": terms, "run": _ACTION_PREFIX + rule.id}


def compile_protocol(protocol: Protocol) -> dict[str, Any]:
    definition = {rule.id: compile_rule(rule)
                  for rule in (*protocol.rules, *protocol.stage_rules)}
    definition[_CATCH_ALL] = {"all": [{"m": {"t": "answer"}}], "run": _CATCH_ALL}
    # one callback for a whole batch of facts (``cap``), not one per fact: a batch of
    # routing facts is asserted per evaluation, and durable_rules' Python dispatch of an
    # action costs more than its matching
    definition[_CATCH_FACTS] = {"all": [{"m": {"t": "fact"}}], "cap": CAP, "run": _CATCH_FACTS}
    return definition


def ruleset_name(protocol: Protocol) -> str:
    return f"meldroute.{protocol.id}.{protocol.version}.{protocol.digest[:16]}"


class _QuietHost(durable_engine.Host):  # type: ignore[misc]
    """A Host without the background dispatcher threads, with a strict action registry."""

    def __init__(self) -> None:
        self.fired: dict[str, list[str]] = {}
        super().__init__()

    def _run(self) -> None:  # no threading.Timer dispatchers
        return

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        if action_name in (_CATCH_ALL, _CATCH_FACTS):
            return _ignore
        if not action_name.startswith(_ACTION_PREFIX):
            raise EngineError(f"unknown action {action_name!r}")
        rule_id = action_name[len(_ACTION_PREFIX):]
        fired = self.fired

        def record(c: Any) -> None:
            fired[c.s.sid].append(rule_id)

        return record


def _ignore(c: Any) -> None:
    return None


_LOCK = threading.Lock()
_HOST: _QuietHost | None = None
_REGISTERED: set[str] = set()


def _host() -> _QuietHost:
    global _HOST
    if _HOST is None:
        _HOST = _QuietHost()
    return _HOST


def prepare(protocol: Protocol) -> str:
    """Compile and register the protocol's ruleset once per process; returns its name."""
    name = ruleset_name(protocol)
    with _LOCK:
        if name not in _REGISTERED:
            _host().register_rulesets({name: copy.deepcopy(compile_protocol(protocol))})
            _REGISTERED.add(name)
    return name


class RulesSession:
    """One evaluation's facts in durable_rules. Use only inside ``rules_session()``."""

    def __init__(self, host: _QuietHost, name: str) -> None:
        self._host, self._name = host, name
        self.sid = uuid.uuid4().hex
        self._fired: list[str] = []
        self._has_state = False
        host.fired[self.sid] = self._fired

    def _assert(self, fact: Mapping[str, Any] | list[Mapping[str, Any]]) -> list[str]:
        start = len(self._fired)
        message: Any = ([{"sid": self.sid, **f} for f in fact] if isinstance(fact, list)
                        else {"sid": self.sid, **fact})
        result = self._host.assert_fact(self._name, message)
        self._has_state = self._has_state or result is not None
        if result is None:
            raise EngineError("the rules engine returned no result")
        if isinstance(result, dict) and "exception" in result:
            raise EngineError(f"the rules engine failed: {result['exception']}")
        return self._fired[start:]

    def start(self) -> list[str]:
        return self._assert({"t": "start"})

    def answer(self, question: str, answer: str) -> list[str]:
        return self._assert({"t": "answer", "q": question, "a": answer})

    def facts(self, values: Mapping[str, str]) -> list[str]:
        """Assert the routing facts (fact id -> value) in one batch; the stage rules match
        on these. Returns the rules that fired."""
        if not values:
            return []
        return self._assert([{"t": "fact", "f": f, "v": v} for f, v in values.items()])

    def close(self) -> None:
        self._host.fired.pop(self.sid, None)
        if not self._has_state:  # nothing was stored for this sid
            return
        try:
            state = self._host.get_state(self._name, self.sid)
        finally:
            self._host.delete_state(self._name, self.sid)
        if isinstance(state, dict) and "exception" in state:
            raise EngineError(f"the rules engine failed: {state['exception']}")


class rules_session:  # noqa: N801 - used as a context manager, reads as a statement
    """``with rules_session(protocol) as s:`` — a fresh sid, deleted afterwards, under the
    lock."""

    def __init__(self, protocol: Protocol) -> None:
        self._name = prepare(protocol)
        self._rules_session: RulesSession | None = None

    def __enter__(self) -> RulesSession:
        _LOCK.acquire()
        try:
            self._rules_session = RulesSession(_host(), self._name)
        except BaseException:
            _LOCK.release()
            raise
        return self._rules_session

    def __exit__(self, *exc: object) -> None:
        try:
            if self._rules_session is not None:
                self._rules_session.close()
        finally:
            _LOCK.release()


def live_rules_sessions() -> int:
    """How many evaluations have state in durable_rules right now (0 between calls)."""
    return len(_host().fired)
