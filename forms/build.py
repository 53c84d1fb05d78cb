"""``build_form``: a WTForms class per step, from the step's field definitions."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable
from typing import Any, ClassVar

from meldroute.engine import Evaluation, FieldDef, Protocol, SchoolConfig, Step

from .fields import BuildContext, DutchForm, field_type
from .values import from_form

# Names a step form accepts besides its own fields (set by the web app's templates).
CONTROL_FIELDS = frozenset({"csrf_token", "base_version", "action"})


class StepForm(DutchForm):
    """Base of every generated step form."""

    field_defs: ClassVar[tuple[FieldDef, ...]] = ()

    def unknown_fields(self, posted: Iterable[str]) -> list[str]:
        """Posted names that belong to no field of this form (and are not controls)."""
        known = set(CONTROL_FIELDS)
        for field in self:
            known.add(field.name)
            for sub in _subfields(field):
                known.add(sub.name)
        return sorted({name for name in posted if name not in known})

    def validate(self, extra_validators: Any = None) -> bool:
        """Validate after each field type tidied its field (e.g. a group's empty rows)."""
        for fdef in self.field_defs:
            field_type(fdef).prepare(self[fdef.id])
        result: bool = super().validate(extra_validators)
        return result

    def answers(self) -> dict[str, Any]:
        return from_form(self.field_defs, self.data)


def _subfields(field: Any) -> Iterable[Any]:
    for entry in getattr(field, "entries", ()):  # FieldList
        yield entry
        yield from _subfields(entry)
    form = getattr(field, "form", None)  # FormField
    if form is not None and field.type == "FormField":
        yield from form


def visible_fields(protocol: Protocol, step: Step, evaluation: Evaluation | None
                   ) -> tuple[FieldDef, ...]:
    """The fields the route asks for now: reached questions and requested fields.

    The open question's answer field is optional: the step can be saved (e.g. the help
    plan) before that question is answered (e.g. after the agreed term).
    """
    if evaluation is None:
        answered: set[str] = set()
        open_question = None
        requested: set[str] = set()
    else:
        answered = {q for q, _ in evaluation.used}
        open_question = evaluation.next_question.id if evaluation.next_question else None
        requested = set(evaluation.requested_fields)
    shown = []
    for f in step.fields:
        if f.type == "answer":
            if f.question == open_question and f.question not in answered:
                f = dataclasses.replace(f, required=False)
            elif f.question not in answered and f.question != open_question:
                continue
        if f.conditional and f.id not in requested:
            continue
        shown.append(f)
    return tuple(shown)


_CACHE: dict[tuple[str, str, str, tuple[str, ...]], type[StepForm]] = {}
_LOCK = threading.Lock()


def build_form(protocol: Protocol, step: Step, school: SchoolConfig,
               evaluation: Evaluation | None) -> type[StepForm]:
    """The form class for ``step`` as the route stands in ``evaluation``."""
    fields = visible_fields(protocol, step, evaluation)
    key = (protocol.digest, step.id, school.digest,
           tuple(f"{f.id}{'!' if f.required else ''}" for f in fields))
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        ctx = BuildContext(protocol, step, school, evaluation)
        attrs: dict[str, Any] = {f.id: field_type(f).build(ctx) for f in fields}
        attrs["field_defs"] = fields
        form_class = type(f"{step.id.title()}Form", (StepForm,), attrs)
        _CACHE[key] = form_class
        return form_class


__all__ = ["StepForm", "build_form", "visible_fields"]
