"""The kinds of a rule's ``then:``: one class each, in one registry that the schema matches."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import pytest

from meldroute.engine import KINDS, Consequence, shipped_dir
from meldroute.engine.consequences import (
    Action,
    AddAction,
    AddDeadline,
    Ask,
    AssignResponsible,
    DeadlineSpec,
    Effects,
    KeepOpen,
    MarkDone,
    RouteState,
    SetOutcome,
    SetStage,
    consequence_from_data,
    in_registry_order,
    register,
)
from meldroute.engine.references import References


def test_the_registry_has_exactly_the_kinds_the_schema_lists():
    schema = json.loads((shipped_dir("schemas") / "protocol.schema.json").read_text())
    assert list(KINDS) == list(schema["$defs"]["then"]["properties"])


@pytest.mark.parametrize(("item", "expected", "description"), [
    ({"ask": "onveilig"}, Ask("onveilig"), "volgende vraag: onveilig"),
    ({"keep_open": "q"}, KeepOpen("q"), "vraag blijft open"),
    ({"outcome": "melden"}, SetOutcome("melden"), "uitkomst: melden"),
    ({"action": {"text": "Bel", "contact": "vt"}}, AddAction(Action("Bel", "vt")), "actie: Bel"),
    ({"deadline": {"label": "Melden", "working_days": 5}},
     AddDeadline(DeadlineSpec("Melden", 5)), "termijn: Melden (5 werkdagen)"),
    ({"responsible": ["ib", "directeur"]}, AssignResponsible(("ib", "directeur")),
     "verantwoordelijk: ib, directeur"),
    ({"deadline": {"label": "Besluit", "working_days": 5, "kind": "veilig_thuis",
                   "from": "melding_datum"}},
     AddDeadline(DeadlineSpec("Besluit", 5, "veilig_thuis", "melding_datum")),
     "termijn: Besluit (5 werkdagen na melding_datum)"),
    ({"deadline": {"label": "Melden", "working_days": "school"}},
     AddDeadline(DeadlineSpec("Melden", "school")),
     "termijn: Melden (de termijn van de school)"),
    ({"stage": "melden"}, SetStage("melden"), "fase: melden"),
    ({"stage": {"id": "nazorg", "step": "nazorg"}}, SetStage("nazorg", "nazorg"),
     "fase: nazorg (stap nazorg)"),
    ({"done": "outcome"}, MarkDone("outcome"), "gedaan: de acties van de uitkomst"),
    ({"done": "all"}, MarkDone("all"), "gedaan: alle acties van de route"),
    ({"done": "bespreek_melding"}, MarkDone("bespreek_melding"), "gedaan: bespreek_melding"),
])
def test_parse_and_describe(item, expected, description):
    consequence = consequence_from_data(item)
    assert consequence == expected
    assert consequence.describe() == description


def test_check_reports_unknown_names(protocol):
    refs = References(protocol.source, {"vraag": ["onveilig"], "uitkomst": ["melden"],
                                         "rol": ["ib"], "contact": ["cjg"]})
    for item in ({"ask": "onveilig"}, {"outcome": "meldn"}, {"keep_open": "x"},
                 {"responsible": ["ib", "ibb"]}, {"action": {"text": "t", "contact": "cjgg"}},
                 {"deadline": {"label": "l", "working_days": 1}}):
        consequence_from_data(item).check(("rules",), refs)
    assert [p.message for p in refs.problems] == [
        "onbekende uitkomst 'meldn'; bedoel je 'melden'? (bekend: melden)",
        "onbekende vraag 'x' (bekend: onveilig)",
        "onbekende rol 'ibb'; bedoel je 'ib'? (bekend: ib)",
        "onbekende contact 'cjgg'; bedoel je 'cjg'? (bekend: cjg)",
    ]


def test_applying_while_rules_fire_and_for_the_present():
    route, effects = RouteState(), Effects()
    for c in (Ask("a"), Ask("a"), KeepOpen("a"), SetOutcome("o"), SetOutcome("o")):
        c.on_fire(route, 2)
    assert (route.asked, route.new_questions, route.kept_open) == (["a"], ["a"], ["a"])
    assert route.outcomes_at == {2: ["o"]}
    for c in (AddAction(Action("x")), AddDeadline(DeadlineSpec("d", 1)),
              AssignResponsible(("ib",)), AssignResponsible(("zorgteam",))):
        c.on_current(effects)
    assert effects == Effects(("zorgteam",), [Action("x")], [DeadlineSpec("d", 1)])


def test_describing_for_the_route_graph():
    assert [c.routes for c in (Ask("a"), KeepOpen("a"), SetOutcome("o"))] == [True] * 3
    assert not any(c.routes for c in (AddAction(Action("x")), AssignResponsible(("ib",))))
    assert Ask("a").targets() == ("q:a",) and SetOutcome("o").targets() == ("o:o",)
    assert KeepOpen("a").targets() == ()
    assert KeepOpen("a").drawn_edges("ja") == (("q:a", "ja: vraag blijft open"),)
    assert in_registry_order([SetOutcome("o"), Ask("a")]) == [Ask("a"), SetOutcome("o")]


def test_a_kind_is_registered_once():
    @dataclass(frozen=True)
    class Again(Consequence):
        kind: ClassVar[str] = "ask"

        @classmethod
        def from_data(cls, value: Any) -> Self:
            return cls()

        def check(self, where: tuple[Any, ...], refs: References) -> None:
            return None

        def describe(self) -> str:
            return ""

    with pytest.raises(ValueError, match="registered twice"):
        register(Again)
