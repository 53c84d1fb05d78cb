"""Field types: one class per ``type:`` of the protocol's field definitions.

A field type owns everything about its kind of field: the WTForms field it builds (with
its validators), when a value counts as empty, how form data is stored (JSON) and loaded
back into a form, and how a recorded value is shown on the dossier page (HTML).

Each class names its type (``class DateType(FieldType, name="date")``) and so registers
itself in ``FIELD_TYPES``. A new field type is one class in this module, its test, and its
name in the ``type`` enum of ``schemas/protocol.schema.json``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateField,
    Field,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in the stubs
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
)

from meldroute.engine import (
    Evaluation,
    FieldDef,
    Protocol,
    SchoolConfig,
    Step,
    resolve_contact,
    resolve_role,
)

from .validators import NotFuture, NotPast, RequiredWith

# A WTForms validator. (What a field class returns outside a form is an unbound field;
# WTForms' stubs type it as the field itself, and so does ``FieldType.build``.)
Validator = Callable[[Form, Any], object]  # the field: each validator names its own

MAX_ROWS = 50  # rows of a repeatable group


class DutchForm(Form):
    """WTForms' own messages in Dutch (WTForms ships the translation)."""

    class Meta:
        locales = ("nl_NL", "nl")


class CheckboxListField(SelectMultipleField):
    """A list of checkboxes (works without JavaScript)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


@dataclass(frozen=True)
class BuildContext:
    """What building a form field may look at."""

    protocol: Protocol
    step: Step
    school: SchoolConfig
    evaluation: Evaluation | None


@dataclass(frozen=True)
class DisplayContext:
    """What showing a recorded value may look at.

    ``school`` is the school's configuration as it was when the value was recorded (so a
    contact shows under its name of then); ``date_text`` writes a date the app's way.
    """

    protocol: Protocol
    step: Step
    school: SchoolConfig
    date_text: Callable[[dt.date], str]


_REGISTRY: dict[str, type[FieldType]] = {}
FIELD_TYPES: Mapping[str, type[FieldType]] = MappingProxyType(_REGISTRY)


def field_type(fdef: FieldDef) -> FieldType:
    """The field type of ``fdef``, bound to it."""
    return FIELD_TYPES[fdef.type](fdef)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> Markup:
    """A value as text: a list as its items separated by semicolons."""
    if isinstance(value, list):
        return escape("; ".join(str(v) for v in value))
    return escape(value if isinstance(value, str) else str(value))


class FieldType:
    """Base of every field type, bound to one field definition.

    The defaults fit a one-line text: a WTForms ``wtf_class`` with the label, help text,
    required and maximum length of the definition; stored as the text without surrounding
    spaces; shown as text.
    """

    name: ClassVar[str] = ""
    wtf_class: ClassVar[Callable[..., Field]] = StringField

    def __init_subclass__(cls, name: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if name:
            if name in _REGISTRY:
                raise ValueError(f"field type {name!r} is defined twice")
            cls.name = name
            _REGISTRY[name] = cls

    def __init__(self, fdef: FieldDef) -> None:
        self.fdef = fdef

    # The form field.

    def validators(self) -> list[Validator]:
        found: list[Validator] = [DataRequired() if self.fdef.required else Optional()]
        if self.fdef.max_length:
            found.append(Length(max=self.fdef.max_length))
        return found

    def label(self, ctx: BuildContext) -> str:
        return self.fdef.label

    def description(self, ctx: BuildContext) -> str:
        return self.fdef.help or ""

    def options(self, ctx: BuildContext) -> dict[str, Any]:
        return {}

    def build(self, ctx: BuildContext) -> Field:
        validators = self.validators()
        others = self.fdef.required_with
        if others:  # first: Optional ends the chain when this field has no value
            labels = {f.id: f.label for f in ctx.step.fields}
            validators.insert(0, RequiredWith({o: labels.get(o, o) for o in others}))
        return self.wtf_class(self.label(ctx), validators=validators,
                              description=self.description(ctx), **self.options(ctx))

    def prepare(self, field: Field) -> None:
        """Tidy the bound, submitted field before validation (nothing by default)."""

    # Values: form data, stored JSON, display.

    def is_empty(self, value: object) -> bool:
        """Nothing recorded (form data or stored value): no value, no text, no choice."""
        return value in (None, "", [], False)

    def to_stored(self, data: Any) -> Any:
        """Form data as the JSON value to store."""
        return data.strip() if isinstance(data, str) else data

    def from_stored(self, value: Any) -> Any:
        """A stored value as form data (to show a step recorded before)."""
        return value

    def display(self, value: Any, ctx: DisplayContext) -> Markup:
        """A recorded (non-empty) value as HTML for the dossier page."""
        return _text(value)


class TextType(FieldType, name="text"):
    wtf_class = StringField


class TextAreaType(FieldType, name="textarea"):
    wtf_class = TextAreaField


class DateType(FieldType, name="date"):
    """A date; stored as ISO text (``2026-11-27``), shown the app's way."""

    wtf_class = DateField

    def validators(self) -> list[Validator]:
        found: list[Validator] = [InputRequired() if self.fdef.required else Optional()]
        if self.fdef.not_future:
            found.append(NotFuture())
        if self.fdef.not_past:
            found.append(NotPast())
        return found

    def options(self, ctx: BuildContext) -> dict[str, Any]:
        return {"format": "%Y-%m-%d"}

    def to_stored(self, data: Any) -> Any:
        return data.isoformat() if isinstance(data, dt.date) else None

    def from_stored(self, value: Any) -> dt.date | None:
        try:
            return dt.date.fromisoformat(value) if value else None
        except (TypeError, ValueError):
            return None

    def display(self, value: Any, ctx: DisplayContext) -> Markup:
        day = value if isinstance(value, dt.date) else self.from_stored(value)
        if day is not None:
            return escape(ctx.date_text(day))
        return escape(value if isinstance(value, str) else "")


