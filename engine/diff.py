"""``meldroute diff``: what a change to a protocol or a school's configuration *does*.

Every reachable state (the answers the route reaches and the routing facts in play, see
``enumerate.py``) of the old and of the new file is run through both; a state whose
behaviour differs — outcome, next question, stage, deadlines, responsible role, contacts —
is listed. States that change in the same way are grouped into one change with a stable
id (a digest of what changed), so that a reviewer can approve exactly that change in an
``--allow`` file. Texts shown to users (titles, questions, guidance, labels, actions) are
compared apart: a changed text is a change too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .enumerate import TODAY, reachable_states
from .errors import MeldrouteError
from .evaluate import Evaluation, evaluate
from .model import Protocol, SchoolConfig

State = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]  # answers, facts

ASPECTS = {  # what a reviewer reads, in Dutch
    "outcome": "uitkomst",
    "next_question": "volgende vraag",
    "stage": "fase",
    "deadlines": "termijnen",
    "responsible": "aan zet",
    "contacts": "contacten",
    "error": "fout in de route",
}
TEXT_KEYS = frozenset({"title", "subtitle", "text", "label", "help", "description",
                       "reason", "guidance", "name", "notes", "when_text"})


@dataclass(frozen=True)
class Change:
    id: str
    kind: str  # "behaviour" | "text"
    summary: str  # one line, Dutch
    combinations: int = 0
    examples: tuple[State, ...] = ()
    details: tuple[tuple[str, str, str], ...] = ()  # (aspect, old, new)
    allowed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "summary": self.summary,
                "combinations": self.combinations, "allowed": self.allowed,
                "changes": [{"aspect": a, "old": o, "new": n} for a, o, n in self.details],
                "examples": [{"answers": dict(a), "facts": dict(f)}
                             for a, f in self.examples]}


@dataclass
class DiffReport:
    old: str
    new: str
    combinations: int = 0  # states compared
    changes: list[Change] = field(default_factory=list)

    @property
    def behaviour(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "behaviour"]

    @property
    def texts(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "text"]

    @property
    def changed_combinations(self) -> int:
        return sum(c.combinations for c in self.behaviour)

    @property
    def exit_status(self) -> int:
        """0 unchanged (or every change allowed), 1 changed."""
        return int(any(not c.allowed for c in self.changes))

    def allow(self, ids: Sequence[str]) -> None:
        allowed = set(ids)
        self.changes = [Change(**{**c.__dict__, "allowed": c.id in allowed})
                        for c in self.changes]


def _change_id(prefix: str, payload: Any) -> str:
    digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()
    return f"{prefix}-{digest[:10]}"


# --- behaviour ------------------------------------------------------------------------------

def behaviour(protocol: Protocol, school: SchoolConfig, state: State
              ) -> dict[str, tuple[str, ...]]:
    """What a user sees in this state: per aspect, its readable items."""
    answers, facts = dict(state[0]), dict(state[1])
    try:
        e = evaluate(protocol, school, answers, TODAY, facts)
    except MeldrouteError as err:
        return {"error": (str(err).splitlines()[0] if str(err) else type(err).__name__,)}
    return _aspects(e)


def _aspects(e: Evaluation) -> dict[str, tuple[str, ...]]:
    return {
        "outcome": (e.outcome.id if e.outcome else "-",),
        "next_question": (e.next_question.id if e.next_question else "-",),
        "stage": (e.stage or "-",),
        "deadlines": tuple(f"{d.label}: {d.working_days} werkdagen ({d.kind})"
                           for d in e.deadlines),
        "responsible": tuple((r.role if r.assigned == r.role else f"{r.role}→{r.assigned}")
                             + f" ({r.name})" for r in e.responsible),
        "contacts": tuple(f"{c.key}: {c.name}" + (f", {c.phone}" if c.phone else "")
                          + (f", {c.email}" if c.email else "") for c in e.contacts),
    }


def _difference(aspect: str, before: tuple[str, ...], after: tuple[str, ...]
                ) -> tuple[str, str, str]:
    """(aspect, old, new): for lists only the items that went and came (the whole lists
    when only their order changed)."""
    gone = [x for x in before if x not in after]
    came = [x for x in after if x not in before]
    if not gone and not came:
        gone, came = list(before), list(after)
    return aspect, "; ".join(gone) or "-", "; ".join(came) or "-"


def states(*protocols: Protocol) -> list[State]:
    """Every state reachable in any of the protocols, each once, in a stable order."""
    seen: dict[State, None] = {}
    for protocol in protocols:
        for answer_state, facts in reachable_states(protocol):
            key: State = (tuple(answer_state.answers.items()),
                          tuple(sorted((facts or {}).items())))
            seen.setdefault(key, None)
    return list(seen)


def behaviour_changes(old: tuple[Protocol, SchoolConfig], new: tuple[Protocol, SchoolConfig]
                      ) -> tuple[int, list[Change]]:
    """(states compared, the behaviour changes grouped by what changed)."""
    all_states = states(old[0], new[0])
    groups: dict[tuple[tuple[str, str, str], ...], list[State]] = {}
    for state in all_states:
        before, after = behaviour(*old, state), behaviour(*new, state)
        details = tuple(_difference(aspect, before.get(aspect, ()), after.get(aspect, ()))
                        for aspect in ASPECTS
                        if before.get(aspect, ()) != after.get(aspect, ()))
        if details:
            groups.setdefault(details, []).append(state)
    changes = [Change(id=_change_id("gedrag", details), kind="behaviour",
                      summary=_summary(details, len(found)), combinations=len(found),
                      examples=tuple(found[:3]), details=details)
               for details, found in groups.items()]
    changes.sort(key=lambda c: (-c.combinations, c.id))
    return len(all_states), changes


def _summary(details: Sequence[tuple[str, str, str]], count: int) -> str:
    what = "; ".join(f"{ASPECTS[a]} `{o}` → `{n}`" for a, o, n in details)
    return f"{count} combinatie{'s' if count != 1 else ''}: {what}"


# --- texts ------------------------------------------------------------------------------------

def texts(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) for every text a user reads in a file's data; list items are named by
    their ``id`` (or ``key``) where they have one."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            if isinstance(value, str) and key in TEXT_KEYS:
                yield sub, value
            elif key in TEXT_KEYS and isinstance(value, list) and \
                    all(isinstance(v, str) for v in value):
                yield from ((f"{sub}[{i}]", v) for i, v in enumerate(value))
            else:
                yield from texts(value, sub)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            name = item.get("id", item.get("key", i)) if isinstance(item, Mapping) else i
            yield from texts(item, f"{path}[{name}]")


def text_changes(old: Any, new: Any) -> list[Change]:
    before, after = dict(texts(old)), dict(texts(new))
    changes = []
    for path in list(dict.fromkeys([*before, *after])):
        o, n = before.get(path), after.get(path)
        if o == n:
            continue
        what = "nieuw" if o is None else "weg" if n is None else "gewijzigd"
        changes.append(Change(id=_change_id("tekst", [path, o, n]), kind="text",
                              summary=f"{path}: {what}",
                              details=((path, o or "", n or ""),)))
    return changes


def diff(old: tuple[Protocol, SchoolConfig], new: tuple[Protocol, SchoolConfig],
         old_data: Any, new_data: Any, old_name: str, new_name: str) -> DiffReport:
    """Compare the behaviour of two (protocol, school) pairs, and the texts of the changed
    file's data."""
    report = DiffReport(old_name, new_name)
    report.combinations, found = behaviour_changes(old, new)
    report.changes = found + text_changes(old_data, new_data)
    return report


