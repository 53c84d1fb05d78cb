"""Issue 13: a sound route is recognised without networkx; any other is checked with it.

``routegraph.sound_route`` answers with the standard library (a walk from the start and
``graphlib``'s cycle check) whether every question and outcome is reachable and the route
has no cycle; only when it is not does ``graph_problems`` build the networkx graph, which
names every unreachable node and every cycle. Here the shipped routes and many broken
variants of them (each rule taken away in turn; a rule added that asks an earlier
question again, or the same one) get the same problems both ways.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from types import MappingProxyType

import pytest

from meldroute.engine import load_protocol, routegraph
from meldroute.engine.consequences import consequence_from_data
from meldroute.engine.loader import shipped_protocol_files
from meldroute.engine.model import Protocol, Rule

PROTOCOLS = [load_protocol(path) for path in shipped_protocol_files()]


def _variants(protocol: Protocol) -> Iterator[tuple[str, Protocol]]:
    yield "as shipped", protocol
    for i, rule in enumerate(protocol.rules):
        rules = protocol.rules[:i] + protocol.rules[i + 1:]
        yield f"without {rule.id}", dataclasses.replace(protocol, rules=rules)
    questions = list(protocol.questions.values())
    for i, question in enumerate(questions):
        for earlier in (questions[0], questions[i // 2], question):
            back = Rule(f"terug_{question.id}_{earlier.id}", "terug",
                        MappingProxyType({question.id: (question.answers[-1],)}),
                        (consequence_from_data({"ask": earlier.id}),))
            yield (f"{question.id} asks {earlier.id} again",
                   dataclasses.replace(protocol, rules=(*protocol.rules, back)))


def _with_networkx(protocol: Protocol, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    with monkeypatch.context() as m:
        m.setattr(routegraph, "sound_route", lambda protocol: False)
        return list(routegraph.graph_problems(protocol))


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda p: p.id)
def test_sound_routes_are_told_apart_as_networkx_does(protocol, monkeypatch):
    sound = broken = 0
    for what, variant in _variants(protocol):
        slow = _with_networkx(variant, monkeypatch)
        assert routegraph.graph_problems(variant) == slow, what
        found = {p.message.split(":")[0].split(" ")[0] for p in slow}
        unsound = bool(found & {"vraag", "uitkomst", "cyclus"})
        assert routegraph.sound_route(variant) is not unsound, what
        sound += not unsound
        broken += unsound
    assert sound >= 1 and broken >= 10


def test_checking_the_shipped_routes_imports_no_networkx():
    program = ("import sys\nfrom meldroute.engine import graph_problems, load_protocol\n"
               "from meldroute.engine.loader import shipped_protocol_files\n"
               "assert not any(graph_problems(load_protocol(p)) "
               "for p in shipped_protocol_files())\n"
               "print('networkx' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          check=False, timeout=300)
    assert done.stdout.strip() == "False", done.stderr[-2000:]
