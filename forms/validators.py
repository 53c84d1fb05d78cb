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


class RequiredWith:
    """Required once another field of the form has a value (``required_with``)."""

    def __init__(self, other: str, other_label: str) -> None:
        self.other = other
        self.message = f"Vul dit in: je hebt ook '{other_label}' ingevuld."

    def __call__(self, form: Form, field: Field) -> None:
        other = form._fields.get(self.other)
        if other is None or other.data in (None, "", [], False):
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