# --- reports ----------------------------------------------------------------------------------

def _example(state: State) -> str:
    answers = ", ".join(f"{q}: {a}" for q, a in state[0]) or "geen antwoorden"
    facts = ", ".join(f"{k}: {v}" for k, v in state[1])
    return answers + (f"; feiten {facts}" if facts else "")


def _status_line(r: DiffReport) -> str:
    if not r.changes:
        return (f"Geen verschil in gedrag of tekst ({r.combinations} combinaties "
                "vergeleken).")
    open_ = sum(not c.allowed for c in r.changes)
    return (f"{len(r.behaviour)} gedragswijziging(en) in {r.changed_combinations} van "
            f"{r.combinations} combinaties, {len(r.texts)} tekstwijziging(en); "
            f"{open_} niet goedgekeurd.")


def render_text(r: DiffReport) -> str:
    lines = [f"{r.old} → {r.new}", _status_line(r)]
    for c in r.behaviour:
        lines.append(f"[{c.id}]{' (goedgekeurd)' if c.allowed else ''} {c.summary}")
        lines += [f"    voorbeeld: {_example(s)}" for s in c.examples[:1]]
    if r.texts:
        lines.append("Teksten:")
    for c in r.texts:
        path, old, new = c.details[0]
        lines.append(f"[{c.id}]{' (goedgekeurd)' if c.allowed else ''} {path}")
        lines += [f"    - {old}"] if old else []
        lines += [f"    + {new}"] if new else []
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(r: DiffReport) -> str:
    lines = ["### Meldroute: wat deze wijziging doet", "",
             f"`{r.old}` → `{r.new}`", "", _status_line(r)]
    if r.behaviour:
        lines += ["", "| wijziging | combinaties | wat verandert | voorbeeld |",
                  "|---|---:|---|---|"]
        lines += [f"| `{c.id}`{' ✅' if c.allowed else ''} | {c.combinations} | "
                  + "<br>".join(f"{ASPECTS[a]}: `{_md(o)}` → `{_md(n)}`"
                                for a, o, n in c.details)
                  + f" | {_md(_example(c.examples[0]))} |" for c in r.behaviour]
    if r.texts:
        lines += ["", "| tekstwijziging | waar | oud | nieuw |", "|---|---|---|---|"]
        lines += [f"| `{c.id}`{' ✅' if c.allowed else ''} | `{c.details[0][0]}` | "
                  f"{_md(c.details[0][1])} | {_md(c.details[0][2])} |" for c in r.texts]
    if any(not c.allowed for c in r.changes):
        lines += ["", "Goedkeuren: zet de ids in het `--allow`-bestand."]
    return "\n".join(lines)


def render_json(r: DiffReport) -> str:
    return json.dumps({"old": r.old, "new": r.new, "combinations": r.combinations,
                       "changed_combinations": r.changed_combinations,
                       "exit_status": r.exit_status,
                       "changes": [c.to_dict() for c in r.changes]},
                      ensure_ascii=False, indent=2)


def _escape_github(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_github(r: DiffReport) -> str:
    """GitHub Actions workflow commands: a warning per change not yet approved."""
    lines = [_status_line(r)]
    for c in r.changes:
        level = "notice" if c.allowed else "warning"
        body = c.summary if c.kind == "behaviour" else \
            f"{c.details[0][0]}: {c.details[0][1]!r} → {c.details[0][2]!r}"
        lines.append(f"::{level} file={r.new},title=Meldroute {c.id}::"
                     f"{_escape_github(body)}")
    return "\n".join(lines)


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json,
             "github": render_github}
