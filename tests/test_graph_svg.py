"""The route as an SVG picture: laid out in Python from the rules, valid XML, the
dossier's path drawn and where it stands marked; `meldroute graph --format svg` writes the
same picture without a dossier."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from meldroute.engine import dossier_facts, evaluate, route_position, route_svg
from meldroute.engine.cli import main

SVG = "{http://www.w3.org/2000/svg}"
MONDAY = dt.date(2026, 11, 23)
STEPS_1_TO_3 = frozenset({"signaleren", "consulteren", "gesprek"})


def nodes(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)  # valid XML, or this raises
    assert root.tag == f"{SVG}svg"
    return {g.get("data-node", ""): g for g in root.iter(f"{SVG}g") if g.get("data-node")}


def classes(element: ET.Element) -> set[str]:
    return set((element.get("class") or "").split())


def text_of(element: ET.Element) -> str:
    return " ".join(t.text or "" for t in element.iter(f"{SVG}text"))


def test_every_step_question_and_outcome_is_drawn_and_nothing_overlaps(protocol):
    found = nodes(route_svg(protocol))
    assert {"s:signaleren", "s:consulteren", "s:gesprek"} <= set(found)
    assert {f"q:{q}" for q in protocol.questions} <= set(found)
    assert {f"o:{o}" for o in protocol.outcomes} <= set(found)
    assert "Afweging 2: veiligheid" in text_of(found["q:onveilig"])
    # boxes of one layer never overlap (their top-left corners differ by a node's width)
    corners = {}
    for g in found.values():
        shape = g.find(f"{SVG}rect")
        if shape is not None:
            corners.setdefault(shape.get("y"), []).append(float(shape.get("x") or 0))
    for xs in corners.values():
        xs.sort()
        assert all(b - a >= 220 for a, b in zip(xs, xs[1:], strict=False))


def test_the_path_is_drawn_and_the_current_question_marked(protocol, demo):
    e = evaluate(protocol, demo, {"sterk_vermoeden": "nee", "actie_nodig": "ja"}, MONDAY)
    position = route_position(protocol, e, STEPS_1_TO_3)
    found = nodes(route_svg(protocol, position, title="Dossier 7"))
    current = [n for n, g in found.items() if "current" in classes(g)]
    assert current == ["q:onveilig"]
    assert "Hier staat het dossier" in text_of(found["q:onveilig"])
    for passed in ("start", "s:gesprek", "q:sterk_vermoeden", "q:actie_nodig"):
        assert "path" in classes(found[passed]), passed
    assert "path" not in classes(found["q:bevoegd_gezag_ingelicht"])  # answered nee before
    assert "path" not in classes(found["o:melden"])


def test_an_outcome_is_where_a_finished_route_stands(protocol, demo):
    e = evaluate(protocol, demo, {"sterk_vermoeden": "nee", "actie_nodig": "nee"}, MONDAY)
    found = nodes(route_svg(protocol, route_position(protocol, e, STEPS_1_TO_3)))
    assert [n for n, g in found.items() if "current" in classes(g)] == [f"o:{e.outcome.id}"]


def test_a_new_dossier_stands_at_step_one(protocol, demo):
    e = evaluate(protocol, demo, {}, MONDAY, dossier_facts(protocol, {}, frozenset(), {}))
    found = nodes(route_svg(protocol, route_position(protocol, e, frozenset())))
    assert [n for n, g in found.items() if "current" in classes(g)] == ["s:signaleren"]


def test_the_command_writes_the_same_picture(protocol, capsys):
    assert main(["graph", "--format", "svg"]) == 0
    out = capsys.readouterr().out
    assert out == route_svg(protocol)
    assert not any("current" in classes(g) for g in nodes(out).values())
