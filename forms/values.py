"""A step's values between form data, stored answers (JSON) and the dossier page.

Each field's own type does the work (``fields.py``); these walk a step's fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup

from meldroute.engine import FieldDef

from .fields import DisplayContext, field_type


def from_form(fields: Iterable[FieldDef], data: Mapping[str, Any]) -> dict[str, Any]:
    """The form's data as JSON-able values, one per visible field definition."""
    return {f.id: field_type(f).to_stored(data.get(f.id)) for f in fields}


def to_form(fields: Iterable[FieldDef], stored: Mapping[str, Any]) -> dict[str, Any]:
    """Stored answers as form data (for showing a step that was recorded before)."""
    return {f.id: field_type(f).from_stored(stored[f.id]) for f in fields if f.id in stored}


def recorded_values(ctx: DisplayContext, stored: Mapping[str, Any]
                    ) -> list[tuple[FieldDef, Markup]]:
    """(field, HTML) for each non-empty stored value of ``ctx.step``, in the step's order."""
    shown = []
    for f in ctx.step.fields:
        kind = field_type(f)
        value = stored.get(f.id)
        if not kind.is_empty(value):
            shown.append((f, kind.display(value, ctx)))
    return shown
