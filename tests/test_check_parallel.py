"""Issue 13: a first ``meldroute check`` shares the reachable states with a forked helper
process (``checkparallel.py``); the report is the one a single process gives, also when
the helper fails."""

from __future__ import annotations

import json

import pytest

from meldroute.engine import checkparallel
from meldroute.webapp.cli import main

from .conftest import item_line


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["check", "--no-cache", "--format", "json", *args])
    return code, capsys.readouterr().out


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The helper processes started (their pids)."""
    started: list[int] = []
    real = checkparallel.start

    def start(docs):  # type: ignore[no-untyped-def]
        helper = real(docs)
        if helper is not None:
            started.append(helper.pid)
        return helper

    monkeypatch.setattr(checkparallel, "start", start)
    monkeypatch.setattr(checkparallel, "_cores", lambda: 2)
    return started


def test_the_shipped_files_give_the_same_report_with_and_without_the_helper(
        capsys, forks, monkeypatch):
    shared = _check(capsys)
    assert forks, "the check did not share its work"
    monkeypatch.setenv("MELDROUTE_JOBS", "1")
    assert _check(capsys) == shared
    report = json.loads(shared[1])
    assert (report["ok"], report["combinations"], report["scenarios"]) == (True, 618, 54)


def test_gaps_and_dead_rules_are_found_alike_when_the_helper_fails(
        capsys, forks, monkeypatch, write, protocol_text):
    text = protocol_text.replace("    when:\n      actie_nodig: nee\n",
                                 "    when:\n      actie_nodig: nee\n      sterk_vermoeden: ja\n")
    path = str(write("p.yaml", text))
    shared = _check(capsys, path)
    assert forks and shared[0] == 1
    found = {(p["line"], p["message"].split(" na ")[0]) for p in json.loads(shared[1])["problems"]}
    assert (item_line(text, "actie_nodig", "step"), "gat in de route") in found

    def broken(*args: object) -> None:
        raise RuntimeError("the helper fails")

    monkeypatch.setattr(checkparallel, "_helper", broken)  # the forked child inherits it
    assert _check(capsys, path) == shared
    monkeypatch.setenv("MELDROUTE_JOBS", "1")
    assert _check(capsys, path) == shared
