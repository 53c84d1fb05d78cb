"""What changed between two versions, field by field, in the words of the forms.

Used by the version pages of the school settings and of a dossier's steps: each change is
one row "label: old → new" with the label the form shows (the schema's ``title``, the
step field's label), never a YAML or JSON diff.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from .schemaforms import contact_schema, school_schema


@dataclass(frozen=True)
class Change:
    label: str
    old: Any  # text or Markup; None: not there before
    new: Any  # None: not there any more


def _words(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_words(v)}" for k, v in value.items())
    return str(value)


def _remap_words(remap: Iterable[Mapping[str, Any]], steps: Mapping[str, str]) -> str:
    rows = []
    for m in remap:
        where = m.get("steps") or []
        rows.append(f"{m.get('to')} neemt de rol van {m.get('role')} over" + (
            " in " + ", ".join(steps.get(s, s) for s in where) if where else "")
            + (f" (route {m['protocol']})" if m.get("protocol") else ""))
    return "; ".join(rows)


def config_changes(old: Mapping[str, Any], new: Mapping[str, Any],
                   steps: Mapping[str, str] | None = None) -> list[Change]:
    """The changes from configuration ``old`` to ``new`` (school or board), with Dutch
    labels; ``steps`` gives step ids their words ("stap 4 (Afwegen)")."""
    props = school_schema()["properties"]
    contact_props = contact_schema()["properties"]
    found: list[Change] = []
    for key in dict.fromkeys([*old, *new]):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        title = props.get(key, {}).get("title", key)
        if key == "contacts":
            for contact in dict.fromkeys([*(a or {}), *(b or {})]):
                ca, cb = (a or {}).get(contact) or {}, (b or {}).get(contact) or {}
                name = cb.get("name") or ca.get("name") or contact
                for field in dict.fromkeys([*ca, *cb]):
                    if ca.get(field) != cb.get(field):
                        label = contact_props.get(field, {}).get("title", field)
                        found.append(Change(f"Contact {name}: {label.lower()}",
                                            _words(ca.get(field)) or None,
                                            _words(cb.get(field)) or None))
        elif key == "roles":
            for role in dict.fromkeys([*(a or {}), *(b or {})]):
                ra = ((a or {}).get(role) or {}).get("name")
                rb = ((b or {}).get(role) or {}).get("name")
                if ra != rb:
                    found.append(Change(f"Naam van de rol {role}", ra, rb))
        elif key == "remap":
            found.append(Change(title, _remap_words(a or [], steps or {}) or None,
                                _remap_words(b or [], steps or {}) or None))
        else:
            found.append(Change(title, _words(a) or None, _words(b) or None))
    return found


def field_changes(old: Iterable[tuple[Any, Any]], new: Iterable[tuple[Any, Any]]
                  ) -> list[Change]:
    """The changes between two versions of a step, given as (field, shown HTML) pairs in
    the step's order (``recorded_fields``)."""
    before = {f.id: (f, Markup(v)) for f, v in old}
    after = {f.id: (f, Markup(v)) for f, v in new}
    found = []
    for name in dict.fromkeys([*before, *after]):
        fa, va = before.get(name, (None, None))
        fb, vb = after.get(name, (None, None))
        field = fb if fb is not None else fa
        if str(va or "") != str(vb or "") and field is not None:
            found.append(Change(field.label, va or None, vb or None))
    return found
