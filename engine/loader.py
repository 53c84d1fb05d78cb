"""Loading protocol and school files: schema first, then the semantic checks.

Every problem is collected and reported at once, each with ``file:line:col``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import phonenumbers

from . import cache
from .consequences import Action, DeadlineSpec, consequence_from_data
from .errors import ConfigError, Problem
from .model import (
    BUILTIN_FACTS,
    NONE,
    Actor,
    AcuteGuidance,
    AtLeastOne,
    Condition,
    ContactKey,
    DateDef,
    FactDef,
    FactSource,
    FieldDef,
    Outcome,
    Phone,
    Protocol,
    Question,
    Remap,
    Role,
    Rule,
    SchoolConfig,
    SchoolContact,
    StageDef,
    Step,
)
from .references import References, suggest
from .source import Document, load_checked, read_document, schema_problems

DEFAULT_PROTOCOL = "meldcode-onderwijs"


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def shipped_dir(package: str) -> Path:
    return Path(str(resources.files(f"meldroute.{package}")))


def shipped_protocol_files() -> list[Path]:
    return sorted(shipped_dir("rules").glob("*.yaml"))


_SERVICE_PREFIXES = ("0800", "0900", "0906", "0909")


def is_dutch_phone(number: str) -> bool:
    """A Dutch number: a regional or mobile one, 112, or a national service number
    (0800-, 0900-, 0906-, 0909-) of 4 to 7 digits after its prefix."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) != len("".join(ch for ch in number if not ch.isspace() and ch not in "-()")):
        return False
    if digits == "112":
        return True
    if digits.startswith(_SERVICE_PREFIXES) and 8 <= len(digits) <= 11:
        return True
    try:
        parsed = phonenumbers.parse(number, "NL")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed) and phonenumbers.region_code_for_number(
        parsed
    ) == "NL"


def _duplicates(doc: Document, section: Iterable[tuple[tuple[Any, ...], Any]], what: str
                ) -> list[Problem]:
    seen: dict[Any, tuple[Any, ...]] = {}
    problems = []
    for where, value in section:
        if value in seen:
            first = doc.locate(seen[value])[0]
            problems.append(doc.problem(
                where, f"{what} '{value}' komt dubbel voor (eerder op regel {first})",
                check="references"))
        else:
            seen[value] = where
    return problems


def _id_problems(doc: Document) -> list[Problem]:
    """Ids (and step numbers) that occur twice."""
    d = doc.data
    problems: list[Problem] = []
    for section, key, what in (
        ("roles", "id", "rol"), ("contacts", "key", "contact"), ("answers", "id", "antwoord"),
        ("steps", "id", "stap"), ("questions", "id", "vraag"), ("outcomes", "id", "uitkomst"),
        ("rules", "id", "regel"), ("steps", "number", "stapnummer"),
    ):
        items = [((section, i, key), item[key]) for i, item in enumerate(d[section])]
        problems += _duplicates(doc, items, what)
    problems += _duplicates(doc, _fields(d), "veld")
    for section, key, what in (("facts", "id", "feit"), ("dates", "id", "datum"),
                               ("stages", "id", "fase")):
        problems += _duplicates(doc, [((section, i, key), item[key])
                                      for i, item in enumerate(d.get(section, ()))], what)
    seen = {r["id"] for r in d["rules"]}
    for i, r in enumerate(d.get("stage_rules", ())):
        if r["id"] in seen:
            problems.append(doc.problem(("stage_rules", i, "id"),
                                        f"regel '{r['id']}' komt dubbel voor",
                                        check="references"))
        seen.add(r["id"])
    return problems


