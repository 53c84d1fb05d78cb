"""One class per field type of the protocol; each builds its own WTForms field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

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
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from meldroute.engine.evaluate import Evaluation
from meldroute.engine.model import (
    FieldDef,
    Protocol,
    SchoolConfig,
    Step,
    resolve_contact,
    resolve_role,
)

from .validators import NotFuture, NotPast


class DutchForm(Form):  # type: ignore[misc]
    """WTForms' own messages in Dutch (WTForms ships the translation)."""

    class Meta:
        locales = ("nl_NL", "nl")


class CheckboxListField(SelectMultipleField):  # type: ignore[misc]
    """A list of checkboxes (works without JavaScript)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


@dataclass(frozen=True)
class BuildContext:
    protocol: Protocol
    step: Step
    school: SchoolConfig
    evaluation: Evaluation | None


class FieldType:
    """Base: label, help text and the validators every field definition may ask for."""

    wtf_class: ClassVar[Callable[..., Any]]

    def validators(self, fdef: FieldDef) -> list[Any]:
        found: list[Any] = [DataRequired() if fdef.required else Optional()]
        if fdef.max_length:
            found.append(Length(max=fdef.max_length))
        return found

    def options(self, fdef: FieldDef, ctx: BuildContext) -> dict[str, Any]:
        return {}

    def label(self, fdef: FieldDef, ctx: BuildContext) -> str:
        return fdef.label

    def description(self, fdef: FieldDef, ctx: BuildContext) -> str:
        return fdef.help or ""

    def build(self, fdef: FieldDef, ctx: BuildContext) -> Any:
        return self.wtf_class(
            self.label(fdef, ctx),
            validators=self.validators(fdef),
            description=self.description(fdef, ctx),
            **self.options(fdef, ctx),
        )


class TextType(FieldType):
    wtf_class = StringField


class TextAreaType(FieldType):
    wtf_class = TextAreaField


class DateType(FieldType):
    wtf_class = DateField

    def validators(self, fdef: FieldDef) -> list[Any]:
        found = [InputRequired() if fdef.required else Optional()]
        if fdef.not_future:
            found.append(NotFuture())
        if fdef.not_past:
            found.append(NotPast())
        return found

    def options(self, fdef: FieldDef, ctx: BuildContext) -> dict[str, Any]:
        return {"format": "%Y-%m-%d"}


class BooleanType(FieldType):
    wtf_class = BooleanField

    def validators(self, fdef: FieldDef) -> list[Any]:
        return [DataRequired()] if fdef.required else [Optional()]


class AnswerType(FieldType):
    """A weighing question: only the answers the protocol allows for it."""

    wtf_class = RadioField

    def validators(self, fdef: FieldDef) -> list[Any]:
        return [InputRequired(message="Kies een antwoord.")] if fdef.required else [Optional()]

    def label(self, fdef: FieldDef, ctx: BuildContext) -> str:
        return ctx.protocol.questions[fdef.question or ""].label

    def description(self, fdef: FieldDef, ctx: BuildContext) -> str:
        return ctx.protocol.questions[fdef.question or ""].text

    def options(self, fdef: FieldDef, ctx: BuildContext) -> dict[str, Any]:
        question = ctx.protocol.questions[fdef.question or ""]
        return {"choices": [SelectChoice(a, ctx.protocol.answer_labels[a])
                            for a in question.answers], "validate_choice": True}


class _MultiType(FieldType):
    def validators(self, fdef: FieldDef) -> list[Any]:
        return [DataRequired(message="Kies er minstens één.")] if fdef.required \
            else [Optional()]

    def choices(self, fdef: FieldDef, ctx: BuildContext) -> list[SelectChoice]:
        raise NotImplementedError

    def build(self, fdef: FieldDef, ctx: BuildContext) -> Any:
        field_class = CheckboxListField if fdef.multiple else RadioField
        validators = self.validators(fdef)
        if not fdef.multiple and fdef.required:
            validators = [InputRequired(message="Maak een keuze.")]
        return field_class(self.label(fdef, ctx), validators=validators,
                           description=self.description(fdef, ctx),
                           choices=self.choices(fdef, ctx))


class ContactsType(_MultiType):
    """A choice from this school's contacts (e.g. whom did you consult)."""

    def choices(self, fdef: FieldDef, ctx: BuildContext) -> list[SelectChoice]:
        keys = list(dict.fromkeys([*ctx.protocol.contacts, *ctx.school.contacts]))
        return [SelectChoice(k, resolve_contact(ctx.protocol, ctx.school, k).name)
                for k in keys]


class RolesType(_MultiType):
    """A choice of the school's roles, by the school's own names."""

    def choices(self, fdef: FieldDef, ctx: BuildContext) -> list[SelectChoice]:
        roles = list(dict.fromkeys([*ctx.protocol.roles, *ctx.school.roles]))
        return [SelectChoice(r, resolve_role(ctx.protocol, ctx.school, r, None).name)
                for r in roles]


class ChecklistType(_MultiType):
    """The step's guidance lines, to tick off."""

    def choices(self, fdef: FieldDef, ctx: BuildContext) -> list[SelectChoice]:
        return [SelectChoice(str(i), line) for i, line in enumerate(ctx.step.guidance, 1)]


MAX_ROWS = 50


class GroupType(FieldType):
    """A repeatable group (e.g. observations): a list of small forms."""

    def build(self, fdef: FieldDef, ctx: BuildContext) -> Any:
        attrs: dict[str, Any] = {}
        for sub in fdef.fields:
            attrs[sub.id] = FIELD_TYPES[sub.type].build(sub, ctx)
        row = type(f"{fdef.id.title()}Row", (DutchForm,), attrs)
        return FieldList(FormField(row, label=fdef.label), label=fdef.label, min_entries=1,
                         max_entries=MAX_ROWS, description=fdef.help or "")


FIELD_TYPES: Mapping[str, FieldType] = {
    "text": TextType(),
    "textarea": TextAreaType(),
    "date": DateType(),
    "boolean": BooleanType(),
    "answer": AnswerType(),
    "contacts": ContactsType(),
    "roles": RolesType(),
    "checklist": ChecklistType(),
    "group": GroupType(),
}

__all__ = ["FIELD_TYPES", "BuildContext", "Field", "FieldType"]
