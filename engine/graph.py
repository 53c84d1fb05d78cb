"""The route as a flowchart (Mermaid, Graphviz dot or an SVG picture), derived from the
rules."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from .evaluate import Evaluation
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


# --- the route as an SVG picture, laid out in Python (no graphviz binary) -------------------

NODE_WIDTH, LINE_HEIGHT, CHARS_PER_LINE = 240, 16, 32
LAYER_GAP, NODE_GAP, MARGIN, DUMMY_WIDTH = 60, 40, 20, 16


@dataclass(frozen=True)
class Position:
    """Where a dossier stands on the route: the nodes it passed and the one it is at."""

    path: tuple[str, ...] = ()
    current: str | None = None
    answers: tuple[tuple[str, str], ...] = ()  # (question, answer) as given

    def took(self, source: str, target: str, label: str) -> bool:
        """Did the dossier go along this edge?"""
        if source not in self.path or (target not in self.path and target != self.current):
            return False
        if not source.startswith("q:"):
            return True
        given = dict(self.answers).get(source[2:])
        return given is not None and given in label.split(":")[0].split(" / ")


def route_position(protocol: Protocol, evaluation: Evaluation, recorded: Collection[str]
             ) -> Position:
    """Where a dossier stands: the steps before the weighing it recorded, the questions
    it answered and the outcomes it passed; the node it is at now."""
    chain = _step_chain(protocol)
    path = [START, *(n for n in chain if n[2:] in recorded)]
    path += ["q:" + q for q, _ in evaluation.used]
    path += ["o:" + o.id for o in evaluation.passed_outcomes]
    current: str | None = None
    if "s:" + evaluation.step in chain and evaluation.step not in recorded:
        current = "s:" + evaluation.step
    elif evaluation.next_question is not None:
        current = "q:" + evaluation.next_question.id
    elif evaluation.outcome is not None:
        current = "o:" + evaluation.outcome.id
    path = [n for n in dict.fromkeys(path) if n != current]
    return Position(tuple(path), current, tuple(evaluation.used))


@dataclass
class _Box:
    """A node's place; a dummy (no lines) is where an edge crosses a layer it skips."""

    node: str
    lines: list[str]
    layer: int
    x: float = 0.0
    y: float = 0.0
    row_height: float = 0.0

    @property
    def dummy(self) -> bool:
        return not self.lines

    @property
    def width(self) -> float:
        return DUMMY_WIDTH if self.dummy else NODE_WIDTH

    @property
    def height(self) -> float:
        return self.row_height if self.dummy else len(self.lines) * LINE_HEIGHT + 16

    @property
    def middle(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class _Layout:
    boxes: dict[str, _Box]  # the real nodes
    edges: list[tuple[str, str, str]]  # (source, target, label) as the rules give them
    routes: dict[tuple[str, str], list[_Box]]  # the dummies an edge passes, top down
    width: float
    height: float


def _step_chain(protocol: Protocol) -> list[str]:
    """The steps before the first weighing question (recorded, not weighed): drawn as a
    chain from the start, so the picture shows the whole route from step 1."""
    asked = {q.step for q in protocol.questions.values()}
    first = min((s.number for s in protocol.steps if s.id in asked), default=0)
    return [f"s:{s.id}" for s in protocol.steps if s.number < first and s.id not in asked]


def drawn_edges(protocol: Protocol) -> list[tuple[str, str, str]]:
    """The flowchart's edges with the steps before the weighing put in front."""
    chain = _step_chain(protocol)
    edges = _edges(protocol)
    if not chain:
        return edges
    lead = [(a, b, "") for a, b in zip([START, *chain], chain, strict=False)]
    return lead + [(chain[-1] if s == START else s, t, label) for s, t, label in edges]


HERE = "▶ Hier staat het dossier"
HERE_CLASS = ' class="here" font-weight="bold" fill="#8a4b00"'
# Presentation attributes rather than a <style> element: the picture keeps its colours
# when opened on its own under the web app's Content-Security-Policy (no inline style).
NODE_LOOK = {"": 'fill="#ffffff" stroke="#6b6b6b" stroke-width="1.5"',
             "path": 'fill="#e6f0fa" stroke="#1f5b99" stroke-width="2.5"',
             "current": 'fill="#fff1b8" stroke="#8a4b00" stroke-width="4"'}
EDGE_LOOK = {False: 'fill="none" stroke="#8c8c8c" stroke-width="1.2"',
             True: 'fill="none" stroke="#1f5b99" stroke-width="3"'}
LABEL_LOOK = 'font-size="11" fill="#444444"'


def _node_text(protocol: Protocol, node: str) -> str:
    """A node's words in the picture: a step, a question's label (its text is in the
    node's tooltip), an outcome."""
    kind, _, ident = node.partition(":")
    if kind == "s":
        step = protocol.steps_by_id[ident]
        return f"Stap {step.number}: {step.title}"
    if kind == "q":
        question = protocol.questions[ident]
        asked_in = protocol.steps_by_id.get(question.step)
        return f"{question.label} (stap {asked_in.number})" if asked_in else question.label
    return _label(protocol, node)


def _tooltip(protocol: Protocol, node: str) -> str:
    kind, _, ident = node.partition(":")
    return protocol.questions[ident].text if kind == "q" else ""


def _layers(nodes: list[str], edges: list[tuple[str, str, str]]) -> dict[str, int]:
    """Longest-path layering from the start (networkx's topological order); a cycle
    (which `meldroute check` reports) falls back to the breadth-first distance."""
    import networkx as nx

    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from((s, t) for s, t, _ in edges if s != t)
    try:
        order = list(nx.topological_sort(g))
    except nx.NetworkXUnfeasible:
        found: dict[str, int] = nx.single_source_shortest_path_length(g, START)
        return {n: found.get(n, 0) for n in nodes}
    layer = dict.fromkeys(nodes, 0)
    for n in order:
        for successor in g.successors(n):
            layer[successor] = max(layer[successor], layer[n] + 1)
    return layer


def _order(rows: list[list[_Box]], links: list[tuple[str, str]]) -> None:
    """Fewer crossings: each row sorted by the mean position of its neighbours in the row
    above (the barycenter heuristic of Sugiyama's layered drawing), a few sweeps down."""
    parents: dict[str, list[str]] = {}
    for s, t in links:
        parents.setdefault(t, []).append(s)
    index: dict[str, float] = {}
    for _ in range(3):
        for row in rows:
            for i, box in enumerate(row):
                index.setdefault(box.node, i)
            row.sort(key=lambda b: sum(index[p] for p in parents.get(b.node, [])) /
                     len(parents[b.node]) if parents.get(b.node) else index[b.node])
            for i, box in enumerate(row):
                index[box.node] = i


def _place(rows: list[list[_Box]]) -> tuple[float, float]:
    """Rows top to bottom, each centred; the picture's width and height."""
    def row_width(row: list[_Box]) -> float:
        return sum(b.width for b in row) + NODE_GAP * (len(row) - 1)

    width = max(row_width(r) for r in rows)
    y = float(MARGIN)
    for row in rows:
        x = MARGIN + (width - row_width(row)) / 2
        height = max((b.height for b in row if not b.dummy), default=LINE_HEIGHT)
        for box in row:
            box.x, box.y, box.row_height = x, y, height
            x += box.width + NODE_GAP
        y += height + LAYER_GAP
    return width + 2 * MARGIN + 40, y - LAYER_GAP + MARGIN


def layout(protocol: Protocol, current: str | None = None) -> _Layout:
    """Every node placed in layers; an edge that skips layers passes through a dummy in
    each, so that it runs between the nodes rather than through them. The ``current``
    node has one more line (the marker)."""
    import textwrap

    edges = drawn_edges(protocol)
    nodes = list(dict.fromkeys([START, *_step_chain(protocol), *(
        "q:" + q for q in protocol.questions), *("o:" + o for o in protocol.outcomes)]))
    layer = _layers(nodes, edges)
    boxes = {n: _Box(n, textwrap.wrap(_node_text(protocol, n), CHARS_PER_LINE) or ["?"],
                     layer[n]) for n in nodes}
    if current in boxes:
        boxes[current].lines.append(HERE)
    rows: list[list[_Box]] = [[] for _ in range(max(layer.values()) + 1)]
    for box in boxes.values():
        rows[box.layer].append(box)
    routes: dict[tuple[str, str], list[_Box]] = {}
    links: list[tuple[str, str]] = []
    for s, t, _ in edges:
        if s == t or (s, t) in routes:
            continue
        chain = [_Box(f"{s}>{t}>{i}", [], i) for i in range(layer[s] + 1, layer[t])]
        for dummy in chain:
            rows[dummy.layer].append(dummy)
        routes[(s, t)] = chain
        names = [s, *(d.node for d in chain), t]
        links += list(zip(names, names[1:], strict=False))
    _order(rows, links)
    width, height = _place(rows)
    return _Layout(boxes, edges, routes, width, height)


def _shape(box: _Box, kind: str, look: str) -> str:
    x, y, w, h = box.x, box.y, NODE_WIDTH, box.height
    if kind == "q":  # a weighing question: a hexagon (a decision) that still holds text
        d = 14
        points = [(x + d, y), (x + w - d, y), (x + w, y + h / 2), (x + w - d, y + h),
                  (x + d, y + h), (x, y + h / 2)]
        return '<polygon points="' + " ".join(f"{a:.0f},{b:.0f}" for a, b in points) + \
            f'" {look}/>'
    radius = h / 2 if kind == "start" else (0 if kind == "o" else 6)
    return f'<rect x="{x:.0f}" y="{y:.0f}" width="{w}" height="{h:.0f}" rx="{radius:.0f}" ' \
        f"{look}/>"


def _curve(x1: float, y1: float, x2: float, y2: float) -> str:
    mid = (y1 + y2) / 2
    return f" C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} {x2:.0f},{y2:.0f}"


def _edge(source: _Box, target: _Box, via: list[_Box], label: str, on_path: bool) -> str:
    from xml.sax.saxutils import escape

    css = "edge path" if on_path else "edge"
    if source is target:  # a question that stays open: a loop on its right
        x, y = source.x + NODE_WIDTH, source.y + source.height / 2
        d = f"M{x:.0f},{y - 8:.0f} C{x + 36:.0f},{y - 28:.0f} {x + 36:.0f},{y + 28:.0f} " \
            f"{x:.0f},{y + 8:.0f}"
        words = label.split(": ", 1)
        text = "".join(f'<text class="label" {LABEL_LOOK} x="{x + 4:.0f}" '
                       f'y="{y + 34 + i * 12:.0f}">{escape(w)}</text>'
                       for i, w in enumerate(words))
        return _edge_group(css, d, on_path, text)
    x, y = source.middle, source.y + source.height
    d = f"M{x:.0f},{y:.0f}"
    tx, ty = (x + (via[0].middle if via else target.middle)) / 2 + 4, y + LAYER_GAP / 2 - 4
    for box in via:  # down through each skipped layer
        d += _curve(x, y, box.middle, box.y) + f" L{box.middle:.0f},{box.y + box.height:.0f}"
        x, y = box.middle, box.y + box.height
    d += _curve(x, y, target.middle, target.y)
    text = f'<text class="label" {LABEL_LOOK} x="{tx:.0f}" y="{ty:.0f}">{escape(label)}</text>' \
        if label else ""
    return _edge_group(css, d, on_path, text)


def _edge_group(css: str, d: str, on_path: bool, text: str) -> str:
    return f'<g class="{css}"><path d="{d}" {EDGE_LOOK[on_path]} marker-end="url(#pijl)"/>' \
        f"{text}</g>"


def route_svg(protocol: Protocol, position: Position | None = None, title: str = "") -> str:
    """The route as a standalone SVG: steps before the weighing, the weighing questions
    (hexagons) and outcomes (boxes), laid out in layers; with a ``position``, the nodes
    and edges of the dossier's path drawn blue and the current node marked."""
    from xml.sax.saxutils import escape, quoteattr

    position = position or Position()
    drawn = layout(protocol, position.current)
    on_path = set(position.path) | ({position.current} if position.current else set())
    title = title or f"De route van {protocol.title}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{drawn.width:.0f}" '
             f'height="{drawn.height:.0f}" viewBox="0 0 {drawn.width:.0f} '
             f'{drawn.height:.0f}" role="img" aria-labelledby="titel">',
             f'<title id="titel">{escape(title)}</title>',
             '<defs><marker id="pijl" viewBox="0 0 10 10" refX="10" refY="5" '
             'markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" '
             'orient="auto-start-reverse">'
             '<path d="M0,0 L10,5 L0,10 z" fill="#6b6b6b"/></marker></defs>',
             '<g font-family="sans-serif" font-size="13" fill="#1a1a1a">']
    boxes = drawn.boxes
    for source, target, label in drawn.edges:
        parts.append(_edge(boxes[source], boxes[target], drawn.routes.get((source, target), []),
                           label, position.took(source, target, label)))
    for box in boxes.values():
        kind = "start" if box.node == START else box.node.split(":", 1)[0]
        css = "node" + (" path" if box.node in on_path else "") + (
            " current" if box.node == position.current else "")
        look = "current" if box.node == position.current else (
            "path" if box.node in on_path else "")
        tip = _tooltip(protocol, box.node)
        texts = "".join(
            f'<text x="{box.middle:.0f}" y="{box.y + 20 + i * LINE_HEIGHT:.0f}" '
            f'text-anchor="middle"{HERE_CLASS if line == HERE else ""}>{escape(line)}</text>'
            for i, line in enumerate(box.lines))
        parts.append(f'<g class="{css}" data-node={quoteattr(box.node)}>'
                     + (f"<title>{escape(tip)}</title>" if tip else "")
                     + f"{_shape(box, kind, NODE_LOOK[look])}{texts}</g>")
    parts.append("</g></svg>")
    return "\n".join(parts) + "\n"
