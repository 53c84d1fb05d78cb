"""What a failed POST carried, for the error page to show it back (read-only, to copy):
the words a person typed, under the labels their page showed them, never a password,
a code or a technical field. It reads no database: the page that shows it is the one an
outage gets (errors.py). Labels come from the protocol (a step's fields: only those one
types in, not the choices) or from the form class whose fields hold every name sent;
a name nothing explains is shown as it is."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from flask import current_app, request
from wtforms.fields.core import UnboundField

from meldroute.engine import FieldDef
from meldroute.forms.fields import DutchForm

# form fields that are not the user's own words, or never to be shown again
TECHNICAL_FIELDS = {"csrf_token", "base_version", "action", "user", "code", "username"}
SECRET_PARTS = ("password", "wachtwoord", "totp", "secret")
# pages whose forms hold the user's own words (not sign-in, account or user admin pages,
# whose forms hold passwords and codes)
TYPED_SHOWN_UNDER = ("/dossiers", "/scholen/", "/besturen/")
MAX_TYPED_FIELDS = 100
TYPED_KINDS = frozenset({"text", "textarea", "date"})  # a step's fields one types in
_STEP_PAGE = re.compile(r"/dossiers/\d+/stap/([a-z0-9_-]+)")
_ROW = re.compile(r"([a-z0-9_]+)-(\d+)-([a-z0-9_]+)")  # a repeatable group's row


def typed_by_user() -> list[tuple[str, str]]:
    """(label, text) of what a failed POST carried, technical fields left out."""
    if request.method != "POST" or not request.path.startswith(TYPED_SHOWN_UNDER):
        return []
    try:
        items = request.form.items(multi=True)
        typed = [(name, value) for name, value in items
                 if name not in TECHNICAL_FIELDS and value.strip()
                 and not any(part in name.lower() for part in SECRET_PARTS)]
    except Exception:  # a form that cannot be read (too large, broken): nothing to show
        return []
    try:
        labelled = _labelled(typed)
    except Exception:  # the labels are a courtesy: never the reason the page fails
        labelled = typed
    return labelled[:MAX_TYPED_FIELDS]


def _labelled(typed: list[tuple[str, str]]) -> list[tuple[str, str]]:
    names = {name for name, _ in typed}
    step = _STEP_PAGE.fullmatch(request.path)
    if step is not None:
        fields = _step_fields(step.group(1), names)
        shown = ((_step_label(name, fields), value) for name, value in typed)
        return [(label, value) for label, value in shown if label is not None]
    labels = _form_labels(names)
    return [(labels.get(name, name), value) for name, value in typed]


def _step_fields(step_id: str, names: set[str]) -> Mapping[str, FieldDef]:
    """The fields of the step (of the protocol whose step holds most of ``names``)."""
    registry = current_app.extensions.get("meldroute.registry")
    best: Mapping[str, FieldDef] = {}
    most = 0
    for protocol in getattr(registry, "protocols", {}).values():
        step = protocol.steps_by_id.get(step_id)
        fields = {f.id: f for f in step.fields} if step is not None else {}
        held = sum(1 for name in names if _field_id(name) in fields)
        if held > most:
            best, most = fields, held
    return best


def _field_id(name: str) -> str:
    """The step's field a name sent belongs to (a group's, for a row's field)."""
    row = _ROW.fullmatch(name)
    return row.group(1) if row is not None else name


def _step_label(name: str, fields: Mapping[str, FieldDef]) -> str | None:
    """The label the step page shows for ``name``; None for a choice (not typed words);
    the name itself when the step has no such field."""
    row = _ROW.fullmatch(name)
    if row is not None and row.group(1) in fields:
        group = fields[row.group(1)]
        sub = next((f for f in group.fields if f.id == row.group(3)), None)
        if sub is None:
            return name
        return f"{group.label} {int(row.group(2)) + 1}: {sub.label}" \
            if sub.type in TYPED_KINDS else None
    field = fields.get(name)
    if field is None:
        return name
    return field.label if field.type in TYPED_KINDS else None


def _form_labels(names: set[str]) -> dict[str, str]:
    """The labels of the form class whose fields hold every name sent (of those, the one
    with the fewest fields); none when no form class does."""
    best: dict[str, str] = {}
    for form in _forms(DutchForm):
        labels = _labels_of(form)
        if names <= labels.keys() and (not best or len(labels) < len(best)):
            best = labels
    return best


def _forms(cls: type) -> Iterator[type]:
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        yield sub
        yield from _forms(sub)


def _labels_of(form: type) -> dict[str, str]:
    labels: dict[str, str] = {}
    for klass in reversed(form.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, UnboundField):
                label: Any = value.kwargs.get("label", value.args[0] if value.args else None)
                labels[name] = label if isinstance(label, str) and label else name
    return labels
