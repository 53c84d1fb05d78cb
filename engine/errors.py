"""Problems found in files and answers, and the errors that carry them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong, tied to a place in a file: printed as ``file:line:col: message``."""

    path: str
    line: int
    col: int
    message: str
    check: str = "schema"
    severity: str = "error"
    where: tuple[Any, ...] = field(default=(), compare=False)  # the place in the data

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class MeldrouteError(Exception):
    """Base of every error the engine raises on purpose."""


class ConfigError(MeldrouteError):
    """A protocol, school or scenario file that cannot be used; carries every problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class AnswerProblem:
    question: str
    answer: str | None
    message: str


class AnswerError(MeldrouteError):
    """Answers that name an unknown question or give an answer the question does not allow."""

    def __init__(self, problems: Iterable[AnswerProblem]) -> None:
        self.problems: tuple[AnswerProblem, ...] = tuple(problems)
        super().__init__("; ".join(p.message for p in self.problems))


class RouteError(MeldrouteError):
    """The rules give no next question and no outcome (a gap), or contradict each other."""

    def __init__(self, kind: str, message: str, answers: dict[str, str],
                 fired: Iterable[str] = ()) -> None:
        self.kind = kind  # "gap" or "conflict"
        self.answers = dict(answers)
        self.fired = tuple(fired)  # the rules that fired before the route broke
        super().__init__(message)


class EngineError(MeldrouteError):
    """The rules engine failed (an exception in its state, a missing result)."""