class BooleanType(FieldType, name="boolean"):
    """A tick box; shown as ja (unticked counts as empty, so it is not shown)."""

    wtf_class = BooleanField

    def validators(self) -> list[Validator]:
        return [DataRequired()] if self.fdef.required else [Optional()]

    def display(self, value: Any, ctx: DisplayContext) -> Markup:
        return Markup("ja") if value else Markup("nee")


class AnswerType(FieldType, name="answer"):
    """A weighing question: only the answers the protocol allows for it."""

    wtf_class = RadioField

    def validators(self) -> list[Validator]:
        return [InputRequired(message="Kies een antwoord.")] if self.fdef.required \
            else [Optional()]

    def label(self, ctx: BuildContext) -> str:
        return ctx.protocol.questions[self.fdef.question or ""].label

    def description(self, ctx: BuildContext) -> str:
        return ctx.protocol.questions[self.fdef.question or ""].text

    def options(self, ctx: BuildContext) -> dict[str, Any]:
        question = ctx.protocol.questions[self.fdef.question or ""]
        return {"choices": [SelectChoice(a, ctx.protocol.answer_labels[a])
                            for a in question.answers], "validate_choice": True}

    def display(self, value: Any, ctx: DisplayContext) -> Markup:
        return _text(ctx.protocol.answer_labels.get(value, value))


class _ChoiceType(FieldType):
    """A choice from a list: checkboxes (``multiple``, the default) or one radio button."""

    def validators(self) -> list[Validator]:
        if not self.fdef.required:
            return [Optional()]
        if self.fdef.multiple:
            return [DataRequired(message="Kies er minstens één.")]
        return [InputRequired(message="Maak een keuze.")]

    def choices(self, ctx: BuildContext) -> list[Any]:
        raise NotImplementedError

    def build(self, ctx: BuildContext) -> Field:
        field_class = CheckboxListField if self.fdef.multiple else RadioField
        return field_class(self.label(ctx), validators=self.validators(),
                           description=self.description(ctx), choices=self.choices(ctx))

    def to_stored(self, data: Any) -> Any:
        return data if self.fdef.multiple else data or None


