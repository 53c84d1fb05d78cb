"""Validators the field definitions name (``not_future``, ``not_past``).

"Today" comes from ``use_today()`` (the web app sets it from its clock for each request,
tests set it to a fixed date); without it, the system date.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator

from wtforms import Field, Form
from wtforms.validators import StopValidation, ValidationError

_TODAY: contextvars.ContextVar[dt.date | None] = contextvars.ContextVar("today", default=None)


@contextlib.contextmanager
def use_today(today: dt.date) -> Iterator[None]:
    token = _TODAY.set(today)
    try:
        yield
    finally:
        _TODAY.reset(token)


def today() -> dt.date:
    return _TODAY.get() or dt.date.today()


def is_blank(value: object) -> bool:
    """No value: nothing, empty or only spaces, no choice, an unticked box."""
    return value in (None, [], False) or (isinstance(value, str) and not value.strip())


class RequiredWith:
    """Required once one of these other fields of the form has a value
    (``required_with``)."""

    def __init__(self, others: dict[str, str]) -> None:  # field id -> its label
        self.others = others
        self.message = "Vul dit in: je hebt ook " + " of ".join(
            f"'{label}'" for label in others.values()) + " ingevuld."

    def __call__(self, form: Form, field: Field) -> None:
        filled = [name for name in self.others
                  if name in form._fields and not is_blank(form._fields[name].data)]
        typed = [v for v in field.raw_data or () if not is_blank(v)]
        if not filled or typed:  # something typed: the field's own check speaks
            return
        if field.data in (None, [], False) or (isinstance(field.data, str)
                                               and not field.data.strip()):
            field.errors = []
            raise StopValidation(self.message)


class NotFuture:
    message = "De datum mag niet in de toekomst liggen."

    def __call__(self, form: Form, field: Field) -> None:
        if field.data is not None and field.data > today():
            raise ValidationError(self.message)


class NotPast:
    message = "De datum mag niet in het verleden liggen."

    def __call__(self, form: Form, field: Field) -> None:
        if field.data is not None and field.data < today():
            raise ValidationError(self.message)
