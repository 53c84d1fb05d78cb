"""Forms generated from the school-configuration JSON Schema.

A property added to ``schemas/school.schema.json`` (with a ``title``) appears in these
forms without template work. WTForms only reads the input; the JSON Schema and the
semantic checks decide what is valid, and their messages are put next to the fields.
"""

from __future__ import annotations

import json
import re
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
    # No maxlength: the schema checks the length and says so next to the field.
    render_kw = {"type": "email"} if spec.get("format") == "email" else {}
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


# What to fill in, per schema property, when it is missing or empty.
FILL_IN = {"name": "Vul een naam in.", "phone": "Vul een telefoonnummer in.",
           "email": "Vul een e-mailadres in.", "organisation": "Vul een organisatie in."}
_PLAIN: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^waarde is te lang: (\d+) tekens, maximaal (\d+)$"),
     "Dit is te lang: {0} tekens, er passen er maximaal {1}."),
    (re.compile(r"^waarde .* is te kort \(minimaal (\d+) tekens\)$"),
     "Dit is te kort: vul minstens {0} tekens in."),
    (re.compile(r"^waarde .* is geen geldig e-mailadres$"),
     "Dit is geen geldig e-mailadres (bijvoorbeeld naam@school.nl)."),
    (re.compile(r"^waarde .* heeft niet de juiste vorm \(kleine letters.*$"),
     "Gebruik alleen kleine letters, cijfers, '_' of '-', en begin met een letter."),
    (re.compile(r"^'(.*)' is geen geldig Nederlands telefoonnummer.*$"),
     "'{0}' is geen geldig Nederlands telefoonnummer (bijvoorbeeld 0412-673700)."),
]


def plain_message(message: str, name: str | None = None, title: str | None = None) -> str:
    """A schema message in the words of the form: "verplichte sleutel 'name' ontbreekt"
    next to the field Naam becomes "Vul een naam in."."""
    missing = re.match(r"^verplichte sleutel '([^']+)' ontbreekt$", message)
    if missing or message == "waarde mag niet leeg zijn":
        key = missing.group(1) if missing else name or ""
        return FILL_IN.get(key) or (f"Vul {title.rstrip(' *').lower()} in." if title
                                    else f"Vul '{key}' in.")
    for pattern, words in _PLAIN:
        found = pattern.match(message)
        if found:
            return words.format(*found.groups())
    return message


def place_errors(form: Any, problems: Iterable[Problem], prefix: tuple[Any, ...]
                 ) -> list[str]:
    """Put each problem next to its field, in plain Dutch; return the messages that fit
    no field."""
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
            text = plain_message(problem.message, field.name, field.label.text)
            field.errors = [*field.errors, text]
        else:
            rest.append(plain_message(problem.message))
    return rest
