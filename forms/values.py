"""Between stored answers (JSON: ISO dates, lists, rows) and form data (dates)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from meldroute.engine.model import FieldDef


def _stored(fdef: FieldDef, value: Any) -> Any:
    if fdef.type == "date":
        return value.isoformat() if isinstance(value, dt.date) else None
    if fdef.type == "group":
        rows = [{sub.id: _stored(sub, row.get(sub.id)) for sub in fdef.fields}
                for row in value or ()]
        return [r for r in rows if any(v not in (None, "", [], False) for v in r.values())]
    if fdef.type in ("contacts", "roles", "checklist") and not fdef.multiple:
        return value or None
    if isinstance(value, str):
        return value.strip()
    return value


def from_form(fields: Iterable[FieldDef], data: Mapping[str, Any]) -> dict[str, Any]:
    """The form's data as JSON-able values, one per visible field definition."""
    return {f.id: _stored(f, data.get(f.id)) for f in fields}


def _loaded(fdef: FieldDef, value: Any) -> Any:
    if fdef.type == "date":
        try:
            return dt.date.fromisoformat(value) if value else None
        except (TypeError, ValueError):
            return None
    if fdef.type == "group":
        return [{sub.id: _loaded(sub, row.get(sub.id)) for sub in fdef.fields}
                for row in value or () if isinstance(row, dict)]
    return value


def to_form(fields: Iterable[FieldDef], stored: Mapping[str, Any]) -> dict[str, Any]:
    """Stored answers as form data (for showing a step that was recorded before)."""
    return {f.id: _loaded(f, stored[f.id]) for f in fields if f.id in stored}