def _fields(d: Mapping[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    return [(("steps", si, "fields", fi, "id"), f["id"])
            for si, s in enumerate(d["steps"]) for fi, f in enumerate(s["fields"])]


def _references(doc: Document) -> References:
    d = doc.data
    return References(doc, {
        "rol": [r["id"] for r in d["roles"]],
        "contact": [c["key"] for c in d["contacts"]],
        "antwoord": [a["id"] for a in d["answers"]],
        "stap": [s["id"] for s in d["steps"]],
        "vraag": [q["id"] for q in d["questions"]],
        "uitkomst": [o["id"] for o in d["outcomes"]],
        "veld": sorted({f for _, f in _fields(d)}),
        "fase": [st["id"] for st in d.get("stages", ())],
        "datum": [x["id"] for x in d.get("dates", ())],
        "actie": sorted({a["id"] for o in d["outcomes"] for a in o.get("actions", ())
                         if "id" in a} | {t["action"]["id"] for r in d["rules"]
                                          for t in r["then"] if "id" in t.get("action", {})}),
        "feit": [*BUILTIN_FACTS, *(f["id"] for f in d.get("facts", ()))],
    })


def _phone_problems(doc: Document) -> list[Problem]:
    problems = []
    numbers: list[tuple[tuple[Any, ...], Any]] = [
        (("contacts", i, "fallback", "phone"), c.get("fallback", {}).get("phone"))
        for i, c in enumerate(doc.data["contacts"])]
    numbers += [(("acute", "phones", i, "phone"), p.get("phone"))
                for i, p in enumerate(doc.data.get("acute", {}).get("phones", ()))]
    for where, phone in numbers:
        if phone is not None and not is_dutch_phone(phone):
            problems.append(doc.problem(where,
                                        f"'{phone}' is geen geldig Nederlands telefoonnummer",
                                        check="references"))
    return problems


def _check_steps_and_questions(d: Mapping[str, Any], refs: References) -> None:
    for si, s in enumerate(d["steps"]):
        for ai, a in enumerate(s["actors"]):
            refs.check(("steps", si, "actors", ai, "role"), a["role"], "rol")
        for ci, c in enumerate(s.get("contacts", ())):
            refs.check(("steps", si, "contacts", ci), c, "contact")
        for fi, f in enumerate(s["fields"]):
            if "question" in f:
                refs.check(("steps", si, "fields", fi, "question"), f["question"], "vraag")
    for qi, q in enumerate(d["questions"]):
        refs.check(("questions", qi, "step"), q["step"], "stap")
        for ai, a in enumerate(q["answers"]):
            refs.check(("questions", qi, "answers", ai), a, "antwoord")
        for ri, r in enumerate(q.get("responsible", ())):
            refs.check(("questions", qi, "responsible", ri), r, "rol")


def _step_field_problems(doc: Document) -> list[Problem]:
    """``required_with`` and ``at_least_one`` name fields of their own step."""
    problems: list[Problem] = []

    def check(where: tuple[Any, ...], fid: Any, known: list[str], step_id: str) -> None:
        if fid not in known:
            problems.append(doc.problem(
                where, f"onbekend veld '{fid}' in stap '{step_id}'{suggest(str(fid), known)} "
                       f"(velden van de stap: {', '.join(known)})", check="references"))

    for si, s in enumerate(doc.data["steps"]):
        known = [f["id"] for f in s["fields"]]
        for fi, f in enumerate(s["fields"]):
            other = f.get("required_with")
            others = other if isinstance(other, list) else [] if other is None else [other]
            where: tuple[Any, ...] = ("steps", si, "fields", fi, "required_with")
            for oi, o in enumerate(others):
                check((*where, oi) if isinstance(other, list) else where, o,
                      [k for k in known if k != f["id"]], s["id"])
        for ai, item in enumerate(s.get("at_least_one", ())):
            for xi, fid in enumerate(item["fields"]):
                check(("steps", si, "at_least_one", ai, "fields", xi), fid, known, s["id"])
    return problems


def _outcome_problems(doc: Document, refs: References) -> list[Problem]:
    """References in outcomes, and conditional fields that no outcome asks for (or the
    other way round)."""
    d = doc.data
    problems: list[Problem] = []
    field_ids = {f for _, f in _fields(d)}
    conditional = {f["id"]: ("steps", si, "fields", fi)
                   for si, s in enumerate(d["steps"]) for fi, f in enumerate(s["fields"])
                   if f.get("conditional")}
    requested: set[str] = set()
    for oi, o in enumerate(d["outcomes"]):
        refs.check(("outcomes", oi, "step"), o["step"], "stap")
        for ai, a in enumerate(o.get("actions", ())):
            Action.from_data(a).check(("outcomes", oi, "actions", ai), refs)
        for ri, r in enumerate(o.get("responsible", ())):
            refs.check(("outcomes", oi, "responsible", ri), r, "rol")
        for fi, f in enumerate(o.get("fields", ())):
            refs.check(("outcomes", oi, "fields", fi), f, "veld")
            if f in field_ids and f not in conditional:
                problems.append(doc.problem(
                    ("outcomes", oi, "fields", fi),
                    f"veld '{f}' wordt door de uitkomst gevraagd maar is niet 'conditional'",
                    check="references"))
            requested.add(f)
    requested |= {f for r in (*d["rules"], *d.get("stage_rules", ()))  # ``request:`` items
                  for t in r["then"] for f in t.get("request", ())}
    for fid, where in conditional.items():
        if fid not in requested:
            problems.append(doc.problem(
                where, f"veld '{fid}' is 'conditional' maar geen uitkomst of regel vraagt erom",
                check="references"))
    return problems


def _rule_problems(doc: Document, refs: References) -> list[Problem]:
    """Answers a rule's ``when`` may not use, its ``then``, and the start rule."""
    d = doc.data
    problems: list[Problem] = []
    questions = {q["id"]: q for q in d["questions"]}
    for ri, r in enumerate(d["rules"]):
        for q, value in r["when"].items():
            if q not in questions:
                refs.check(("rules", ri, "when", q), q, "vraag")
                continue
            allowed = questions[q]["answers"]
            for v in value if isinstance(value, list) else [value]:
                if v not in allowed:
                    problems.append(doc.problem(
                        ("rules", ri, "when", q),
                        f"antwoord '{v}' is niet toegestaan bij vraag '{q}' "
                        f"(toegestaan: {', '.join(allowed)})", check="references"))
        for ti, item in enumerate(r["then"]):
            ((kind, _),) = item.items()
            consequence_from_data(item).check(("rules", ri, "then", ti, kind), refs)
    if not any(not r["when"] for r in d["rules"]):
        problems.append(doc.problem(("rules",), "geen beginregel: één regel heeft 'when: {}'",
                                    check="references"))
    return problems


def _fact_values(d: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every fact a stage rule may use, with the values it can have."""
    values = {f["id"]: list(f["values"]) for f in d.get("facts", ())}
    values["outcome"] = [*(o["id"] for o in d["outcomes"]), NONE]
    values["question"] = [*(q["id"] for q in d["questions"]), NONE]
    return values


def _condition_problems(doc: Document, where: tuple[Any, ...], when: Mapping[str, Any],
                        values: Mapping[str, list[str]], refs: References) -> list[Problem]:
    problems = []
    for key, value in when.items():
        if key not in values:
            refs.check((*where, key), key, "feit")
            continue
        for v in value if isinstance(value, list) else [value]:
            if v not in values[key]:
                problems.append(doc.problem(
                    (*where, key), f"waarde '{v}' is niet mogelijk bij feit '{key}' "
                                   f"(mogelijk: {', '.join(values[key])})", check="references"))
    return problems


def _fact_problems(doc: Document, refs: References) -> list[Problem]:
    """Facts, dates, stage rules and the acute guidance: names and values they use."""
    d = doc.data
    values = _fact_values(d)
    problems: list[Problem] = []
    questions = {q["id"] for q in d["questions"]}
    earlier: dict[str, list[str]] = {k: values[k] for k in BUILTIN_FACTS}
    for fi, f in enumerate(d.get("facts", ())):
        where = ("facts", fi)
        if f["id"] in questions or f["id"] in BUILTIN_FACTS:
            problems.append(doc.problem((*where, "id"), f"feit '{f['id']}' heeft de naam van "
                                        "een vraag of van een ingebouwd feit",
                                        check="references"))
        for key in ("default",):
            if f[key] not in f["values"]:
                problems.append(doc.problem((*where, key), f"waarde '{f[key]}' staat niet bij "
                                            "de waarden van het feit", check="references"))
        for si, src in enumerate(f.get("from", ())):
            source = FactSource.from_data(src)
            what = {"field": "veld", "step": "stap", "passed": "datum"}.get(source.kind)
            if what:
                refs.check((*where, "from", si, source.kind), source.name, what)
            for key in ("value", "otherwise"):
                if key in src and src[key] not in f["values"]:
                    problems.append(doc.problem((*where, "from", si, key),
                                                f"waarde '{src[key]}' staat niet bij de "
                                                "waarden van het feit", check="references"))
        for ci, cond in enumerate(_conditions(f.get("when"))):
            problems += _condition_problems(doc, (*where, "when", ci), cond, earlier, refs)
        earlier[f["id"]] = values[f["id"]]
    for di, x in enumerate(d.get("dates", ())):
        if "field" in x:
            refs.check(("dates", di, "field"), x["field"], "veld")
    for ri, r in enumerate(d.get("stage_rules", ())):
        problems += _condition_problems(doc, ("stage_rules", ri, "when"), r["when"], values,
                                        refs)
        for ti, item in enumerate(r["then"]):
            ((kind, _),) = item.items()
            consequence_from_data(item).check(("stage_rules", ri, "then", ti, kind), refs)
    for pi, phone in enumerate(d.get("acute", {}).get("phones", ())):
        if "contact" in phone:
            refs.check(("acute", "phones", pi, "contact"), phone["contact"], "contact")
    return problems


def _conditions(when: Any) -> list[Mapping[str, Any]]:
    """A fact's ``when``: one condition, a list of alternatives, or none (always)."""
    if when is None:
        return []
    return list(when) if isinstance(when, list) else [when]


def protocol_problems(doc: Document) -> list[Problem]:
    """Semantic checks of a schema-valid protocol document."""
    refs = _references(doc)
    problems = _id_problems(doc) + _phone_problems(doc) + _step_field_problems(doc)
    _check_steps_and_questions(doc.data, refs)
    problems += _outcome_problems(doc, refs)
    problems += _rule_problems(doc, refs)
    problems += _fact_problems(doc, refs)
    return problems + refs.problems


def build_protocol(doc: Document) -> Protocol:
    d = doc.data
    questions_data = {q["id"]: q for q in d["questions"]}
    return Protocol(
        id=d["id"],
        version=str(d["version"]),
        title=d["title"],
        roles=MappingProxyType({r["id"]: Role(r["id"], r["name"], r.get("access", "own"),
                                              bool(r.get("confirms_grants", False)))
                                for r in d["roles"]}),
        contacts=MappingProxyType({
            c["key"]: ContactKey(c["key"], c["name"], bool(c.get("required", False)),
                                 c.get("fallback", {}).get("name"),
                                 c.get("fallback", {}).get("phone"))
            for c in d["contacts"]}),
        answer_labels=MappingProxyType({a["id"]: a["label"] for a in d["answers"]}),
        steps=tuple(
            Step(
                id=s["id"], number=s["number"], title=s["title"],
                actors=tuple(Actor(a["role"], bool(a.get("optional", False)))
                             for a in s["actors"]),
                guidance=tuple(s["guidance"]),
                fields=tuple(FieldDef.from_data(f, questions_data) for f in s["fields"]),
                contacts=tuple(s.get("contacts", ())),
                subtitle=s.get("subtitle"),
                report_section=s.get("report_section"),
                at_least_one=tuple(AtLeastOne(tuple(x["fields"]), x.get("message"))
                                   for x in s.get("at_least_one", ())),
            )
            for s in sorted(d["steps"], key=lambda s: s["number"])
        ),
        questions=MappingProxyType({
            q["id"]: Question(q["id"], q["step"], q["label"], q["text"], tuple(q["answers"]),
                              tuple(q.get("responsible", ())), q.get("ref"))
            for q in d["questions"]}),
        outcomes=MappingProxyType({
            o["id"]: Outcome(
                o["id"], o["step"], o["text"],
                tuple(Action.from_data(a) for a in o.get("actions", ())),
                tuple(DeadlineSpec.from_data(x) for x in o.get("deadlines", ())),
                tuple(o.get("responsible", ())),
                tuple(o.get("fields", ())))
            for o in d["outcomes"]}),
        rules=tuple(_rule(r, on_facts=False) for r in d["rules"]),
        choice=d.get("choice"),
        subject=d.get("subject"),
        outcome_label=d.get("outcome_label") or Protocol.outcome_label,
        digest=_digest(d),
        source=doc,
        **_lifecycle(d),
    )


def _condition(when: Mapping[str, Any]) -> Condition:
    return MappingProxyType({k: tuple(v) if isinstance(v, list) else (v,)
                             for k, v in when.items()})


def _rule(r: Mapping[str, Any], on_facts: bool) -> Rule:
    return Rule(id=r["id"], description=r["description"], when=_condition(r["when"]),
                then=tuple(consequence_from_data(t) for t in r["then"]),
                reason=r.get("reason"), on_facts=on_facts)


def _lifecycle(d: Mapping[str, Any]) -> dict[str, Any]:
    """The protocol's facts, dates, stages, stage rules and acute guidance."""
    acute = d.get("acute")
    return {
        "facts": MappingProxyType({f["id"]: FactDef(
            f["id"], f.get("label", f["id"]), tuple(f["values"]), f["default"],
            tuple(FactSource.from_data(x) for x in f.get("from", ())),
            tuple(_condition(c) for c in _conditions(f.get("when"))))
            for f in d.get("facts", ())}),
        "dates": MappingProxyType({x["id"]: DateDef(x["id"], x.get("label", x["id"]),
                                                    x.get("field"))
                                   for x in d.get("dates", ())}),
        "stages": MappingProxyType({x["id"]: StageDef(x["id"], x["label"],
                                                             bool(x.get("may_close", False)))
                                    for x in d.get("stages", ())}),
        "stage_rules": tuple(_rule(r, on_facts=True) for r in d.get("stage_rules", ())),
        "acute": AcuteGuidance(acute["text"], tuple(
            Phone(p.get("name"), p.get("phone"), p.get("contact"))
            for p in acute.get("phones", ()))) if acute else None,
    }


def protocol_from_document(doc: Document) -> Protocol:
    """The checked protocol of a document (built once per command for the same bytes,
    ``cache.once``); ConfigError with every problem."""
    if not doc.digest:
        return _checked_protocol(doc)
    return cache.once("protocol", (doc.path, doc.digest), lambda: _checked_protocol(doc))


def _checked_protocol(doc: Document) -> Protocol:
    problems = schema_problems(doc, "protocol")
    if problems:
        raise ConfigError(problems)
    problems = protocol_problems(doc)
    if problems:
        raise ConfigError(problems)
    return build_protocol(doc)


def load_protocol(path: Path | str | None = None) -> Protocol:
    """Load and check a protocol file (default: the shipped Meldcode for schools)."""
    if path is None:
        path = shipped_dir("rules") / f"{DEFAULT_PROTOCOL}.yaml"
    return protocol_from_document(read_document(path))


# --- schools --------------------------------------------------------------------------------


def followed_protocols(data: Mapping[str, Any]) -> list[str]:
    """The ids of the protocols a school's data says it follows, its main one first:
    ``protocols: [a, b]``, or ``protocol: a`` (the Meldcode when neither is given)."""
    if isinstance(data.get("protocols"), list) and data["protocols"]:
        return [str(p) for p in data["protocols"]]
    return [str(data.get("protocol", DEFAULT_PROTOCOL))]


Protocols = Protocol | Mapping[str, Protocol]


def _as_mapping(protocols: Protocols) -> Mapping[str, Protocol]:
    return {protocols.id: protocols} if isinstance(protocols, Protocol) else protocols


def _protocol_problems(doc: Document, protocols: Protocols) -> list[Problem]:
    """The school names protocols that exist; with one protocol given, the school follows it."""
    d = doc.data
    problems: list[Problem] = []
    followed = followed_protocols(d)
    if "protocol" in d and "protocols" in d:
        problems.append(doc.problem(("protocols",), "gebruik 'protocols' of 'protocol', niet "
                                    "allebei", check="references"))
    if isinstance(protocols, Protocol):
        if protocols.id not in followed:
            where = ("protocols",) if "protocols" in d else ("protocol",)
            problems.append(doc.problem(where, f"school volgt protocol "
                                        f"'{', '.join(followed)}', maar het geladen protocol "
                                        f"is '{protocols.id}'", check="references"))
        return problems
    for i, wanted in enumerate(followed):
        if wanted not in protocols:
            at: tuple[Any, ...] = ("protocols", i) if "protocols" in d else ("protocol",)
            problems.append(doc.problem(at, f"onbekend protocol '{wanted}'"
                                        f"{suggest(wanted, protocols)}", check="references"))
    return problems


def _known(protocols: Iterable[Protocol], section: str) -> dict[str, Any]:
    """Contacts or roles of every protocol the school follows (shared by them)."""
    known: dict[str, Any] = {}
    for p in protocols:
        known.update(p.contacts if section == "contacts" else p.roles)
    return known


def _contact_and_role_problems(doc: Document, protocols: list[Protocol]) -> list[Problem]:
    d = doc.data
    problems: list[Problem] = []
    contacts, roles = _known(protocols, "contacts"), _known(protocols, "roles")
    for key, contact in d.get("contacts", {}).items():
        hint = suggest(key, contacts) if key not in contacts else ""
        if hint:  # an own contact is fine; a misspelt protocol contact is not
            problems.append(doc.problem(("contacts", key), f"onbekend contact '{key}'{hint}",
                                        key=True, check="references"))
        phone = contact.get("phone")
        if phone is not None and not is_dutch_phone(phone):
            problems.append(doc.problem(
                ("contacts", key, "phone"), f"'{phone}' is geen geldig Nederlands "
                "telefoonnummer (bijvoorbeeld 0412-673700)", check="references"))
    for key in d.get("roles", {}):
        hint = suggest(key, roles) if key not in roles else ""
        if hint:
            problems.append(doc.problem(("roles", key), f"onbekende rol '{key}'{hint}",
                                        key=True, check="references"))
    return problems


def _remap_problems(doc: Document, protocols: Mapping[str, Protocol]) -> list[Problem]:
    """Each remapping against its own protocol (``protocol:``, default the main one); a
    remapping of a protocol that is not loaded here is not checked."""
    d = doc.data
    problems: list[Problem] = []

    def add(where: tuple[Any, ...], message: str) -> None:
        problems.append(doc.problem(where, message, check="references"))

    followed = followed_protocols(d)
    # roles are shared by the school's routes: any of them, or the school's own, may take
    # over a role of one route
    known_roles = list(dict.fromkeys([*_known(
        [protocols[p] for p in followed if p in protocols], "roles"), *d.get("roles", {})]))
    taken: dict[tuple[str, str, str], int] = {}
    for i, r in enumerate(d.get("remap", ())):
        pid = r.get("protocol", followed[0])
        if pid not in followed:
            add(("remap", i, "protocol"), f"de school volgt protocol '{pid}' niet"
                                          f"{suggest(pid, followed)}")
            continue
        protocol = protocols.get(pid)
        if protocol is None:
            continue
        if r["role"] not in protocol.roles:
            add(("remap", i, "role"), f"onbekende rol '{r['role']}' in de route"
                                      f"{suggest(r['role'], protocol.roles)} "
                                      f"(bekend: {', '.join(protocol.roles)})")
        if r["to"] not in known_roles:
            add(("remap", i, "to"), f"onbekende rol '{r['to']}'{suggest(r['to'], known_roles)}"
                                    f" (bekend: {', '.join(known_roles)}); "
                                    "voeg haar toe onder 'roles'")
        for j, s in enumerate(r.get("steps", ())):
            if s not in protocol.steps_by_id:
                add(("remap", i, "steps", j), f"onbekende stap '{s}'"
                                              f"{suggest(s, protocol.steps_by_id)}")
        for s in r.get("steps") or list(protocol.steps_by_id):
            if (pid, r["role"], s) in taken:
                add(("remap", i), f"rol '{r['role']}' wordt in stap '{s}' al overgenomen "
                                  f"(remap {taken[(pid, r['role'], s)] + 1})")
            taken[(pid, r["role"], s)] = i
    counts = Counter((r.get("protocol", followed[0]), r["role"]) for r in d.get("remap", ()))
    for i, r in enumerate(d.get("remap", ())):
        if (r.get("protocol", followed[0]), r["to"]) in counts and r["to"] != r["role"]:
            add(("remap", i, "to"), f"rol '{r['to']}' neemt zelf al een andere rol over; "
                                    "wijs de rol direct toe")
    return problems


def school_problems(doc: Document, protocols: Protocols) -> list[Problem]:
    """Semantic checks of a schema-valid school document against the protocols it
    follows (one protocol, or every protocol known by id). Contacts and roles are shared
    by the school's protocols: a key one of them knows is fine for all."""
    problems = _protocol_problems(doc, protocols)
    given = _as_mapping(protocols)
    followed = [given[p] for p in followed_protocols(doc.data) if p in given]
    problems += _contact_and_role_problems(doc, followed or list(given.values()))
    return problems + _remap_problems(doc, given)


def school_from_document(doc: Document, protocols: Protocols) -> SchoolConfig:
    problems = schema_problems(doc, "school")
    if not problems:
        problems = school_problems(doc, protocols)
    if problems:
        raise ConfigError(problems)
    d = doc.data
    followed = followed_protocols(d)
    return SchoolConfig(
        id=d["id"],
        name=d["name"],
        protocol=followed[0],
        protocols=tuple(followed),
        contacts=MappingProxyType({
            k: SchoolContact(c["name"], c.get("phone"), c.get("email"), c.get("when"),
                             c.get("notes"))
            for k, c in d.get("contacts", {}).items()}),
        roles=MappingProxyType({k: r["name"] for k, r in d.get("roles", {}).items()}),
        remap=tuple(Remap(r["role"], r["to"], tuple(r.get("steps", ())),
                          r.get("protocol", followed[0]))
                    for r in d.get("remap", ())),
        source=doc,
        digest=_digest(d),
        retention_years=int(d.get("retention_years", 2)),
        board=d.get("board"),
        report_within_working_days=int(d.get("melden_binnen_werkdagen", 1)),
    )


def load_school(path: Path | str | None = None, protocol: Protocol | None = None
                ) -> SchoolConfig:
    """Load and check a school file (default: the demo school) against the protocols it
    follows (``protocol``: this file in place of the shipped one with its id)."""
    if path is None:
        path = shipped_dir("schools") / "demo.yaml"
    doc = load_checked(path, "school")
    followed = followed_protocols(doc.data)
    protocols = {p: load_protocol_by_id(p, doc) for p in followed
                 if protocol is None or p != protocol.id}
    if protocol is not None:
        if protocol.id not in followed:
            raise ConfigError(_protocol_problems(doc, protocol))
        protocols[protocol.id] = protocol
    return school_from_document(doc, protocols)


def load_protocol_by_id(protocol_id: str, asked_by: Document | None = None) -> Protocol:
    for path in shipped_protocol_files():
        protocol = load_protocol(path)
        if protocol.id == protocol_id:
            return protocol
    where = asked_by.problem(("protocol",), f"onbekend protocol '{protocol_id}'") if asked_by \
        else Problem("-", 1, 1, f"onbekend protocol '{protocol_id}'")
    raise ConfigError([where])


def neutral_school(protocol: Protocol) -> SchoolConfig:
    """A school with no configuration of its own: protocol names, fallback numbers."""
    return SchoolConfig("neutraal", "(geen school)", protocol.id, MappingProxyType({}),
                        MappingProxyType({}), (), protocols=(protocol.id,))