class ContactsType(_ChoiceType, name="contacts"):
    """A choice from this school's contacts (e.g. whom did you consult)."""

    def choices(self, ctx: BuildContext) -> list[Any]:
        keys = list(dict.fromkeys([*ctx.protocol.contacts, *ctx.school.contacts]))
        return [SelectChoice(k, resolve_contact(ctx.protocol, ctx.school, k).name)
                for k in keys]

    def display(self, value: Any, ctx: DisplayContext) -> Markup:
        return escape(", ".join(resolve_contact(ctx.protocol, ctx.school, k).name
                                for k in _as_list(value)))


class RolesType(_ChoiceType, name="roles"):
    """A choice of the school's roles, by the school's own names."""

    def choices(self, ctx: BuildContext) -> list[Any]:
        roles = list(dict.fromkeys([*ctx.protocol.roles, *ctx.school.roles]))
        return [SelectChoice(r, resolve_role(ctx.protocol, ctx.school, r, None).name)
                for r in roles]

    def display(self, value: Any, ctx: DisplayContext) -> Markup:
        return escape(", ".join(resolve_role(ctx.protocol, ctx.school, r, None).name
                                for r in _as_list(value)))


class ChecklistType(_ChoiceType, name="checklist"):
    """The step's guidance lines, to tick off (stored by number, from 1)."""

    def choices(self, ctx: BuildContext) -> list[Any]:
        return [SelectChoice(str(i), line) for i, line in enumerate(ctx.step.guidance, 1)]

    def display(self, value: Any, ctx: DisplayContext) -> Markup:
        lines = ctx.step.guidance
        return _text([lines[int(i) - 1] for i in _as_list(value)
                      if str(i).isdigit() and 0 < int(i) <= len(lines)])


class GroupType(FieldType, name="group"):
    """A repeatable group (e.g. observations): a list of small forms, stored as rows."""

    def subtypes(self) -> Iterable[FieldType]:
        return (field_type(sub) for sub in self.fdef.fields)

    def build(self, ctx: BuildContext) -> Field:
        attrs = {kind.fdef.id: kind.build(ctx) for kind in self.subtypes()}
        row = type(f"{self.fdef.id.title()}Row", (DutchForm,), attrs)
        return FieldList(FormField(row, label=self.fdef.label), label=self.fdef.label,
                         min_entries=1, max_entries=MAX_ROWS, description=self.fdef.help or "")

    def prepare(self, field: Field) -> None:
        """Leave out rows that were added but left empty (keep one to show errors on)."""
        assert isinstance(field, FieldList)
        filled = [row for row in field.entries if not all(
            kind.is_empty(row[kind.fdef.id].data) for kind in self.subtypes())]
        field.entries = filled or field.entries[:1]

    def to_stored(self, data: Any) -> list[dict[str, Any]]:
        rows = [{kind.fdef.id: kind.to_stored(row.get(kind.fdef.id))
                 for kind in self.subtypes()} for row in data or ()]
        return [row for row in rows if not all(
            kind.is_empty(row[kind.fdef.id]) for kind in self.subtypes())]

    def from_stored(self, value: Any) -> list[dict[str, Any]]:
        return [{kind.fdef.id: kind.from_stored(row.get(kind.fdef.id))
                 for kind in self.subtypes()}
                for row in value or () if isinstance(row, dict)]

    def display(self, value: Any, ctx: DisplayContext) -> Markup:
        shown = Markup()
        for row in value:
            cells = Markup()
            for kind in self.subtypes():
                cell = row.get(kind.fdef.id)
                # Inside a row an unticked box shows as "nee" (as it always has).
                if kind.is_empty(cell) and cell is not False:
                    continue
                cells += Markup("<span><em>{}:</em> {}</span> ").format(
                    kind.fdef.label, kind.display(cell, ctx))
            shown += Markup('<div class="row">{}</div>').format(cells)
        return shown


def add_error(field: Field, message: str) -> None:
    """Show ``message`` next to ``field`` (after validation, e.g. a check against the
    database); the form then counts as having errors."""
    field.errors = [*field.errors, message]


__all__ = [
    "FIELD_TYPES", "MAX_ROWS", "BuildContext", "CheckboxListField", "DisplayContext",
    "DutchForm", "FieldType", "SelectChoice", "add_error", "field_type",
]
