"""``meldroute check``: schemas, the rule graph, every answer combination, scenarios.

The rule graph (networkx) has a node for the start, each question and each outcome, and
an edge for each rule from the questions in its ``when`` to what its ``then`` asks or
decides. On it: reachability and cycles. Then every combination of answers (each
question unanswered or given one of its answers) goes through the engine: a combination
with no next question and no outcome is a gap, two outcomes or open questions at once a
conflict, and a rule that fires for no combination is dead. Last, the scenario files run
and their branch coverage (question/answer pairs exercised) is reported.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from .errors import AnswerError, ConfigError, Problem, RouteError
from .evaluate import Evaluation, evaluate
from .loader import (
    DEFAULT_PROTOCOL,
    neutral_school,
    protocol_from_document,
    school_from_document,
    shipped_dir,
    shipped_protocol_files,
)
from .model import Ask, KeepOpen, Protocol, SchoolConfig, SetOutcome
from .source import Document, read_document, schema_problems

START = "start"
MAX_COMBINATIONS = 200_000
YAML_SUFFIXES = (".yaml", ".yml", ".json")


def q_node(question: str) -> str:
    return f"q:{question}"


def o_node(outcome: str) -> str:
    return f"o:{outcome}"


def route_graph(protocol: Protocol) -> nx.MultiDiGraph:
    """The route as a graph; every edge carries the rule and the answers it needs."""
    g = nx.MultiDiGraph()
    g.add_node(START)
    for q in protocol.questions:
        g.add_node(q_node(q))
    for o in protocol.outcomes:
        g.add_node(o_node(o))
    for rule in protocol.rules:
        sources = [(START, ())] if rule.is_start else [
            (q_node(q), answers) for q, answers in rule.when.items()]
        targets = [q_node(t.question) for t in rule.then if isinstance(t, Ask)]
        targets += [o_node(t.outcome) for t in rule.then if isinstance(t, SetOutcome)]
        for source, answers in sources:
            for target in targets:
                g.add_edge(source, target, rule=rule.id, answers=answers)
    return g


def _rule_where(protocol: Protocol, rule_id: str) -> tuple[Any, ...]:
    return protocol.where("rules", rule_id)


def graph_problems(protocol: Protocol) -> list[Problem]:
    doc = protocol.source
    problems: list[Problem] = []
    g = route_graph(protocol)
    reachable = nx.descendants(g, START) | {START}
    for q in protocol.questions:
        if q_node(q) not in reachable:
            problems.append(doc.problem(protocol.where("questions", q),
                                        f"vraag '{q}' is onbereikbaar: geen regel vanaf het "
                                        "begin leidt ernaar", check="graph"))
    for o in protocol.outcomes:
        if o_node(o) not in reachable:
            problems.append(doc.problem(protocol.where("outcomes", o),
                                        f"uitkomst '{o}' is onbereikbaar: geen regel vanaf "
                                        "het begin leidt ernaar", check="graph"))
    for q in protocol.questions.values():
        for a in q.answers:
            routed = any(a in rule.when.get(q.id, ()) and any(
                isinstance(t, (Ask, SetOutcome, KeepOpen)) for t in rule.then)
                for rule in protocol.rules)
            if not routed:
                problems.append(doc.problem(
                    protocol.where("questions", q.id),
                    f"antwoord '{a}' op vraag '{q.id}' leidt nergens heen: geen regel geeft "
                    "dan een volgende vraag of een uitkomst", check="graph"))
    simple = nx.DiGraph(g)
    order = {n: i for i, n in enumerate(g.nodes)}
    cycles = []
    for cycle in nx.simple_cycles(simple):
        first = min(range(len(cycle)), key=lambda i: order[cycle[i]])
        cycles.append(cycle[first:] + cycle[:first])  # start where the file starts
    for cycle in sorted(cycles, key=lambda c: [order[n] for n in c]):
        nodes = [n.split(":", 1)[-1] for n in [*cycle, cycle[0]]]
        rule_id = next(iter(g.get_edge_data(cycle[-1], cycle[0]).values()))["rule"]
        problems.append(doc.problem(_rule_where(protocol, rule_id),
                                    "cyclus in de route: " + " → ".join(nodes), check="graph"))
    return problems


@dataclass
class Enumeration:
    combinations: int = 0
    fired: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


def _describe(answers: dict[str, str]) -> str:
    return "{" + ", ".join(f"{q}: {a}" for q, a in answers.items()) + "}"


def enumerate_combinations(protocol: Protocol, school: SchoolConfig | None = None
                           ) -> Enumeration:
    school = school or neutral_school(protocol)
    questions = list(protocol.questions.values())
    result = Enumeration()
    total = 1
    for q in questions:
        total *= len(q.answers) + 1
    if total > MAX_COMBINATIONS:
        result.problems.append(protocol.source.problem(
            ("questions",), f"te veel antwoordcombinaties om op te sommen ({total} > "
                            f"{MAX_COMBINATIONS})", check="enumeration"))
        return result
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    today = dt.date(2026, 1, 5)
    for combo in itertools.product(*[(None, *q.answers) for q in questions]):
        answers = {q.id: a for q, a in zip(questions, combo, strict=True) if a is not None}
        result.combinations += 1
        try:
            evaluation = evaluate(protocol, school, answers, today)
        except RouteError as err:
            result.fired.update(err.fired)
            key = (err.kind, tuple(err.answers.items()))
            if key in seen:
                continue
            seen.add(key)
            last = next(reversed(err.answers), None)
            where = protocol.where("questions", last) if last else ("rules",)
            what = "gat in de route" if err.kind == "gap" else "conflict in de route"
            result.problems.append(protocol.source.problem(
                where, f"{what} na {_describe(err.answers)}: {err}", check="enumeration"))
            continue
        result.fired.update(t.rule for t in evaluation.trace)
    for rule in protocol.rules:
        if rule.id not in result.fired:
            result.problems.append(protocol.source.problem(
                _rule_where(protocol, rule.id),
                f"regel '{rule.id}' gaat bij geen enkele antwoordcombinatie af",
                check="enumeration"))
    return result


# --- scenarios ------------------------------------------------------------------------------


@dataclass
class ScenarioRun:
    protocol: Protocol | None
    count: int = 0
    covered: set[tuple[str, str]] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)


def _compare(doc: Document, i: int, name: str, expect: dict[str, Any], e: Evaluation
             ) -> Iterator[Problem]:
    def mismatch(key: str, wanted: Any, got: Any) -> Problem:
        return doc.problem(("scenarios", i, "expect", key),
                           f"scenario '{name}': verwacht {key} {wanted}, kreeg {got}",
                           check="scenario")

    if "next_question" in expect:
        got = e.next_question.id if e.next_question else None
        if got != expect["next_question"]:
            yield mismatch("next_question", expect["next_question"], got)
    if "outcome" in expect:
        got = e.outcome.id if e.outcome else None
        if got != expect["outcome"]:
            yield mismatch("outcome", expect["outcome"], got)
    if "step" in expect and e.step != expect["step"]:
        yield mismatch("step", expect["step"], e.step)
    if "responsible" in expect:
        got_roles = [r.assigned for r in e.responsible]
        if sorted(got_roles) != sorted(expect["responsible"]):
            yield mismatch("responsible", expect["responsible"], got_roles)
    if "contacts" in expect:
        phones = {c.key: c.phone for c in e.contacts}
        for key, phone in expect["contacts"].items():
            if phones.get(key, "(geen)") != phone:
                yield mismatch("contacts", f"{key} {phone}", f"{key} {phones.get(key, '(geen)')}")
    if "deadlines" in expect:
        want = [(d["label"], d["due"]) for d in expect["deadlines"]]
        got_d = [(d.label, d.due.isoformat()) for d in e.deadlines]
        if want != got_d:
            yield mismatch("deadlines", want, got_d)
    if "ignored" in expect:
        got_i = sorted(x.question for x in e.ignored)
        if got_i != sorted(expect["ignored"]):
            yield mismatch("ignored", expect["ignored"], got_i)
    if "actions" in expect:
        texts = [a.text for a in e.actions]
        for text in expect["actions"]:
            if text not in texts:
                yield mismatch("actions", repr(text), texts)


def run_scenarios(doc: Document, protocols: dict[str, Protocol]) -> ScenarioRun:
    problems = schema_problems(doc, "scenarios")
    if problems:
        return ScenarioRun(None, problems=problems)
    base = Path(doc.path).parent
    try:
        school_doc = read_document(base / doc.data["school"])
        wanted = school_doc.data.get("protocol", DEFAULT_PROTOCOL) if isinstance(
            school_doc.data, dict) else DEFAULT_PROTOCOL
        if "protocol" in doc.data:
            protocol = protocol_from_document(read_document(base / doc.data["protocol"]))
        elif wanted in protocols:
            protocol = protocols[wanted]
        else:
            return ScenarioRun(None, problems=[doc.problem(
                ("school",), f"onbekend protocol '{wanted}' voor deze school", check="scenario")])
        problems = schema_problems(school_doc, "school")
        if problems:
            raise ConfigError(problems)
        school = school_from_document(school_doc, protocol)
    except ConfigError as err:
        return ScenarioRun(None, problems=list(err.problems))
    run = ScenarioRun(protocol)
    for i, sc in enumerate(doc.data["scenarios"]):
        run.count += 1
        today = dt.date.fromisoformat(sc["today"]) if "today" in sc else dt.date.today()
        if "deadlines" in sc["expect"] and "today" not in sc:
            run.problems.append(doc.problem(("scenarios", i), f"scenario '{sc['name']}': "
                                            "termijnen verwachten vraagt om 'today'",
                                            check="scenario"))
            continue
        try:
            e = evaluate(protocol, school, sc["answers"], today)
        except AnswerError as err:
            for p in err.problems:
                run.problems.append(doc.problem(("scenarios", i, "answers", p.question),
                                                f"scenario '{sc['name']}': {p.message}",
                                                key=p.answer is None, check="scenario"))
            continue
        except RouteError as err:
            run.problems.append(doc.problem(("scenarios", i, "answers"),
                                            f"scenario '{sc['name']}': {err}", check="scenario"))
            continue
        run.covered.update(e.used)
        run.problems += _compare(doc, i, sc["name"], sc["expect"], e)
    return run


def all_branches(protocol: Protocol) -> list[tuple[str, str]]:
    return [(q.id, a) for q in protocol.questions.values() for a in q.answers]


# --- the whole check ------------------------------------------------------------------------


@dataclass
class Coverage:
    protocol: str
    covered: list[tuple[str, str]]
    uncovered: list[tuple[str, str]]

    @property
    def percent(self) -> float:
        total = len(self.covered) + len(self.uncovered)
        return 100.0 * len(self.covered) / total if total else 100.0


@dataclass
class CheckReport:
    files: list[str] = field(default_factory=list)
    ran: list[tuple[str, str]] = field(default_factory=list)  # (file, check)
    problems: list[Problem] = field(default_factory=list)
    combinations: int = 0
    scenarios: int = 0
    coverage: list[Coverage] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


def default_paths() -> list[Path]:
    return [shipped_dir("rules"), shipped_dir("schools")]


def expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES
                            and p.is_file())
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def kind_of(doc: Document) -> str:
    data = doc.data
    if isinstance(data, dict) and "scenarios" in data:
        return "scenarios"
    if isinstance(data, dict) and ("rules" in data or "steps" in data):
        return "protocol"
    return "school"


def run_check(paths: Iterable[Path] | None = None, min_coverage: float = 100.0
              ) -> CheckReport:
    report = CheckReport()
    files = expand(list(paths) if paths else default_paths())
    docs: dict[str, list[Document]] = {"protocol": [], "school": [], "scenarios": []}
    for path in files:
        try:
            doc = read_document(path)
        except ConfigError as err:
            report.files.append(err.problems[0].path)
            report.ran.append((err.problems[0].path, "syntax"))
            report.problems += err.problems
            continue
        report.files.append(doc.path)
        docs[kind_of(doc)].append(doc)

    protocols: dict[str, Protocol] = {}
    checked = {Path(doc.path).resolve() for doc in docs["protocol"]}
    for path in shipped_protocol_files():
        if path.resolve() in checked:
            continue  # parsed below, with the other checked files
        try:
            p = protocol_from_document(read_document(path))
            protocols[p.id] = p
        except ConfigError:
            pass  # a broken shipped file is reported when it is checked itself
    for doc in docs["protocol"]:
        report.ran.append((doc.path, "schema"))
        try:
            protocol = protocol_from_document(doc)
        except ConfigError as err:
            report.problems += err.problems
            continue
        protocols[protocol.id] = protocol
        report.ran += [(doc.path, "graph"), (doc.path, "enumeration")]
        graph = graph_problems(protocol)
        report.problems += graph
        if not graph:
            enum = enumerate_combinations(protocol)
            report.combinations += enum.combinations
            report.problems += enum.problems

    for doc in docs["school"]:
        report.ran.append((doc.path, "schema"))
        problems = schema_problems(doc, "school")
        if problems:
            report.problems += problems
            continue
        wanted = doc.data.get("protocol", DEFAULT_PROTOCOL)
        if wanted not in protocols:
            report.problems.append(doc.problem(("protocol",), f"onbekend protocol '{wanted}'",
                                               check="references"))
            continue
        try:
            school_from_document(doc, protocols[wanted])
        except ConfigError as err:
            report.problems += err.problems

    covered: dict[str, set[tuple[str, str]]] = {}
    for doc in docs["scenarios"]:
        report.ran.append((doc.path, "scenario"))
        run = run_scenarios(doc, protocols)
        report.problems += run.problems
        report.scenarios += run.count
        if run.protocol is not None:
            covered.setdefault(run.protocol.id, set()).update(run.covered)
    for protocol_id, pairs in sorted(covered.items()):
        protocol = protocols[protocol_id]
        branches = all_branches(protocol)
        cov = Coverage(protocol_id, [b for b in branches if b in pairs],
                       [b for b in branches if b not in pairs])
        report.coverage.append(cov)
        report.ran.append((protocol.source.path, "coverage"))
        severity = "error" if cov.percent < min_coverage else "warning"
        for q, a in cov.uncovered:
            report.problems.append(Problem(
                *(protocol.source.path, *protocol.source.locate(protocol.where("questions", q))),
                f"geen scenario dekt vraag '{q}' met antwoord '{a}'", "coverage", severity))
    report.problems.sort()
    return report
