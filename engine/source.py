"""Reading YAML/JSON files with their line numbers, and schema validation with messages.

Files are read with ruamel.yaml in round-trip mode, which keeps the line and column of
every key and item, so a problem found on the plain data can be reported as
``path:line:col``. Schemas are JSON Schema draft 2020-12 files in ``schemas/``; each
validator is built once.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from .errors import ConfigError, Problem

PathItem = str | int


def display_path(path: Path | str) -> str:
    """The path as a person would type it: relative to the working folder when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, dt.datetime):
        return node.isoformat()
    if isinstance(node, dt.date):
        return node.isoformat()
    return node


@dataclass(frozen=True)
class Document:
    """A parsed file: the plain data and the round-trip tree that knows where things are."""

    path: str
    data: Any
    tree: Any

    def locate(self, where: Sequence[PathItem], *, key: bool = False) -> tuple[int, int]:
        """1-based line and column of the value at ``where`` (or of its key)."""
        node = self.tree
        line, col = 1, 1
        if getattr(node, "lc", None) is not None and node.lc.line is not None:
            line, col = node.lc.line + 1, node.lc.col + 1
        for i, part in enumerate(where):
            last = i == len(where) - 1
            try:
                if isinstance(node, CommentedMap):
                    pos = node.lc.key(part) if (last and key) else node.lc.value(part)
                    node = node[part]
                elif isinstance(node, CommentedSeq):
                    pos = node.lc.item(part)
                    node = node[part]
                else:
                    break
            except (KeyError, IndexError, TypeError, AttributeError):
                break
            if pos and pos[0] is not None:
                line, col = pos[0] + 1, pos[1] + 1
        return line, col

    def problem(
        self, where: Sequence[PathItem], message: str, *, key: bool = False, check: str = "schema"
    ) -> Problem:
        line, col = self.locate(where, key=key)
        return Problem(self.path, line, col, message, check, where=tuple(where))


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def parse_text(text: str, path: str) -> Document:
    """Parse YAML (or JSON, which YAML reads too); a syntax error becomes a Problem."""
    try:
        tree = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = (exc.problem or exc.context or "ongeldige YAML").strip()
        context = exc.context_mark
        if exc.problem and context is not None and mark is not None and context.line != mark.line:
            what += f" ({(exc.context or 'begonnen').strip()} op regel {context.line + 1})"
        raise ConfigError([Problem(path, line, col, f"ongeldige YAML: {what}", "syntax")]) from None
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. bad tags)
        raise ConfigError([Problem(path, 1, 1, f"ongeldige YAML: {exc}", "syntax")]) from None
    return Document(path, _plain(tree), tree)


def read_document(path: Path | str) -> Document:
    shown = display_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(shown, 1, 1, "bestand niet gevonden", "syntax")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"bestand niet leesbaar: {exc.__class__.__name__}"
        raise ConfigError([Problem(shown, 1, 1, msg, "syntax")]) from None
    return parse_text(text, shown)


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
    schema = json.loads(schema_text(kind))
    Draft202012Validator.check_schema(schema)
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


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "een mapping"
    if isinstance(value, list):
        return "een lijst"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + '..."'


def _allowed_keys(schema: Mapping[str, Any]) -> list[str]:
    return sorted(schema.get("properties", {}))


def _type_message(inst: Any, vv: Any) -> str:
    names = [vv] if isinstance(vv, str) else list(vv)
    want = " of ".join(_TYPES_NL.get(n, n) for n in names)
    return f"verwacht {want}, gevonden {_show(inst)}"


def _pattern_message(inst: Any, vv: Any) -> str:
    hint = ""
    if vv.startswith("^[a-z]"):
        hint = " (kleine letters, cijfers, '_' of '-', beginnend met een letter)"
    elif vv.startswith("^[0-9]{4}"):
        hint = " (JJJJ-MM-DD)"
    return f"waarde {_show(inst)} heeft niet de juiste vorm{hint}"


def _min_length_message(inst: Any, vv: Any) -> str:
    if vv <= 1:
        return "waarde mag niet leeg zijn"
    return f"waarde {_show(inst)} is te kort (minimaal {vv} tekens)"


# validator keyword -> the one Dutch message for it, from (instance, validator value)
_ONE_MESSAGE: dict[str, Callable[[Any, Any], str]] = {
    "type": _type_message,
    "enum": lambda inst, vv: (f"waarde {_show(inst)} is niet toegestaan "
                              f"(toegestaan: {', '.join(str(x) for x in vv)})"),
    "const": lambda inst, vv: f"waarde {_show(inst)} is niet toegestaan (verwacht: {vv})",
    "pattern": _pattern_message,
    "minLength": _min_length_message,
    "maxLength": lambda inst, vv: f"waarde is te lang: {len(inst)} tekens, maximaal {vv}",
    "minItems": lambda inst, vv: f"lijst heeft minimaal {vv} element(en) nodig",
    "uniqueItems": lambda inst, vv: "lijst bevat dubbele waarden",
    "minimum": lambda inst, vv: f"waarde {inst} is kleiner dan het minimum {vv}",
    "maximum": lambda inst, vv: f"waarde {inst} is groter dan het maximum {vv}",
    "format": lambda inst, vv: f"waarde {_show(inst)} is geen geldig {_FORMATS_NL.get(vv, vv)}",
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
                    f"onbekende sleutel '{key}' (toegestaan: {', '.join(allowed)})",
                    True,
                )
    elif v in ("minProperties", "maxProperties") and "ask" in schema.get("properties", {}):
        kinds = ", ".join(_allowed_keys(schema))
        yield where, f"elk onderdeel van 'then' heeft precies één soort ({kinds})", False
    elif v == "not" and isinstance(vv, dict) and "required" in vv:
        for key in vv["required"]:
            yield [*where, key], f"sleutel '{key}' is hier niet toegestaan", True
    elif v in ("oneOf", "anyOf") and error.context:
        yield from _messages(best_match(error.context))
    elif v == "propertyNames":
        yield where, f"ongeldige sleutel {_show(inst)}", True
    elif isinstance(v, str) and v in _ONE_MESSAGE:
        yield where, _ONE_MESSAGE[v](inst, vv), False
    else:
        yield where, error.message, False


def schema_problems(doc: Document, kind: str, check: str = "schema") -> list[Problem]:
    """Every schema error of ``doc``, as Problems with Dutch messages, in file order."""
    problems = []
    for error in validator(kind).iter_errors(doc.data):
        for where, message, at_key in _messages(error):
            problems.append(doc.problem(where, message, key=at_key, check=check))
    return sorted(set(problems))


def load_checked(path: Path | str, kind: str) -> Document:
    doc = read_document(path)
    problems = schema_problems(doc, kind)
    if problems:
        raise ConfigError(problems)
    return doc
