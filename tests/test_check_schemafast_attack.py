"""Issue 13, round 4 review: attacks on the quick schema check and the quick route check.

The guarantee: ``schemafast.valid`` never calls a document valid that jsonschema (with the
project's format checker) refuses, and ``routegraph.sound_route`` never calls a broken
route sound. For the schemas as shipped both hold (the documents the loader can give,
with odd values in every place, get the same verdict; see the report of this round).
What broke it: the code generator itself. fastjsonschema writes draft-7 code, so after a
schema change ``python -m meldroute.engine.schemafast`` silently wrote code that skips or
weakens what jsonschema checks for draft 2020-12 (a keyword beside ``$ref``,
``dependentRequired``, a ``$`` in a negative look-ahead, ...). It now refuses such a
schema. Also here: a changed schema with stale generated code gets jsonschema's messages,
the copied format checks agree with jsonschema's, and the route check's awkward routes.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from meldroute.engine import load_protocol, routegraph, schemafast, source
from meldroute.engine.consequences import consequence_from_data
from meldroute.engine.loader import shipped_protocol_files
from meldroute.engine.model import Protocol, Rule

ROOT = Path(__file__).resolve().parent.parent
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _jsonschema_accepts(schema: dict[str, Any], doc: Any) -> bool:
    from jsonschema import Draft202012Validator as V

    return V(schema, format_checker=V.FORMAT_CHECKER).is_valid(doc)


def _run_generated(text: str, kind: str, doc: Any) -> bool:
    """Whether generated module text (``schemafast.generate()``) accepts ``doc``."""
    namespace: dict[str, Any] = {}
    exec(compile(text, "schemafast_generated", "exec"), namespace)
    _, check = namespace["VALIDATORS"][kind]
    try:
        check(doc, schemafast.FORMATS)
    except Exception:
        return False
    return True


def _generated_accepts(schema: dict[str, Any], doc: Any) -> bool | None:
    """Whether the code generated for ``schema`` accepts ``doc``; None when generating
    refuses the schema."""
    pytest.importorskip("fastjsonschema")
    try:
        body, entry = schemafast._code("x", schema)
    except RuntimeError:
        return None
    text = schemafast.HEADER.format(version="-") + body + f"\nVALIDATORS = {{'x': ('', {entry})}}\n"
    return _run_generated(text, "x", doc)


# (what, schema, a document jsonschema refuses); each is checked more leniently (or not
# at all) by the code fastjsonschema writes for it
LENIENT = [
    ("a keyword beside $ref", {"$defs": {"t": {"type": "string"}},
                               "properties": {"a": {"$ref": "#/$defs/t", "maxLength": 3}}},
     {"a": "te lang"}),
    ("dependentRequired", {"dependentRequired": {"phone": ["name"]}}, {"phone": "112"}),
    ("dependentSchemas", {"dependentSchemas": {"a": {"required": ["b"]}}}, {"a": 1}),
    ("unevaluatedProperties", {"properties": {"a": {}}, "unevaluatedProperties": False},
     {"b": 1}),
    ("prefixItems", {"prefixItems": [{"type": "string"}]}, [1]),
    ("maxContains", {"contains": {"type": "integer"}, "maxContains": 1}, [1, 2]),
    ("multipleOf", {"multipleOf": 0.01}, 0.07),
    ("$ in a negative look-ahead", {"type": "string", "pattern": "^(?!.*geheim$)"},
     "dossier geheim\n"),
    ("a type list with array", {"type": ["array", "null"]}, ("a",)),
    # fastjsonschema keeps one regex per text: the \\Z version of the pattern (in a
    # function written after) then also decides which keys the key pattern matches
    ("a $ in a key pattern that is also a pattern",
     {"$defs": {"t": {"type": "string", "pattern": "^a$"}},
      "properties": {"z": {"$ref": "#/$defs/t"}},
      "patternProperties": {"^a$": {"type": "integer"}}}, {"a\n": "x"}),
    ("$dynamicRef", {"$dynamicAnchor": "n", "type": "object",
                     "properties": {"a": {"$dynamicRef": "#n"}}}, {"a": 1}),
]


@pytest.mark.parametrize(("what", "schema", "doc"), LENIENT, ids=[c[0] for c in LENIENT])
def test_generating_never_writes_code_more_lenient_than_jsonschema(what, schema, doc):
    """A schema the generated code would check more leniently is refused when generating
    (or, for a type list, the code is made as strict): it never calls ``doc`` valid."""
    schema = {"$schema": DRAFT, "$id": "https://meldroute.nl/schemas/x.schema.json",
              **copy.deepcopy(schema)}  # fastjsonschema rewrites the $refs it is given
    assert not _jsonschema_accepts(schema, doc)
    assert _generated_accepts(schema, doc) is not True, what


def test_a_schema_edited_with_a_limit_beside_ref_is_refused_when_regenerating(monkeypatch):
    """The way a maintainer would make a title shorter: ``{"$ref": ..., "maxLength":
    200}``. Regenerating refuses it instead of writing code that lets a long title pass."""
    pytest.importorskip("fastjsonschema")
    schema = json.loads(source.schema_text("protocol"))
    schema["properties"]["title"] = {"$ref": "#/$defs/text", "maxLength": 200}
    real = source.schema_text
    monkeypatch.setattr(source, "schema_text", lambda kind: json.dumps(schema)
                        if kind == "protocol" else real(kind))
    protocol = copy.deepcopy(source.read_document(shipped_protocol_files()[0]).data)
    protocol["title"] = "Meldcode " * 40
    assert not _jsonschema_accepts(schema, protocol)
    with pytest.raises(RuntimeError, match="properties/title/maxLength"):
        schemafast.generate()


@pytest.mark.parametrize("pattern", ["^[a-z]+$(?!\\n)", "^(?!.*geheim$(?!\\n))",
                                     "^(a|b$(?!\\n))c?$(?!\\n)"])
def test_a_dollar_before_no_line_break_is_checked_alike_wherever_it_stands(pattern):
    """A "$(?!\\n)" is the end of the text for both validators (also in a negative
    look-ahead, where a bare "$" is refused), so generating accepts it anywhere."""
    schema = {"$schema": DRAFT, "$id": "https://meldroute.nl/schemas/x.schema.json",
              "type": "object",
              "properties": {"p": {"type": "string", "pattern": pattern}},
              "patternProperties": {pattern: {"type": "integer"}}}
    assert schemafast.unsupported(schema) == []
    for text in ["abc", "abc\n", "a", "a\n", "dossier geheim", "dossier geheim\n", "b", "b\n",
                 "bc", "bc\n", "ac\n"]:
        for doc in ({"p": text}, {text: "x"}, {text: 1}):
            assert _generated_accepts(schema, doc) == _jsonschema_accepts(schema, doc), (text, doc)


def test_the_shipped_schemas_use_nothing_the_generator_refuses():
    for kind in schemafast.KINDS:
        assert schemafast.unsupported(json.loads(source.schema_text(kind))) == [], kind


def test_a_schema_changed_but_not_regenerated_gets_jsonschemas_message(monkeypatch):
    """A stricter schema with the old generated code: jsonschema decides and says why."""
    schema = json.loads(source.schema_text("school"))
    schema["properties"]["name"]["maxLength"] = 5
    real = source.schema_text
    monkeypatch.setattr(source, "schema_text", lambda kind: json.dumps(schema)
                        if kind == "school" else real(kind))
    schemafast._validator.cache_clear()
    source.validator.cache_clear()
    try:
        school = {"id": "demo", "name": "Basisschool De Regenboog"}
        assert not schemafast.valid("school", school)
        problems = source.schema_problems(source.Document("school.yaml", school, None), "school")
        assert [p.message for p in problems] == ["waarde is te lang: 24 tekens, maximaal 5"]
    finally:
        schemafast._validator.cache_clear()
        source.validator.cache_clear()


# (line of the demo school, what it becomes): values the YAML reader gives as types of
# their own (ruamel's ScalarBoolean, ScalarFloat, HexInt, TaggedScalar, bytes, timestamps)
YAML_VALUES = [
    ("name: Basisschool De Regenboog", "name: !tekst Regenboog"),
    ("name: Basisschool De Regenboog", "name: !!binary UmVnZW5ib29n"),
    ("name: Basisschool De Regenboog", "name: 2026-01-05"),
    ("name: Basisschool De Regenboog", "name: 2026-01-05 10:00:00"),
    ("name: Basisschool De Regenboog", "name: !!set {Regenboog}"),
    ("id: regenboog", "id: &id regenboog"),
    ("id: regenboog", "id: \"regenboog\\n\""),
    ("id: regenboog", "id: |\n  regenboog"),
    ("    phone: \"0412-673700\"", "    phone: &t true"),
    ("protocols: [meldcode-onderwijs, meldplicht-medewerker]",
     "protocols: !!omap [meldcode-onderwijs: 1]"),
    ("protocols: [meldcode-onderwijs, meldplicht-medewerker]", "retention_years: &j true"),
    ("protocols: [meldcode-onderwijs, meldplicht-medewerker]", "retention_years: 3.0"),
    ("protocols: [meldcode-onderwijs, meldplicht-medewerker]", "retention_years: 0x3"),
    ("protocols: [meldcode-onderwijs, meldplicht-medewerker]", "retention_years: .nan"),
]


@pytest.mark.parametrize(("line", "new"), YAML_VALUES, ids=[n for _, n in YAML_VALUES])
def test_values_of_the_yaml_readers_own_types_get_jsonschemas_verdict(line, new):
    text = (ROOT / "schools" / "demo.yaml").read_text(encoding="utf-8")
    assert line in text
    doc = source.parse_text(text.replace(line, new, 1), "demo.yaml")
    from jsonschema import Draft202012Validator as V

    slow = V(json.loads(source.schema_text("school")),
             format_checker=V.FORMAT_CHECKER).is_valid(doc.data)
    fast = schemafast.valid("school", doc.data)
    assert fast == slow  # also for an id ending in a line break: both refuse it
    assert (source.schema_problems(doc, "school") == []) == slow


def test_a_tagged_value_where_text_belongs_gets_a_dutch_message_not_a_traceback():
    text = (ROOT / "schools" / "demo.yaml").read_text(encoding="utf-8")
    doc = source.parse_text(text.replace("name: Basisschool De Regenboog",
                                         "name: !!binary UmVnZW5ib29n", 1), "demo.yaml")
    assert [(p.line, p.message) for p in source.schema_problems(doc, "school")] == [
        (5, "verwacht tekst, gevonden een waarde met een YAML-tag")]


DATES = ["2026-02-28", "2026-02-29", "2028-02-29", "2026-02-30", "2026-13-01", "2026-1-05",
         "20260105", "2026-W01-1", "2026-01-05T10:00", "2026-01-05\n", " 2026-01-05",
         "\u0662\u0660\u0662\u0666-01-05", "0000-01-01", "0001-01-01", "", 20260105, None]
EMAILS = ["a@b", "@", "geen-apenstaart", "a@b\n", "\uff20", "", "a@@b", 1, None]


@pytest.mark.parametrize(("fmt", "values"), [("date", DATES), ("email", EMAILS)])
def test_the_copied_format_checks_agree_with_jsonschemas(fmt, values):
    """``schemafast.FORMATS`` are copies of jsonschema's checks: with another jsonschema
    (pyproject allows any from 4.21) this fails before a school's check does."""
    from jsonschema import Draft202012Validator

    checker = Draft202012Validator.FORMAT_CHECKER
    for value in values:
        assert schemafast.FORMATS[fmt](value) == checker.conforms(value, fmt), repr(value)


