"""Checking that a name used in a file is one the file defines, with a "bedoel je ...?"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import Problem
from .source import Document


def suggest(value: str, options: Iterable[str]) -> str:
    """``; bedoel je 'x'?`` for a close match among ``options``, else nothing."""
    close = difflib.get_close_matches(value, list(options), n=1, cutoff=0.75)
    return f"; bedoel je '{close[0]}'?" if close else ""


class References:
    """The names a protocol defines, by what they are (``vraag``, ``rol``, ...).

    ``check`` collects a problem for every name that is not among them.
    """

    def __init__(self, doc: Document, known: Mapping[str, Sequence[str]]) -> None:
        self.doc = doc
        self.known = known
        self.problems: list[Problem] = []

    def check(self, where: tuple[Any, ...], value: Any, what: str) -> None:
        known = list(self.known[what])
        if value not in known:
            self.problems.append(self.doc.problem(
                where,
                f"onbekende {what} '{value}'{suggest(str(value), known)} "
                f"(bekend: {', '.join(known)})",
                check="references"))
