"""Running the real `meldroute` entry point in a subprocess, as a terminal or CI does."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SCRIPT = Path(sys.executable).with_name("meldroute")
ENTRY = [str(SCRIPT)] if SCRIPT.exists() else [
    sys.executable, "-c", "import sys; from meldroute.webapp.cli import main; sys.exit(main())"]


def clean_env(cwd: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without MELDROUTE_* settings, the instance in ``cwd``, and ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MELDROUTE_")}
    clean["MELDROUTE_INSTANCE"] = str(cwd / "instance")
    clean.update(env or {})
    return clean


def run_meldroute(args: list[str], cwd: Path, env: Mapping[str, str] | None = None,
                  stdin: str = "", timeout: float = 300, **kwargs: Any
                  ) -> subprocess.CompletedProcess[str]:
    """`meldroute ARGS` in ``cwd`` with no MELDROUTE_* setting but those in ``env``."""
    return subprocess.run([*ENTRY, *args], cwd=cwd, env=clean_env(cwd, env), input=stdin,
                          text=True, capture_output=True, timeout=timeout, check=False,
                          **kwargs)


def assert_fails_clearly(done: subprocess.CompletedProcess[str], code: int) -> str:
    """Exit ``code``, exactly one line on standard error, no traceback; that line."""
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert done.returncode == code, (done.returncode, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]
