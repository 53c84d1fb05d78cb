"""The route as a flowchart (Mermaid or Graphviz dot), derived from the rules."""

from __future__ import annotations

from .model import Protocol
from .routegraph import START, question_node, route_graph


def _edges(protocol: Protocol) -> list[tuple[str, str, str]]:
    """(source, target, label): one edge per rule, from the last question it depends on."""
    import networkx as nx  # only when a graph is drawn

    g = route_graph(protocol)
    try:
        ordered = list(nx.topological_sort(nx.DiGraph(g)))
    except nx.NetworkXUnfeasible:  # a cycle: `meldroute check` reports it; draw it anyway
        ordered = list(g.nodes)
    order = {n: i for i, n in enumerate(ordered)}
    edges = []
    for rule in protocol.rules:
        sources = [question_node(q) for q in rule.when] or [START]
        source = max(sources, key=order.__getitem__)
        answers = rule.when.get(source[2:], ())
        label = " / ".join(answers)
        for _, target, data in g.out_edges(source, data=True):
            if data["rule"] == rule.id:
                edges.append((source, target, label))
        for t in rule.then:
            edges += [(source, target, text) for target, text in t.drawn_edges(label)]
    return list(dict.fromkeys(edges))


def _node_id(node: str) -> str:
    return node.replace(":", "_").replace("-", "_")


def _label(protocol: Protocol, node: str) -> str:
    if node == START:
        return "Start"
    kind, ident = node.split(":", 1)
    if kind == "q":
        return protocol.questions[ident].label
    return protocol.outcomes[ident].text


def mermaid(protocol: Protocol) -> str:
    lines = ["flowchart TD", f"  {START}([Start])"]
    for q in protocol.questions:
        lines.append(f'  {_node_id("q:" + q)}{{"{_label(protocol, "q:" + q)}"}}')
    for o in protocol.outcomes:
        lines.append(f'  {_node_id("o:" + o)}["{_label(protocol, "o:" + o)}"]')
    for source, target, label in _edges(protocol):
        arrow = f" -- {label} -->" if label else " -->"
        lines.append(f"  {_node_id(source)}{arrow} {_node_id(target)}")
    return "\n".join(lines)


def dot(protocol: Protocol) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph route {", "  rankdir=TB;", f"  {START} [shape=oval, label=\"Start\"];"]
    for q in protocol.questions:
        label = quote(_label(protocol, "q:" + q))
        lines.append(f"  {_node_id('q:' + q)} [shape=diamond, label={label}];")
    for o in protocol.outcomes:
        label = quote(_label(protocol, "o:" + o))
        lines.append(f"  {_node_id('o:' + o)} [shape=box, label={label}];")
    for source, target, label in _edges(protocol):
        attrs = f" [label={quote(label)}]" if label else ""
        lines.append(f"  {_node_id(source)} -> {_node_id(target)}{attrs};")
    lines.append("}")
    return "\n".join(lines)
