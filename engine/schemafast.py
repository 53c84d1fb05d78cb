"""A quick JSON Schema check for valid documents; jsonschema still gives every message.

Most documents a command reads are valid: the shipped protocols, the scenarios, a
school's file. For them the answer "valid" is all that is needed, and jsonschema (~0.1 s
to import, ~0.1 s to check the Meldcode protocol) is not. ``schemafast_generated.py`` holds
Python code that fastjsonschema generated ahead of time from the shipped schemas (one
function per schema, each raise reduced to a bare ``Invalid``), so a command neither
imports nor compiles a validator. ``valid`` answers True only when that code accepts the
document; anything else (invalid, a schema changed since the code was generated, an
unexpected error) goes to jsonschema in ``source.schema_problems``, with its messages and
its verdict. The code is sound for the keywords our schemas use: a pattern's end is
``$(?!\\n)`` (the end of the text, not before a final line break), which is ``\\Z`` for
both validators (fastjsonschema turns a bare ``$`` into ``\\Z``, stricter than
jsonschema's), an array is a list (as for jsonschema; fastjsonschema's own code also takes
a tuple), and the formats are checked by this module's copies of jsonschema's own checks
(``email``, ``date``).
Generating refuses a schema with anything else (``unsupported``): fastjsonschema writes
draft-7 code, which skips a ``$ref``'s siblings and the keywords draft 7 lacks.

``tests/test_check_schemafast.py`` regenerates the code and compares it with the file, and
runs every shipped and test document (and a set of invalid ones) through both validators.
After changing a schema: ``python -m meldroute.engine.schemafast`` (needs fastjsonschema,
a test dependency).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import source

GENERATED = Path(__file__).with_name("schemafast_generated.py")
KINDS = tuple(source.SCHEMA_FILES)  # protocol, school, scenarios, board

# jsonschema 4's format checks for draft 2020-12 (jsonschema/_format.py: is_email, is_date)
_RE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def is_email(instance: object) -> bool:
    return not isinstance(instance, str) or "@" in instance


def is_date(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    try:
        return bool(_RE_DATE.fullmatch(instance) and dt.date.fromisoformat(instance))
    except ValueError:
        return False


FORMATS: dict[str, Callable[[object], bool]] = {"email": is_email, "date": is_date}


def schema_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def _validator(kind: str) -> Callable[..., Any] | None:
    """The generated function for ``kind``, if it was generated from the schema as it is
    now (else None: jsonschema checks)."""
    from . import schemafast_generated as generated

    digest, function = generated.VALIDATORS.get(kind, ("", None))
    if function is None or digest != schema_digest(source.schema_text(kind)):
        return None
    return function


def valid(kind: str, data: Any) -> bool:
    """True when ``data`` is valid against the schema of ``kind`` (then jsonschema would
    find no error); False when it may not be: ask jsonschema."""
    check = _validator(kind)
    if check is None:
        return False
    try:
        check(data, FORMATS)
    except Exception:  # Invalid, or anything unusual: jsonschema decides
        return False
    return True


# --- generating the code --------------------------------------------------------------------

# fastjsonschema writes draft-7 code: it skips the keywords draft 7 does not have, and the
# siblings of a $ref. The keywords it checks as jsonschema does for draft 2020-12 (or more
# strictly); a schema with any other is refused when generating, so the code never calls
# valid what jsonschema refuses (tests/test_check_schemafast_attack.py).
_ANNOTATIONS = frozenset({"$comment", "title", "description", "default", "examples",
                          "deprecated", "readOnly", "writeOnly"})
_SAME = _ANNOTATIONS | {
    "$schema", "$id", "$defs", "$ref", "type", "enum", "const", "properties",
    "patternProperties", "additionalProperties", "propertyNames", "required",
    "minProperties", "maxProperties", "items", "contains", "minItems", "maxItems",
    "uniqueItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "allOf", "anyOf", "oneOf", "not", "if", "then",
    "else"}
_ONE = ("additionalProperties", "propertyNames", "items", "contains", "not", "if", "then",
        "else")
_MANY = ("properties", "patternProperties", "$defs")
_DOLLAR = re.compile(r"(?<!\\)\$")  # as fastjsonschema finds the $ it turns into \Z
_END = r"(?!\n)"  # after a $: "\Z" for both, with or without fastjsonschema's change


def _dollar_differs(pattern: str, *, at_end: bool) -> bool:
    """Whether the generated code may check a ``$`` of ``pattern`` otherwise than
    jsonschema: each must be ``$(?!\\n)`` or, with ``at_end``, the pattern's last character
    (there the ``\\Z`` fastjsonschema makes of it is only stricter; in a negative look-ahead
    it would be more lenient)."""
    return any(not pattern.startswith(_END, m.end()) and not (at_end and m.end() == len(pattern))
               for m in _DOLLAR.finditer(pattern))


def unsupported(schema: Any, where: str = "#") -> list[str]:
    """The places in ``schema`` that the generated code would not check as jsonschema does
    (empty: the code may be generated)."""
    if isinstance(schema, bool):
        return []
    if not isinstance(schema, dict):
        return [f"{where} (not a schema)"]
    found = [f"{where}/{key}" for key in schema if key not in _SAME]
    if "$ref" in schema:  # draft 7: a $ref's siblings are not checked
        found += [f"{where}/{key}" for key in schema
                  if key not in _ANNOTATIONS | {"$ref", "$defs"}]
        if not str(schema["$ref"]).startswith("#"):
            found.append(f"{where}/$ref")
    if "$id" in schema and where != "#":
        found.append(f"{where}/$id")
    if "format" in schema and schema["format"] not in FORMATS:
        found.append(f"{where}/format")
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and _dollar_differs(pattern, at_end=True):
        found.append(f"{where}/pattern")
    # fastjsonschema compiles these keys unchanged but keeps one regex per text: a pattern
    # of the same text elsewhere may replace it with its \Z version
    found += [f"{where}/patternProperties/{key}" for key in dict(
        schema.get("patternProperties") or {}) if _dollar_differs(str(key), at_end=False)]
    for key in _ONE:
        if key in schema:
            found += unsupported(schema[key], f"{where}/{key}")
    for key in _MANY:
        for name, sub in dict(schema.get(key) or {}).items():
            found += unsupported(sub, f"{where}/{key}/{name}")
    for key in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(key) or []):
            found += unsupported(sub, f"{where}/{key}/{i}")
    return sorted(set(found))


_RAISE = re.compile(r"^(\s*)raise JsonSchemaValueException\(.*\)$")
_IMPORT = "from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException"
HEADER = '''# ruff: noqa
# mypy: ignore-errors
# Generated by `python -m meldroute.engine.schemafast` from schemas/*.schema.json with
# fastjsonschema {version}: do not edit. Each raise is reduced to a bare exception (the
# messages come from jsonschema, source.py). Read engine/schemafast.py.
"""Generated validators of the shipped JSON Schemas (engine/schemafast.py)."""

import re
from decimal import Decimal


class JsonSchemaValueException(ValueError):
    """The document does not match the schema."""


Invalid = JsonSchemaValuesException = JsonSchemaValueException
'''


def _code(kind: str, schema: dict[str, Any]) -> tuple[str, str]:
    """The generated code of one schema (its raises reduced, its patterns in a dict of
    their own) and the name of its entry function."""
    import fastjsonschema

    refused = unsupported(schema)
    if refused:
        raise RuntimeError(f"the {kind} schema uses what the generated code would not check "
                           f"as jsonschema does: {', '.join(refused)}")
    code = fastjsonschema.compile_to_code(schema, formats=dict(FORMATS), use_default=False)
    head, body = code.split(_IMPORT + "\n", 1)
    if set(head.splitlines()[1:]) - {"from decimal import Decimal", "import re"}:
        raise RuntimeError(f"unexpected imports in the code for the {kind} schema")
    lines = []
    for line in body.splitlines():
        match = _RAISE.match(line)
        lines.append(f"{match.group(1)}raise Invalid" if match else line)
    # the functions' names hold the schema's $id; the patterns get a dict per schema; an
    # array is a list, as for jsonschema (fastjsonschema also takes a tuple)
    body = "\n".join(lines).replace("REGEX_PATTERNS", f"REGEX_{kind.upper()}")
    body = body.replace("list, tuple", "list")  # also in a type list (array or null)
    entry = re.search(r"^def (validate_\w+)\(", body, re.M)
    if entry is None:  # pragma: no cover - fastjsonschema always writes one
        raise RuntimeError(f"unexpected code generated for the {kind} schema")
    return body, entry.group(1)


def generate() -> str:
    """The text of ``schemafast_generated.py`` for the schemas as they are."""
    import fastjsonschema

    parts = [HEADER.format(version=fastjsonschema.VERSION)]
    entries = []
    for kind in KINDS:
        text = source.schema_text(kind)
        body, entry = _code(kind, json.loads(text))
        parts.append(f"\n# --- {source.SCHEMA_FILES[kind]} ---\n{body.strip()}\n")
        entries.append(f"    {kind!r}: ({schema_digest(text)!r}, {entry}),")
    parts.append("\n# schema: (SHA-256 of the schema file's text, its function)\n"
                 "VALIDATORS = {\n" + "\n".join(entries) + "\n}\n")
    return "\n".join(parts)


def main() -> int:
    try:
        text = generate()
    except RuntimeError as exc:  # a schema the generated code would check more leniently
        print(exc, file=sys.stderr)
        return 2
    GENERATED.write_text(text, encoding="utf-8")
    print(f"{GENERATED} geschreven")
    return 0


if __name__ == "__main__":
    sys.exit(main())