# --- the route check --------------------------------------------------------------------

PROTOCOL = load_protocol(shipped_protocol_files()[0])
QUESTIONS = list(PROTOCOL.questions.values())


def _rule(rule_id: str, when: dict[str, tuple[str, ...]], then: dict[str, str]) -> Rule:
    return Rule(rule_id, "aanval", MappingProxyType(when), (consequence_from_data(then),))


def _asks(rule: Rule, targets: set[str]) -> bool:
    return bool({t for c in rule.then for t in c.targets()} & targets)


def _routes() -> list[tuple[str, Protocol]]:
    first, second, last = QUESTIONS[0], QUESTIONS[1], QUESTIONS[-1]
    a, b = QUESTIONS[-2], QUESTIONS[-1]
    inside = {routegraph.question_node(a.id), routegraph.question_node(b.id)}
    kept = tuple(r for r in PROTOCOL.rules if not _asks(r, inside))
    outcome = PROTOCOL.rules[-1]
    ends = {t for c in outcome.then for t in c.targets() if t.startswith("o:")}
    no_end = tuple(r for r in PROTOCOL.rules if not _asks(r, ends))
    routes = {
        "a cycle reachable only from itself": (*kept,
                                               _rule("ab", {a.id: (a.answers[0],)}, {"ask": b.id}),
                                               _rule("ba", {b.id: (b.answers[0],)}, {"ask": a.id})),
        "a self-loop": (*PROTOCOL.rules, _rule("zelf", {last.id: (last.answers[0],)},
                                               {"ask": last.id})),
        "an unknown question asked": (*PROTOCOL.rules, _rule("onbekend", {
            first.id: (first.answers[0],)}, {"ask": "bestaat_niet"})),
        "an outcome reached only from an unknown question": (*no_end, *(
            _rule(f"via_{i}", {"bestaat_niet": ("ja",)}, {"outcome": t.split(":", 1)[1]})
            for i, t in enumerate(sorted(ends)))),
        "several starts": (*PROTOCOL.rules, _rule("tweede_start", {}, {"ask": second.id}),
                           _rule("derde_start", {}, {"ask": last.id})),
        "several starts, one into a cycle": (*PROTOCOL.rules,
                                             _rule("start_b", {}, {"ask": last.id}),
                                             _rule("terug", {last.id: (last.answers[-1],)},
                                                   {"ask": first.id})),
    }
    return [(what, dataclasses.replace(PROTOCOL, rules=rules)) for what, rules in routes.items()]


@pytest.mark.parametrize(("what", "protocol"), _routes(), ids=[w for w, _ in _routes()])
def test_an_awkward_route_gets_the_verdict_networkx_gives(what, protocol, monkeypatch):
    quick = routegraph.graph_problems(protocol)
    with monkeypatch.context() as m:
        m.setattr(routegraph, "sound_route", lambda protocol: False)
        slow = routegraph.graph_problems(protocol)
    assert quick == slow, what
    unsound = any(p.message.startswith(("vraag", "uitkomst", "cyclus")) for p in slow)
    assert routegraph.sound_route(protocol) is not unsound, what
