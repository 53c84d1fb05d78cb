"""Issue 13 follow-up: an id that ends in a line break is refused.

Python's "$" (jsonschema checks a ``pattern`` with ``re.search``) also matches before a
final line break, so ``id: |`` (a YAML block keeps its last line break) or
``id: "regenboog\\n"`` passed ``^[a-z][a-z0-9-]*$``. Every ``$`` in the schemas is now
written ``$(?!\\n)``: the end of the text for jsonschema, for the generated quick check
(``engine/schemafast.py``) and in ECMA-262 regular expressions alike.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from meldroute.engine import schemafast, shipped_dir, source
from meldroute.engine.check import kind_of

from .clirun import run_meldroute
from .conftest import DEMO_FILE, PROTOCOL_FILE

BREAK = ("heeft niet de juiste vorm: er staat een regeleinde achter (schrijf de waarde op "
         "één regel, zonder |)")


def _patterns(schema: Any) -> list[str]:
    """Every pattern of a schema: the ``pattern`` values and ``patternProperties`` keys."""
    if isinstance(schema, list):
        return [p for item in schema for p in _patterns(item)]
    if not isinstance(schema, dict):
        return []
    found = [schema["pattern"]] if isinstance(schema.get("pattern"), str) else []
    found += list(schema.get("patternProperties") or {})
    return found + [p for value in schema.values() for p in _patterns(value)]


def test_every_dollar_in_the_schemas_refuses_a_final_line_break():
    """Also in schemas the quick check does not cover (oidc.schema.json)."""
    files = sorted(shipped_dir("schemas").glob("*.schema.json"))
    assert len(files) >= 5
    for path in files:
        patterns = _patterns(json.loads(path.read_text(encoding="utf-8")))
        for pattern in patterns:
            bare = [m.start() for m in re.finditer(r"(?<!\\)\$", pattern)
                    if not pattern.startswith(r"$(?!\n)", m.start())]
            assert bare == [], f"{path.name}: {pattern!r} (write $ as $(?!\\n))"
            assert re.search(pattern, "a\n") is None, f"{path.name}: {pattern!r}"


def test_a_school_and_a_protocol_with_such_an_id_fail_the_check_clearly(tmp_path: Path):
    """Through the real command: a Dutch file:line:col message, exit 1; the quick check
    and jsonschema both refuse the file."""
    school = DEMO_FILE.read_text(encoding="utf-8").replace(
        "\nid: regenboog\n", "\nid: |\n  regenboog\n", 1)
    protocol = PROTOCOL_FILE.read_text(encoding="utf-8").replace(
        "\nid: meldcode-onderwijs\n", '\nid: "meldcode-onderwijs\\n"\n', 1)
    (tmp_path / "school.yaml").write_text(school, encoding="utf-8")
    (tmp_path / "protocol.yaml").write_text(protocol, encoding="utf-8")
    done = run_meldroute(["check", "school.yaml", "protocol.yaml"], tmp_path)
    assert "Traceback" not in done.stderr
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[:2] == [
        f'protocol.yaml:16:5: waarde "meldcode-onderwijs\\n" {BREAK}',
        f'school.yaml:4:5: waarde "regenboog\\n" {BREAK}']
    for name in ("school.yaml", "protocol.yaml"):
        doc = source.read_document(tmp_path / name)
        kind = kind_of(doc)
        assert not schemafast.valid(kind, doc.data)
        assert not source.validator(kind).is_valid(doc.data)


def test_an_id_with_another_fault_besides_the_line_break_gets_the_usual_message():
    doc = source.Document("school.yaml", {"id": "Regenboog\n", "name": "De Regenboog"}, None)
    assert [p.message for p in source.schema_problems(doc, "school")] == [
        "waarde \"Regenboog\\n\" heeft niet de juiste vorm (kleine letters, cijfers, '_' of "
        "'-', beginnend met een letter)"]
