"""The result of ``meldroute check``: the files, the checks run, every problem, the
coverage. Apart from ``check.py`` so that printing a report (also one from the cache,
``cache.py``) does not load the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Problem


@dataclass
class Coverage:
    protocol: str
    covered: list[tuple[str, str]]
    uncovered: list[tuple[str, str]]

    @property
    def percent(self) -> float:
        total = len(self.covered) + len(self.uncovered)
        return 100.0 * len(self.covered) / total if total else 100.0


@dataclass
class CheckReport:
    files: list[str] = field(default_factory=list)
    ran: list[tuple[str, str]] = field(default_factory=list)  # (file, check)
    problems: list[Problem] = field(default_factory=list)
    combinations: int = 0
    scenarios: int = 0
    coverage: list[Coverage] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def unchecked(self) -> list[Problem]:
        """What could not be checked at all (a file not read, a folder with nothing to
        check): `meldroute check` exits 2 and reports only these."""
        from .source import READ

        return [p for p in self.problems if p.check == READ]

    @property
    def exit_status(self) -> int:
        """0 all well, 1 problems found in the files, 2 something could not be checked."""
        return 2 if self.unchecked else (0 if self.ok else 1)
