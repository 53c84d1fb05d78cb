"""Reading YAML/JSON files with their line numbers, and schema validation with messages.

Files are read as ruamel.yaml reads them in round-trip mode (YAML 1.2), keeping the line
and column of every key and item (a ``LineMap``), so a problem found on the plain data can
be reported as ``path:line:col``. Plain files are read by libyaml (``yamlread.parse_c``,
~25 times quicker), everything else by ruamel.yaml itself. Schemas are JSON Schema draft
2020-12 files in ``schemas/``; each validator is built once.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import cache
from .errors import ConfigError, MeldrouteError, Problem
from .yamlread import LineMap, from_ruamel, locate, parse_c

if TYPE_CHECKING:  # jsonschema is imported when a schema is first needed (~0.15 s)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

PathItem = str | int

# The check name of a problem that means "this file could not be checked at all"
# (missing, unreadable, binary, too large, beyond the limits below): exit status 2.
READ = "read"
MAX_FILE_ENV = "MELDROUTE_MAX_FILE_SIZE"
DEFAULT_MAX_FILE_BYTES = 1024 * 1024  # a school, protocol, scenario or answers file
MAX_DEPTH = 64  # nesting of mappings and lists
MIN_NODE_BUDGET = 10_000  # values after expanding aliases: at least this, or 1 per byte
MAX_MESSAGE = 300  # characters of one message
MAX_VALUE = 60  # characters of a value quoted in a message


class SettingError(MeldrouteError):
    """An environment setting the engine reads is not usable (the message says which)."""


def clip(text: str, limit: int = MAX_VALUE) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def exit_status(problems: Iterable[Problem]) -> int:
    """2 when a file could not be checked at all, else 1 (problems found in it)."""
    return 2 if any(p.check == READ for p in problems) else 1


def format_problem(problem: Problem) -> str:
    """``file:line:col: message``, or ``path: message`` for a problem without a place."""
    if problem.line <= 0:
        return f"{problem.path}: {problem.message}"
    return str(problem)


def max_file_bytes() -> int:
    """The largest file read: MELDROUTE_MAX_FILE_SIZE (bytes, or with K or M), default 1M."""
    value = os.environ.get(MAX_FILE_ENV, "").strip()
    if not value:
        return DEFAULT_MAX_FILE_BYTES
    match = re.fullmatch(r"(\d+)\s*([kKmM]?)[bB]?", value)
    number = int(match.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[
        match.group(2).lower()] if match else 0
    if number <= 0:
        raise SettingError(f"{MAX_FILE_ENV} moet een positief aantal bytes zijn (bijvoorbeeld "
                           f"2000000, 500K of 2M), niet '{clip(value)}'")
    return number


def display_path(path: Path | str) -> str:
    """The path as a person would type it: relative to the working folder when inside it
    (a symbolic link is shown as itself, not as what it points to)."""
    p = Path(path)
    try:
        return str(Path(os.path.abspath(p)).relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):  # outside the working folder
        return str(p)


class _Plain:
    """The plain data of a round-trip tree, within the limits: nesting depth, the number of
    values after expanding aliases (an "alias bomb" of a few hundred bytes expands to
    gigabytes), and no value that contains itself (``&x {self: *x}``)."""

    def __init__(self, path: str, budget: int) -> None:
        self.path, self.budget = path, budget
        self.open: set[int] = set()  # ids of the collections being converted

    def refuse(self, node: Any, message: str) -> ConfigError:
        lc = getattr(node, "lc", None)
        line, col = (lc.line + 1, lc.col + 1) if lc is not None and lc.line is not None \
            else (1, 1)
        return ConfigError([Problem(self.path, line, col, message, READ)])

    def convert(self, node: Any, depth: int = 0) -> Any:
        if isinstance(node, (dict, list)):
            return self.collection(node, depth)
        if isinstance(node, dt.date):  # also dt.datetime
            return node.isoformat()
        return node

    def collection(self, node: dict[Any, Any] | list[Any], depth: int) -> Any:
        self.budget -= len(node) + 1
        if self.budget < 0:
            raise self.refuse(node, "YAML-aliassen (*naam) vermenigvuldigen dit bestand tot "
                                    "te veel waarden; schrijf de waarden uit of gebruik "
                                    "minder aliassen")
        if depth >= MAX_DEPTH:
            raise self.refuse(node, f"te diep genest (meer dan {MAX_DEPTH} niveaus)")
        if id(node) in self.open:
            raise self.refuse(node, "YAML-alias verwijst naar de waarde waar hij zelf in "
                                    "staat (&naam ... *naam): zo'n waarde is oneindig groot")
        self.open.add(id(node))
        try:
            if isinstance(node, dict):
                return {str(k): self.convert(v, depth + 1) for k, v in node.items()}
            return [self.convert(v, depth + 1) for v in node]
        finally:
            self.open.discard(id(node))


def _plain(node: Any, path: str = "<data>", budget: int | None = None) -> Any:
    return _Plain(path, budget if budget is not None else 1 << 62).convert(node)


@dataclass(frozen=True)
class Document:
    """A parsed file: the plain data and where its keys and items are (``tree``)."""

    path: str
    data: Any
    tree: LineMap | None
    digest: str = field(default="", compare=False)  # SHA-256 of the text (cache.py)

    def locate(self, where: Sequence[PathItem], *, key: bool = False) -> tuple[int, int]:
        """1-based line and column of the value at ``where`` (or of its key)."""
        return locate(self.tree, tuple(where), key)

    def problem(
        self, where: Sequence[PathItem], message: str, *, key: bool = False, check: str = "schema"
    ) -> Problem:
        line, col = self.locate(where, key=key)
        return Problem(self.path, line, col, clip(message, MAX_MESSAGE), check,
                       where=tuple(where))


class _SelfReference(Exception):
    def __init__(self, mark: Any) -> None:
        self.mark = mark


@functools.cache
def _composer() -> type[Any]:
    """ruamel's composer, refusing an alias inside the value of its own anchor
    (``&x {self: *x}``), which ruamel would silently read as an empty value. ruamel.yaml
    is imported only when a file needs it (~0.05 s)."""
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.events import AliasEvent

    class _Composer(Composer):
        def compose_node(self, parent: Any, index: Any) -> Any:
            open_anchors: list[Any] = self.__dict__.setdefault("open_anchors", [])
            event = self.parser.peek_event()
            if isinstance(event, AliasEvent):
                if event.anchor in open_anchors:
                    raise _SelfReference(event.start_mark)
                return super().compose_node(parent, index)
            open_anchors.append(event.anchor)
            try:
                return super().compose_node(parent, index)
            finally:
                open_anchors.pop()

    return _Composer


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.max_depth = MAX_DEPTH
    yaml.Composer = _composer()
    return yaml


def _mark_problem(path: str, mark: Any, message: str, check: str) -> ConfigError:
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return ConfigError([Problem(path, line, col, message, check)])


def _flow_depth_check(text: str, path: str) -> None:
    """Refuse deep [ { nesting before ruamel sees it: its scanner takes time quadratic in
    the depth of flow collections (a megabyte of '[' would run for hours)."""
    depth = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            col = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            raise ConfigError([Problem(path, line, col, f"te diep genest (meer dan "
                                                        f"{MAX_DEPTH} niveaus)", READ)])


def parse_text(text: str, path: str) -> Document:
    """Parse YAML (or JSON, which YAML reads too); a syntax error becomes a Problem.

    Beyond the limits (nesting, aliases expanding to more values than the file has
    bytes, a value containing itself) the problem's check is ``READ``: not checked."""
    _flow_depth_check(text, path)
    budget = max(MIN_NODE_BUDGET, len(text))
    digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    fast = parse_c(text, MAX_DEPTH, budget)
    if fast is not None:
        return Document(path, fast[0], fast[1], digest)
    tree = _ruamel_tree(text, path)
    return Document(path, _plain(tree, path, budget), from_ruamel(tree), digest)


def _ruamel_tree(text: str, path: str) -> Any:
    """The file read by ruamel.yaml (round trip); its errors as Problems."""
    from ruamel.yaml.composer import MaxDepthExceededError
    from ruamel.yaml.error import MarkedYAMLError

    try:
        return _yaml().load(text)
    except _SelfReference as exc:
        raise _mark_problem(path, exc.mark, "YAML-alias verwijst naar de waarde waar hij zelf "
                                            "in staat (&naam ... *naam): niet toegestaan",
                            READ) from None
    except (MaxDepthExceededError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _mark_problem(path, mark, f"te diep genest (meer dan {MAX_DEPTH} niveaus)",
                            READ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = clip((exc.problem or exc.context or "ongeldige YAML").strip(), MAX_MESSAGE)
        context = exc.context_mark
        if exc.problem and context is not None and mark is not None and context.line != mark.line:
            what += f" ({clip((exc.context or 'begonnen').strip())} op regel {context.line + 1})"
        raise _mark_problem(path, mark, f"ongeldige YAML: {what}", "syntax") from None
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. bad tags)
        message = f"ongeldige YAML: {clip(str(exc), MAX_MESSAGE)}"
        raise ConfigError([Problem(path, 1, 1, message, "syntax")]) from None


def _number(n: int) -> str:
    return f"{n:,}".replace(",", ".")  # Dutch: 1.048.576


class _Refused(Exception):
    """A file that is not read: the message says why."""


def _refusal(path: Path, exc: OSError) -> str:
    """Why the file at ``path`` cannot be opened, in Dutch."""
    if exc.errno == errno.ENOENT:
        return ("symbolische link naar een bestand dat niet bestaat"
                if path.is_symlink() else "bestand niet gevonden")
    if exc.errno == errno.ELOOP:
        return "symbolische links verwijzen in een kring naar elkaar (symlink-lus)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "geen leesrechten op dit bestand"
    if exc.errno == errno.EISDIR:
        return "dit is een map, geen bestand"
    return f"bestand niet leesbaar ({exc.strerror or exc.__class__.__name__})"


def _read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes: a regular file of at most ``limit`` bytes, else a refusal."""
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                what = "een map" if stat.S_ISDIR(info.st_mode) else "een apparaat of pipe"
                raise _Refused(f"geen gewoon bestand maar {what}")
            data = handle.read(limit + 1) if info.st_size <= limit else b""
    except OSError as exc:
        raise _Refused(_refusal(path, exc)) from None
    if info.st_size > limit or len(data) > limit:
        size = max(info.st_size, len(data))
        raise _Refused(f"bestand is te groot ({_number(size)} bytes, maximaal "
                       f"{_number(limit)}; een ander maximum: {MAX_FILE_ENV})")
    return data


def decode(data: bytes, path: str) -> str:
    """UTF-8 text without NUL bytes; binary content is refused (``READ``)."""
    try:
        if b"\0" in data:
            raise UnicodeError
        return data.decode("utf-8")
    except UnicodeError:
        raise ConfigError([Problem(path, 1, 1, "geen tekstbestand (binaire inhoud of geen "
                                               "UTF-8)", READ)]) from None


def read_text(path: Path | str) -> str:
    """The text of a YAML/JSON file, within the size limit; ConfigError (``READ``) if not."""
    shown = display_path(path)
    try:
        data = _read_bytes(Path(path), max_file_bytes())
    except _Refused as refused:
        cache.note_read(path, None)
        raise ConfigError([Problem(shown, 1, 1, str(refused), READ)]) from None
    cache.note_read(path, data)
    return decode(data, shown)


def file_state(path: Path | str) -> str:
    """What ``read_text`` would find now: the SHA-256 of the bytes, or ``cache.UNREADABLE``
    (for checking a cached result's manifest)."""
    try:
        return cache.file_digest(_read_bytes(Path(path), max_file_bytes()))
    except _Refused:
        return cache.UNREADABLE


def read_stream(stream: Any, path: str) -> str:
    """Standard input (or another text stream), within the size limit."""
    limit = max_file_bytes()
    buffer = getattr(stream, "buffer", None)
    data = buffer.read(limit + 1) if buffer is not None else \
        stream.read(limit + 1).encode("utf-8", "surrogateescape")
    if len(data) > limit:
        raise ConfigError([Problem(path, 1, 1, f"invoer is te groot (meer dan {_number(limit)} "
                                               f"bytes; een ander maximum: {MAX_FILE_ENV})",
                                   READ)])
    return decode(data, path)


def read_document(path: Path | str) -> Document:
    text, shown = read_text(path), display_path(path)
    return cache.once("document", (shown, text), lambda: _cached_parse(text, shown))


def _cached_parse(text: str, shown: str) -> Document:
    if not cache.enabled():
        return parse_text(text, shown)
    entry = cache.key("document", (shown, text))
    doc = cache.load("document", entry)
    if not isinstance(doc, Document):
        doc = parse_text(text, shown)  # a file that does not parse raises: not kept
        cache.store("document", entry, doc)
    return doc


# --- schemas ------------------------------------------------------------------------------

SCHEMA_FILES = {
    "protocol": "protocol.schema.json",
    "school": "school.schema.json",
    "scenarios": "scenarios.schema.json",
    "board": "board.schema.json",
}


def schema_text(kind: str) -> str:
    return resources.files("meldroute.schemas").joinpath(SCHEMA_FILES[kind]).read_text("utf-8")


@functools.cache
def validator(kind: str) -> Draft202012Validator:
    """The schema's validator. The shipped schemas are checked against the draft 2020-12
    meta-schema by the tests (``tests/test_cli_speed.py``), not on every start."""
    from jsonschema import Draft202012Validator

    schema = json.loads(schema_text(kind))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


_TYPES_NL = {
    "string": "tekst",
    "integer": "een geheel getal",
    "number": "een getal",
    "boolean": "true of false",
    "object": "een mapping (sleutel: waarde)",
    "array": "een lijst",
    "null": "leeg",
}
_FORMATS_NL = {"email": "e-mailadres", "date": "datum (JJJJ-MM-DD)"}


def show_value(value: Any) -> str:
    """A value as a message quotes it: JSON-like and cut short, or what it is (a mapping,
    a list, a value with a YAML tag) rather than Python's or ruamel's name for it."""
    if isinstance(value, dict):
        return "een mapping"
    if isinstance(value, list):
        return "een lijst"
    if type(value).__name__ == "ScalarBoolean":  # ruamel's int for an anchored true/false
        value = bool(value)
    if not isinstance(value, str | int | float | None):  # !!binary, !!set, !eigen: ruamel's types
        return "een waarde met een YAML-tag"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 2] + '…"'


def _allowed_keys(schema: Mapping[str, Any]) -> list[str]:
    return sorted(schema.get("properties", {}))


def _type_message(inst: Any, vv: Any) -> str:
    names = [vv] if isinstance(vv, str) else list(vv)
    want = " of ".join(_TYPES_NL.get(n, n) for n in names)
    return f"verwacht {want}, gevonden {show_value(inst)}"


def _pattern_message(inst: Any, vv: Any) -> str:
    if "@" in vv:  # an e-mail address (the pattern refuses ?, & and the like): as format
        return f"waarde {show_value(inst)} is geen geldig {_FORMATS_NL['email']}"
    if isinstance(inst, str) and inst.endswith("\n") and re.search(vv, inst.rstrip("\n")):
        # an id written as a YAML block (|) or with "\n": right but for the line break
        return (f"waarde {show_value(inst)} heeft niet de juiste vorm: er staat een regeleinde "
                "achter (schrijf de waarde op één regel, zonder |)")
    hint = ""
    if vv.startswith("^[a-z]"):
        hint = " (kleine letters, cijfers, '_' of '-', beginnend met een letter)"
    elif vv.startswith("^[0-9]{4}"):
        hint = " (JJJJ-MM-DD)"
    return f"waarde {show_value(inst)} heeft niet de juiste vorm{hint}"


def _min_length_message(inst: Any, vv: Any) -> str:
    if vv <= 1:
        return "waarde mag niet leeg zijn"
    return f"waarde {show_value(inst)} is te kort (minimaal {vv} tekens)"


# validator keyword -> the one Dutch message for it, from (instance, validator value)
_ONE_MESSAGE: dict[str, Callable[[Any, Any], str]] = {
    "type": _type_message,
    "enum": lambda inst, vv: (f"waarde {show_value(inst)} is niet toegestaan "
                              f"(toegestaan: {', '.join(str(x) for x in vv)})"),
    "const": lambda inst, vv: f"waarde {show_value(inst)} is niet toegestaan (verwacht: {vv})",
    "pattern": _pattern_message,
    "minLength": _min_length_message,
    "maxLength": lambda inst, vv: f"waarde is te lang: {len(inst)} tekens, maximaal {vv}",
    "minItems": lambda inst, vv: f"lijst heeft minimaal {vv} element(en) nodig",
    "uniqueItems": lambda inst, vv: "lijst bevat dubbele waarden",
    "minimum": lambda inst, vv: f"waarde {inst} is kleiner dan het minimum {vv}",
    "maximum": lambda inst, vv: f"waarde {inst} is groter dan het maximum {vv}",
    "format": lambda inst, vv: (f"waarde {show_value(inst)} is geen geldig "
                                f"{_FORMATS_NL.get(vv, vv)}"),
    "minProperties": lambda inst, vv: f"verwacht minstens {vv} sleutel(s)",
}


def _messages(error: ValidationError) -> Iterator[tuple[list[PathItem], str, bool]]:
    """(path, Dutch message, points-at-key) for one validation error."""
    where = list(error.absolute_path)
    v = error.validator
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    inst: Any = error.instance
    vv: Any = error.validator_value
    if v == "required":
        m = re.match(r"^'(.+)' is a required property$", error.message)
        missing = [m.group(1)] if m else [k for k in vv if k not in inst]
        for key in missing:
            yield where, f"verplichte sleutel '{key}' ontbreekt", False
    elif v == "additionalProperties" and isinstance(inst, dict):
        allowed = _allowed_keys(schema)
        for key in inst:
            if key not in allowed:
                yield (
                    [*where, key],
                    f"onbekende sleutel '{clip(str(key))}' (toegestaan: {', '.join(allowed)})",
                    True,
                )
    elif v in ("minProperties", "maxProperties") and "ask" in schema.get("properties", {}):
        kinds = ", ".join(_allowed_keys(schema))
        yield where, f"elk onderdeel van 'then' heeft precies één soort ({kinds})", False
    elif v == "not" and isinstance(vv, dict) and "required" in vv:
        for key in vv["required"]:
            yield [*where, key], f"sleutel '{key}' is hier niet toegestaan", True
    elif v in ("oneOf", "anyOf") and error.context:
        from jsonschema.exceptions import best_match

        yield from _messages(best_match(error.context))
    elif v == "propertyNames":
        yield where, f"ongeldige sleutel {show_value(inst)}", True
    elif isinstance(v, str) and v in _ONE_MESSAGE:
        yield where, _ONE_MESSAGE[v](inst, vv), False
    else:
        yield where, error.message, False


def schema_problems(doc: Document, kind: str, check: str = "schema") -> list[Problem]:
    """Every schema error of ``doc``, as Problems with Dutch messages, in file order."""
    if not doc.digest:  # not parsed from a text (e.g. merged with a board's defaults)
        return _schema_problems(doc, kind, check)
    # the same bytes under another path (rules/x.yaml, rules/scenarios/../x.yaml): the
    # same verdict, and no problems to place
    path, problems = cache.once("schema", (kind, check, doc.digest),
                                lambda: (doc.path, _schema_problems(doc, kind, check)))
    return list(problems) if path == doc.path or not problems else \
        _schema_problems(doc, kind, check)


def _schema_problems(doc: Document, kind: str, check: str) -> list[Problem]:
    entry = cache.key("schema", (kind, check, doc.path, doc.digest)) \
        if doc.digest and cache.enabled() else ""
    cached = cache.load("schema", entry) if entry else None
    if isinstance(cached, list):
        return cached
    from . import schemafast

    problems = []
    # a valid document needs no jsonschema (schemafast.py); any other gets its messages
    errors = () if schemafast.valid(kind, doc.data) else validator(kind).iter_errors(doc.data)
    for error in errors:
        for where, message, at_key in _messages(error):
            problems.append(doc.problem(where, message, key=at_key, check=check))
    result = sorted(set(problems))
    if entry:
        cache.store("schema", entry, result)
    return result


def load_checked(path: Path | str, kind: str) -> Document:
    doc = read_document(path)
    problems = schema_problems(doc, kind)
    if problems:
        raise ConfigError(problems)
    return doc
