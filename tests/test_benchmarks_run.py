"""The benchmarks in benchmarks/ still run against the code as it is now (a smoke run
with the smallest arguments: no figure is asserted, the machines are shared and noisy).
Three of them had stopped running unnoticed: a rule that gave a deadline the hand-written
yardstick did not know, a renamed app extension, demo users made for one school only.
bench_load.py needs wrk and a server; it runs only where wrk is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNS = {
    "bench_evaluate.py": (["--rounds", "1", "--repeat", "2", "--memory", "20"],
                          "ratio engine/baseline"),
    "bench_web.py": (["--rounds", "1"], "save step (POST, new version)"),
    "bench_scale.py": (["--rounds", "1", "--dossiers", "25", "--versions", "2"],
                       "versions per step"),
    "bench_pdf.py": (["--entries", "6", "--rounds", "1"], "PDF van een dossier"),
    "profile_step.py": (["--rounds", "2", "--top", "1"], "step page (kept)"),
    "bench_cli.py": (["--runs", "1", "--warmup", "0", "--only", "decide"],
                     "meldroute decide"),
}


def _run(script: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MELDROUTE_")}
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("script", sorted(RUNS))
def test_the_benchmark_runs(script: str) -> None:
    args, shown = RUNS[script]
    done = _run(script, args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert shown in done.stdout, done.stdout[-2000:]


def test_the_save_is_profiled_too() -> None:
    done = _run("profile_step.py", ["--rounds", "2", "--top", "1", "--save"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "save:" in done.stdout and "round trips per page" in done.stdout, done.stdout[-2000:]
    # the page's own code is told apart from the libraries (and the venv inside the
    # checkout is not taken for it)
    shares = next(line for line in done.stdout.splitlines()
                  if line.startswith("own time per package: "))
    assert "meldroute " in shares and "sqlalchemy " in shares, shares


@pytest.mark.skipif(shutil.which("wrk") is None, reason="bench_load.py needs wrk")
def test_the_load_benchmark_runs() -> None:
    done = _run("bench_load.py", ["--server", "waitress", "--clients", "2", "--duration",
                                  "1", "--warmup", "0", "--versions", "3"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ratio save/bare" in done.stdout, done.stdout[-2000:]
