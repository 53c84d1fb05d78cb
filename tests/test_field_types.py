"""Field types: each class owns its form field, emptiness, stored value and display."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from werkzeug.datastructures import MultiDict

from meldroute.engine import FieldDef
from meldroute.engine.loader import shipped_dir
from meldroute.forms import (
    FIELD_TYPES,
    BuildContext,
    DisplayContext,
    FieldType,
    field_type,
    from_form,
    recorded_values,
    to_form,
)
from meldroute.forms import fields as field_types
from meldroute.forms.fields import DutchForm


def date_text(day: dt.date) -> str:
    return f"dag <{day:%d-%m-%Y}>"


@pytest.fixture
def display(protocol, demo):
    """The HTML a field type shows for a stored value (on the step ``signaleren``)."""
    def show(fdef, value):
        ctx = DisplayContext(protocol, protocol.step("signaleren"), demo, date_text)
        return str(field_type(fdef).display(value, ctx))
    return show


def test_the_registry_lists_exactly_the_types_the_protocol_schema_allows():
    schema = json.loads((shipped_dir("schemas") / "protocol.schema.json").read_text("utf-8"))
    assert sorted(FIELD_TYPES) == sorted(schema["$defs"]["field"]["properties"]["type"]["enum"])
    assert all(FIELD_TYPES[name].name == name for name in FIELD_TYPES)


def test_a_new_field_type_is_one_class(protocol, demo, display):
    class ShoutType(FieldType, name="shout"):
        def display(self, value, ctx):
            return super().display(value.upper(), ctx)

    try:
        fdef = FieldDef(id="kreet", type="shout", label="Kreet", required=True)
        ctx = BuildContext(protocol, protocol.step("signaleren"), demo, None)
        form = type("F", (DutchForm,), {"kreet": field_type(fdef).build(ctx)})(
            MultiDict({"kreet": " hallo <b> "}))
        assert form.validate()
        assert from_form([fdef], form.data) == {"kreet": "hallo <b>"}
        assert display(fdef, "hallo <b>") == "HALLO &lt;B&gt;"
        with pytest.raises(ValueError, match="twice"):
            type("Again", (FieldType,), {}, name="shout")
    finally:
        del field_types._REGISTRY["shout"]


def test_each_field_type_builds_a_field_that_validates(protocol, demo):
    ctx = BuildContext(protocol, protocol.step("signaleren"), demo, None)
    fdefs = [FieldDef(id=name, type=name, label=name, question="sterk_vermoeden")
             for name in FIELD_TYPES if name != "group"]
    form = type("F", (DutchForm,), {f.id: field_type(f).build(ctx) for f in fdefs})(
        MultiDict({"text": "x", "date": "2026-11-20", "answer": "ja", "boolean": "y",
                   "checklist": "1"}))
    assert form.validate(), form.errors
    assert from_form(fdefs, form.data) == {
        "text": "x", "textarea": None, "date": "2026-11-20", "boolean": True, "answer": "ja",
        "contacts": [], "roles": [], "checklist": ["1"]}


GROUP_DATA = [
    {"datum": dt.date(2026, 11, 20), "waargenomen_door": ["ib"], "feit": " F <1> ", "bron": ""},
    {"datum": None, "waargenomen_door": [], "feit": "", "bron": ""},  # an empty row
]
GROUP_STORED = [{"datum": "2026-11-20", "waargenomen_door": ["ib"], "feit": "F <1>", "bron": ""}]
GROUP_HTML = ('<div class="row"><span><em>Datum:</em> dag &lt;20-11-2026&gt;</span> '
              '<span><em>Waargenomen door:</em> intern begeleider</span> '
              '<span><em>Wat is gezien of gehoord (feitelijk):</em> F &lt;1&gt;</span> </div>')


def fdef(type_: str, **options) -> FieldDef:
    return FieldDef(id=type_, type=type_, label=type_.title(), **options)


@pytest.mark.parametrize(("field", "data", "stored", "html"), [
    (fdef("text"), "  a <b> ", "a <b>", "a &lt;b&gt;"),
    (fdef("textarea"), "regel 1\nregel 2 ", "regel 1\nregel 2", "regel 1\nregel 2"),
    (fdef("date"), dt.date(2026, 11, 20), "2026-11-20", "dag &lt;20-11-2026&gt;"),
    (fdef("boolean"), True, True, "ja"),
    (fdef("answer", question="sterk_vermoeden"), "nee", "nee", "Nee"),
    (fdef("contacts"), ["cjg", "veilig_thuis"], ["cjg", "veilig_thuis"],
     "Centrum Jeugd en Gezin Regenboogstad, Veilig Thuis (regio)"),
    (fdef("contacts", multiple=False), "cjg", "cjg", "Centrum Jeugd en Gezin Regenboogstad"),
    (fdef("roles"), ["leerkracht", "ib"], ["leerkracht", "ib"],
     "leerkracht, intern begeleider"),
    (fdef("roles", multiple=False), "", None, None),
    (fdef("checklist"), ["2", "1"], ["2", "1"],
     "Zoek naar onderbouwing van wat je gezien of gehoord hebt.; "
     "Documenteer observaties en feiten, zo objectief mogelijk."),
    (None, GROUP_DATA, GROUP_STORED, GROUP_HTML),
])
def test_stored_value_and_display_of_each_type(protocol, display, field, data, stored, html):
    field = field or protocol.step("signaleren").fields[0]  # the group observaties
    kind = field_type(field)
    assert kind.to_stored(data) == stored
    assert kind.to_stored(kind.from_stored(stored)) == stored
    assert kind.is_empty(stored) == (html is None)
    if html is not None:
        assert display(field, stored) == html


@pytest.mark.parametrize("name", sorted(FIELD_TYPES))
def test_nothing_recorded_is_empty_for_every_type(name):
    kind = field_type(fdef(name))
    assert all(kind.is_empty(v) for v in (None, "", [], False))
    assert not any(kind.is_empty(v) for v in ("x", ["1"], True, [{"a": "x"}]))


def test_values_stored_earlier_still_display(protocol, display):
    assert display(fdef("date"), "20-11-2026") == "20-11-2026"  # not ISO: as it was
    assert field_type(fdef("date")).from_stored("20-11-2026") is None
    assert display(fdef("checklist"), ["1", "9", "x"]) == \
        "Documenteer observaties en feiten, zo objectief mogelijk."
    assert display(fdef("boolean"), False) == "nee"
    assert display(fdef("answer", question="sterk_vermoeden"), "weet niet") == "weet niet"
    assert display(fdef("contacts"), "cjg") == "Centrum Jeugd en Gezin Regenboogstad"


def test_a_step_shows_its_recorded_values_in_order_without_the_empty_ones(protocol, demo):
    step = protocol.step("consulteren")
    stored = {"consultatie_datum": "2026-11-24", "geconsulteerd": ["cjg"],
              "geconsulteerd_intern": [], "verwijsindex_overwogen": False, "extra": "x"}
    ctx = DisplayContext(protocol, step, demo, date_text)
    assert [(f.id, str(html)) for f, html in recorded_values(ctx, stored)] == [
        ("geconsulteerd", "Centrum Jeugd en Gezin Regenboogstad"),
        ("consultatie_datum", "dag &lt;24-11-2026&gt;")]
    assert to_form(step.fields, stored)["consultatie_datum"] == dt.date(2026, 11, 24)
