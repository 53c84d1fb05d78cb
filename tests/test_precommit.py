"""Meldroute as a pre-commit hook in a school's configuration repository, run by the real
pre-commit tool (`pre-commit try-repo`), which installs Meldroute from this repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")


def _run(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MELDROUTE_")}
    env["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run(args, cwd=cwd, env=env, text=True, capture_output=True,
                          timeout=1200, check=False)


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="try-repo needs a git checkout")
def test_the_hook_passes_a_valid_school_and_blocks_a_broken_one(tmp_path):
    repo = tmp_path / "school-config"
    (repo / "schools").mkdir(parents=True)
    shutil.copy(ROOT / "schools" / "demo.yaml", repo / "schools" / "demo.yaml")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    hook = [str(PRE_COMMIT), "try-repo", str(ROOT), "meldroute-check", "--files",
            "schools/demo.yaml"]
    ok = _run(hook, repo, tmp_path / "pre-commit-home")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "meldroute check" in ok.stdout and "Passed" in ok.stdout

    school = repo / "schools" / "demo.yaml"
    school.write_text(school.read_text(encoding="utf-8").replace('"0412-000101"', '"12"'),
                      encoding="utf-8")
    broken = _run(hook, repo, tmp_path / "pre-commit-home")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "Failed" in broken.stdout and "schools/demo.yaml:" in broken.stdout
