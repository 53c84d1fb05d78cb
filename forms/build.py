"""``build_form``: a WTForms class per step, from the step's field definitions."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable
from typing import Any, ClassVar

from meldroute.engine import Evaluation, FieldDef, Protocol, SchoolConfig, Step

from .fields import BuildContext, DutchForm, add_error, field_type
from .values import from_form

ANSWER_NEEDED = "Kies een antwoord."

# Names a step form accepts besides its own fields (set by the web app's templates).
CONTROL_FIELDS = frozenset({"csrf_token", "base_version", "action"})


class StepForm(DutchForm):
    """Base of every generated step form."""

    field_defs: ClassVar[tuple[FieldDef, ...]] = ()
    step: ClassVar[Step | None] = None

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
        return self._at_least_one() and result

    def _empty(self, fdef: FieldDef) -> bool:
        kind = field_type(fdef)
        return kind.is_empty(kind.to_stored(self[fdef.id].data))

    def _at_least_one(self) -> bool:
        """The step's ``at_least_one`` declarations: each needs one of its fields (of
        those on the form now) filled in; otherwise the message next to each of them."""
        ok = True
        shown = {f.id: f for f in self.field_defs}
        for rule in self.step.at_least_one if self.step else ():
            present = [shown[f] for f in rule.fields if f in shown]
            if not present or not all(self._empty(f) for f in present):
                continue
            ok = False
            message = rule.message or (
                "Vul dit in." if len(present) == 1 else "Vul minstens één van deze in: " +
                ", ".join(f"'{f.label}'" for f in present) + ".")
            for fdef in present:
                add_error(self[fdef.id], message)
        return ok

    def check_route(self, after: Evaluation) -> bool:
        """The open question after this save (``after``: the route with these answers):
        when it is on this form and its field is ``required``, it needs its answer."""
        question = after.next_question
        if question is None or self.step is None:
            return True
        for fdef in self.step.fields:
            if fdef.type == "answer" and fdef.question == question.id and fdef.required \
                    and fdef.id in self._fields and self._empty(fdef):
                add_error(self[fdef.id], ANSWER_NEEDED)
                return False
        return True

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
    """The fields of the step's form: every question of the step (the weighing on one
    page) and the conditional fields the route asks for now.

    Which answers a save needs depends on the route the answers take, not on the form:
    each answer field is optional here, and ``StepForm.check_route`` asks for the answer
    the route reaches with the posted answers (a ``required`` answer field).
    """
    requested = set(evaluation.requested_fields) if evaluation is not None else set()
    shown = []
    for f in step.fields:
        if f.type == "answer":
            f = dataclasses.replace(f, required=False)
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
        attrs["step"] = step
        form_class = type(f"{step.id.title()}Form", (StepForm,), attrs)
        _CACHE[key] = form_class
        return form_class


__all__ = ["StepForm", "build_form", "visible_fields"]
