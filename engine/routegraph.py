"""The route as a graph, and the checks on it: reachability, dead ends, cycles.

The graph (networkx) has a node for the start, each question and each outcome, and an
edge for each rule from the questions in its ``when`` to what its ``then`` asks or
decides (each consequence kind names its own targets, see ``consequences.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .consequences import START, in_registry_order, outcome_node, question_node
from .errors import Problem
from .model import Protocol

if TYPE_CHECKING:  # networkx is imported when a graph is made: `decide` never needs it
    import networkx as nx

__all__ = ["START", "graph_problems", "outcome_node", "question_node", "route_graph",
           "sound_route"]


def route_graph(protocol: Protocol) -> nx.MultiDiGraph[str]:
    """The route as a graph; every edge carries the rule and the answers it needs."""
    import networkx as nx

    g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    g.add_node(START)
    for q in protocol.questions:
        g.add_node(question_node(q))
    for o in protocol.outcomes:
        g.add_node(outcome_node(o))
    for rule in protocol.rules:
        sources = [(START, ())] if rule.is_start else [
            (question_node(q), answers) for q, answers in rule.when.items()]
        targets = [t for c in in_registry_order(rule.then) for t in c.targets()]
        for source, answers in sources:
            for target in targets:
                g.add_edge(source, target, rule=rule.id, answers=answers)
    return g


def _unreachable(protocol: Protocol, g: nx.MultiDiGraph[str]) -> list[Problem]:
    doc = protocol.source
    import networkx as nx

    problems: list[Problem] = []
    reachable = nx.descendants(g, START) | {START}
    for q in protocol.questions:
        if question_node(q) not in reachable:
            problems.append(doc.problem(protocol.where("questions", q),
                                        f"vraag '{q}' is onbereikbaar: geen regel vanaf het "
                                        "begin leidt ernaar", check="graph"))
    for o in protocol.outcomes:
        if outcome_node(o) not in reachable:
            problems.append(doc.problem(protocol.where("outcomes", o),
                                        f"uitkomst '{o}' is onbereikbaar: geen regel vanaf "
                                        "het begin leidt ernaar", check="graph"))
    return problems


def _dead_ends(protocol: Protocol) -> list[Problem]:
    """Answers after which no rule routes on (gives a question or an outcome)."""
    problems: list[Problem] = []
    for question in protocol.questions.values():
        for a in question.answers:
            routed = any(a in rule.when.get(question.id, ()) and any(t.routes for t in rule.then)
                         for rule in protocol.rules)
            if not routed:
                problems.append(protocol.source.problem(
                    protocol.where("questions", question.id),
                    f"antwoord '{a}' op vraag '{question.id}' leidt nergens heen: geen regel "
                    "geeft dan een volgende vraag of een uitkomst", check="graph"))
    return problems


def _cycles(protocol: Protocol, g: nx.MultiDiGraph[str]) -> list[Problem]:
    import networkx as nx

    problems: list[Problem] = []
    simple: nx.DiGraph[str] = nx.DiGraph(g)
    order = {n: i for i, n in enumerate(g.nodes)}
    cycles = []
    for cycle in nx.simple_cycles(simple):
        first = min(range(len(cycle)), key=lambda i: order[cycle[i]])
        cycles.append(cycle[first:] + cycle[:first])  # start where the file starts
    for cycle in sorted(cycles, key=lambda c: [order[n] for n in c]):
        nodes = [n.split(":", 1)[-1] for n in [*cycle, cycle[0]]]
        rule_id = next(iter(g.get_edge_data(cycle[-1], cycle[0]).values()))["rule"]
        problems.append(protocol.source.problem(
            protocol.where("rules", rule_id), "cyclus in de route: " + " → ".join(nodes),
            check="graph"))
    return problems


def _edges(protocol: Protocol) -> dict[str, set[str]]:
    """The route graph's edges (node -> the nodes its rules lead to), as ``route_graph``
    draws them."""
    edges: dict[str, set[str]] = {START: set()}
    edges.update({question_node(q): set() for q in protocol.questions})
    edges.update({outcome_node(o): set() for o in protocol.outcomes})
    for rule in protocol.rules:
        sources = [START] if rule.is_start else [question_node(q) for q in rule.when]
        targets = [t for c in in_registry_order(rule.then) for t in c.targets()]
        for source in sources:
            edges.setdefault(source, set()).update(targets)
    return edges


def sound_route(protocol: Protocol) -> bool:
    """True when every question and outcome can be reached from the start and the route
    has no cycle. Answered with the standard library (``graphlib``) so that a valid route
    needs no networkx (0.17 s to import); a route that is not is checked with networkx,
    which names every unreachable node and every cycle (``tests/test_check_graph.py``
    compares the two)."""
    from graphlib import CycleError, TopologicalSorter

    edges = _edges(protocol)
    reached, todo = {START}, [START]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    if any(node not in reached for node in edges):
        return False
    order: TopologicalSorter[str] = TopologicalSorter()
    for source, targets in edges.items():
        order.add(source)
        for target in targets:
            order.add(target, source)
    try:
        order.prepare()
    except CycleError:
        return False
    return True


def graph_problems(protocol: Protocol) -> list[Problem]:
    """Unreachable questions and outcomes, answers that lead nowhere, cycles."""
    if sound_route(protocol):
        return _dead_ends(protocol)
    g = route_graph(protocol)
    return _unreachable(protocol, g) + _dead_ends(protocol) + _cycles(protocol, g)
