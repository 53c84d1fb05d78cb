from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from meldroute.engine import (
    Protocol,
    SchoolConfig,
    load_protocol,
    load_school,
    run_check,
    shipped_dir,
)

PROTOCOL_FILE = shipped_dir("rules") / "meldcode-onderwijs.yaml"
DEMO_FILE = shipped_dir("schools") / "demo.yaml"
FRIDAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="session", autouse=True)
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The command line's cache (engine/cache.py) in a folder of this test run, also for
    the `meldroute` processes the tests start, never the user's own."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture(scope="session")
def protocol() -> Protocol:
    return load_protocol()


@pytest.fixture(scope="session")
def demo(protocol: Protocol) -> SchoolConfig:
    return load_school(protocol=protocol)


@pytest.fixture
def protocol_text() -> str:
    return PROTOCOL_FILE.read_text(encoding="utf-8")


@pytest.fixture
def demo_text() -> str:
    return DEMO_FILE.read_text(encoding="utf-8")


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth occurrence of ``needle``."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1


def item_line(text: str, item_id: str, next_key: str) -> int:
    """Line of the list item ``- id: item_id`` whose next key is ``next_key``."""
    return line_of(text, f"\n  - id: {item_id}\n    {next_key}:") + 1


def col_of(text: str, needle: str, nth: int = 1) -> int:
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    return index - text.rfind("\n", 0, index)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def messages() -> Callable[..., list[str]]:
    """``messages(path, **run_check_options)``: the errors ``meldroute check`` finds there."""
    def _messages(path: Path, **kwargs: Any) -> list[str]:
        report = run_check([path], **kwargs)
        return [str(p) for p in report.errors]

    return _messages
