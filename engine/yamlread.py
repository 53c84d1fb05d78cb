"""Where every key and item of a YAML file stands (``LineMap``), and a fast reader for the
plain files the engine reads.

``source.parse_text`` reads YAML with ruamel.yaml's round-trip loader (YAML 1.2: ``no``,
``on`` and ``yes`` are text, dates, duplicate keys refused, the limits of ``source.py``,
its error messages with a line and column). That loader is pure Python: ~0.25 s for the
Meldcode protocol. ``parse_c`` reads the same files with libyaml's C parser (PyYAML's
``CParser``: events with their line and column) and resolves plain scalars by ruamel's
YAML 1.2 rules itself, in ~10 ms. It answers only for what it can read exactly as ruamel
does: plain mappings, lists and scalars. For anything else — a syntax error, an anchor or
alias, a tag or directive, a duplicate or non-text key, a number other than a plain
decimal integer, a timestamp with a time, an escape in double quotes, deep nesting, a
byte-order mark or an unusual line break — it returns None and ruamel reads the file, so
results and messages stay ruamel's. ``tests/test_check_yaml.py`` reads every YAML file of
the repository both ways and compares data and line maps.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

MapEntry = tuple[int, int, int, int, "LineMap | None"]  # key line, col, value line, col
SeqEntry = tuple[int, int, "LineMap | None"]  # item line, col


@dataclass(eq=True)
class LineMap:
    """A mapping's or list's position and those of its keys, values and items (0-based,
    as ruamel.yaml's ``lc``); a nested mapping or list has its own ``LineMap``."""

    line: int
    col: int
    entries: dict[str, MapEntry] | list[SeqEntry]


def locate(tree: LineMap | None, where: tuple[Any, ...] | list[Any], key: bool
           ) -> tuple[int, int]:
    """1-based line and column of the value at ``where`` (or of its key): as far down the
    path as the file has positions."""
    node = tree
    line, col = (node.line + 1, node.col + 1) if node is not None else (1, 1)
    for i, part in enumerate(where):
        if node is None:
            break
        entries = node.entries
        if isinstance(entries, dict):
            got = entries.get(part) if isinstance(part, str) else None
            if got is None:
                break
            at = (got[0], got[1]) if key and i == len(where) - 1 else (got[2], got[3])
            child = got[4]
        else:
            if type(part) is not int or not 0 <= part < len(entries):
                break
            at, child = (entries[part][0], entries[part][1]), entries[part][2]
        line, col = at[0] + 1, at[1] + 1
        node = child
    return line, col


def from_ruamel(tree: Any) -> LineMap | None:
    """The ``LineMap`` of a ruamel.yaml round-trip tree (its ``lc`` positions). A value
    used through aliases in several places gets one ``LineMap``."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    memo: dict[int, LineMap | None] = {}

    def convert(node: Any) -> LineMap | None:
        if not isinstance(node, (CommentedMap, CommentedSeq)) or node.lc.line is None:
            return None
        if id(node) in memo:
            return memo[id(node)]
        result = LineMap(node.lc.line, node.lc.col, {} if isinstance(node, dict) else [])
        memo[id(node)] = result
        if isinstance(node, CommentedMap):
            # only the file's own keys have positions (not those merged in with <<)
            result.entries = {str(k): (p[0], p[1], p[2], p[3], convert(node[k]))
                              for k, p in (node.lc.data or {}).items()}
        else:
            result.entries = [(p[0], p[1], convert(node[i]))
                              for i, p in sorted((node.lc.data or {}).items())]
        return result

    return convert(tree)


# --- the fast reader ------------------------------------------------------------------------

class _Fallback(Exception):
    """Something ruamel.yaml must read (or give the message for)."""


# ruamel.yaml's YAML 1.2 implicit resolvers (resolver.py), for plain scalars only
_FLOAT = re.compile(r"""^(?:
     [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)
_INT = re.compile(r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o?[0-7_]+
    |[-+]?[0-9_]+
    |[-+]?0x[0-9a-fA-F_]+)$""", re.X)
_TIMESTAMP = re.compile(r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
    (?:[Tt]|[ \t]+)[0-9][0-9]?
    :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
    (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", re.X)
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_CONSTANTS: dict[str, Any] = {
    "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
}
_MAYBE_NOT_TEXT = frozenset("-+0123456789.<=")  # first characters of the other resolvers
# ruamel refuses tabs where libyaml allows them; a BOM; line breaks besides \n and \r
_UNUSUAL = ("\t", "\ufeff", "\x85", "\u2028", "\u2029")


def _plain_scalar(value: str) -> tuple[Any, bool]:
    """A plain scalar as ruamel.yaml's round-trip loader gives it (with dates as ISO text,
    as ``source._plain`` makes them), and whether it is text; ``_Fallback`` for what ruamel
    makes a type of its own."""
    if not value:
        raise _Fallback  # an empty value: ruamel places it elsewhere than libyaml
    if value in _CONSTANTS:
        return _CONSTANTS[value], False
    if value[0] not in _MAYBE_NOT_TEXT:
        return value, True
    if _FLOAT.match(value):
        raise _Fallback
    if _INT.match(value):
        if _DECIMAL.fullmatch(value):
            return int(value), False
        raise _Fallback  # octal, hex, binary, underscores, leading zeros: ruamel's types
    if _TIMESTAMP.match(value):
        date = _DATE.fullmatch(value)
        if date is None:
            raise _Fallback  # with a time: ruamel's TimeStamp
        try:
            return dt.date(*map(int, date.groups())).isoformat(), False
        except ValueError:
            raise _Fallback from None  # ruamel's message for an impossible date
    if value in ("<<", "="):
        raise _Fallback  # a merge key, a value key
    return value, True


class _Builder:
    """The data and ``LineMap`` of a file from libyaml's events."""

    def __init__(self, text: str, max_depth: int, budget: int) -> None:
        self.text, self.max_depth, self.budget = text, max_depth, budget
        # per open collection: its data, its LineMap, and for a mapping the key read
        # before its value (with the key's position)
        self.stack: list[tuple[Any, LineMap, list[Any]]] = []
        self.root: tuple[Any, LineMap | None] | None = None

    def scalar(self, event: Any) -> None:
        if not event.style:  # plain
            value, is_text = _plain_scalar(event.value)
        else:
            value, is_text = event.value, True
            if event.style == '"' and "\\" in self.text[event.start_mark.index:
                                                         event.end_mark.index]:
                raise _Fallback  # escapes: ruamel's reading of them
        self.add(value, None, event.start_mark, is_text=is_text)

    def start(self, event: Any, mapping: bool) -> None:
        if len(self.stack) >= self.max_depth - 2:
            raise _Fallback  # ruamel's depth limit and message
        mark = event.start_mark
        self.stack.append(({} if mapping else [],
                           LineMap(mark.line, mark.column, {} if mapping else []), []))

    def end(self) -> None:
        data, lines, pending = self.stack.pop()
        if pending:
            raise _Fallback  # pragma: no cover - libyaml always closes a key with a value
        self.budget -= len(data) + 1
        if self.budget < 0:
            raise _Fallback
        self.add(data, lines, None, is_text=False, mark=(lines.line, lines.col))

    def add(self, value: Any, lines: LineMap | None, event_mark: Any, *, is_text: bool,
            mark: tuple[int, int] | None = None) -> None:
        line, col = mark if mark is not None else (event_mark.line, event_mark.column)
        if not self.stack:
            self.root = (value, lines)
            return
        data, parent, pending = self.stack[-1]
        if isinstance(data, list):
            data.append(value)
            assert isinstance(parent.entries, list)
            parent.entries.append((line, col, lines))
        elif not pending:  # a key
            if not is_text or value in data:
                raise _Fallback  # a key that is not text, or a duplicate: ruamel's way
            pending += [value, line, col]
        else:
            key, key_line, key_col = pending
            pending.clear()
            data[key] = value
            assert isinstance(parent.entries, dict)
            parent.entries[key] = (key_line, key_col, line, col, lines)


def parse_c(text: str, max_depth: int, budget: int) -> tuple[Any, LineMap | None] | None:
    """The file's plain data and ``LineMap`` read with libyaml, or None when ruamel.yaml
    must read it (see the module's docstring)."""
    if any(ch in text for ch in _UNUSUAL):
        return None
    try:
        from yaml import YAMLError, events
        from yaml._yaml import CParser
    except ImportError:  # pragma: no cover - PyYAML without libyaml: ruamel reads
        return None
    try:
        return _read_events(CParser(text), events, text, max_depth, budget)
    except (_Fallback, YAMLError):
        return None


def _read_events(parser: Any, events: Any, text: str, max_depth: int, budget: int
                 ) -> tuple[Any, LineMap | None] | None:
    builder = _Builder(text, max_depth, budget)
    documents = 0
    try:
        while True:
            event = parser.get_event()
            kind = type(event)
            if kind is events.ScalarEvent:
                if event.anchor is not None or event.tag is not None:
                    raise _Fallback
                builder.scalar(event)
            elif kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
                if event.anchor is not None or event.tag is not None:
                    raise _Fallback
                builder.start(event, kind is events.MappingStartEvent)
            elif kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
                builder.end()
            elif kind is events.DocumentStartEvent:
                documents += 1
                if documents > 1 or event.version is not None or event.tags:
                    raise _Fallback  # several documents, %YAML or %TAG
            elif kind is events.StreamEndEvent:
                break
            elif kind is not events.StreamStartEvent and kind is not events.DocumentEndEvent:
                raise _Fallback  # an alias
    finally:
        parser.dispose()
    return builder.root if builder.root is not None else (None, None)
