"""Forms generated from the school-configuration JSON Schema.

A property added to ``schemas/school.schema.json`` (with a ``title``) appears in these
forms without template work. WTForms only reads the input; the JSON Schema and the
semantic checks decide what is valid, and their messages are put next to the fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from wtforms import Field, StringField, TextAreaField

from meldroute.engine import Problem, schema_text
from meldroute.forms.fields import DutchForm

LONG_TEXT = 500


def school_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_text("school"))
    return schema


def contact_schema() -> dict[str, Any]:
    found: dict[str, Any] = school_schema()["$defs"]["contact"]
    return found


def role_schema() -> dict[str, Any]:
    found: dict[str, Any] = school_schema()["properties"]["roles"]["additionalProperties"]
    return found


def _field(name: str, spec: Mapping[str, Any], required: bool) -> Any:
    label = spec.get("title", name) + (" *" if required else "")
    description = spec.get("description", "")
    long = spec.get("maxLength", 0) > LONG_TEXT
    render_kw = {"maxlength": spec["maxLength"]} if "maxLength" in spec else {}
    if spec.get("format") == "email":
        render_kw["type"] = "email"
    field_class = TextAreaField if long else StringField
    return field_class(label, description=description, render_kw=render_kw)


def form_class(schema: Mapping[str, Any], name: str, extra: Mapping[str, Any] | None = None
               ) -> type[DutchForm]:
    """A form with one text field per string property of ``schema``."""
    required = set(schema.get("required", ()))
    attrs: dict[str, Any] = dict(extra or {})
    for prop, spec in schema.get("properties", {}).items():
        if spec.get("type") == "string":
            attrs[prop] = _field(prop, spec, prop in required)
    attrs["schema_fields"] = tuple(p for p, s in schema.get("properties", {}).items()
                                   if s.get("type") == "string")
    return type(name, (DutchForm,), attrs)


def values(form: Any) -> dict[str, str]:
    """The filled-in schema fields (empty ones left out, as in the YAML files)."""
    found = {}
    for name in form.schema_fields:
        value = (form[name].data or "").strip()
        if value:
            found[name] = value
    return found


def place_errors(form: Any, problems: Iterable[Problem], prefix: tuple[Any, ...]
                 ) -> list[str]:
    """Put each problem next to its field; return the messages that fit no field."""
    rest = []
    for problem in problems:
        where = problem.where
        field: Field | None = None
        if where[:len(prefix)] == prefix and len(where) > len(prefix):
            name = where[len(prefix)]
            field = form._fields.get(name) if isinstance(name, str) else None
        if field is None and where[:len(prefix)] == prefix and len(where) == len(prefix):
            missing = problem.message.split("'")
            if len(missing) > 2 and missing[1] in form._fields:
                field = form._fields[missing[1]]
        if field is not None:
            field.errors = [*field.errors, problem.message]
        else:
            rest.append(problem.message)
    return rest
