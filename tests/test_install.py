"""A non-editable `pip install .` into a fresh venv works from any folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", "build", "dist",
                                "instance", ".pytest_cache", ".hypothesis", ".ruff_cache",
                                "test-output", "node_modules")


@pytest.mark.slow
def test_fresh_venv_install_ships_rules_schools_and_schemas(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=IGNORE)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run([bin_dir / "python", "-m", "pip", "install", "--quiet", str(source)],
                   check=True, env=env, cwd=tmp_path, timeout=900)
    shutil.rmtree(source)  # the installed package must not need the source tree

    elsewhere = tmp_path / "elders"
    elsewhere.mkdir()
    check = subprocess.run([bin_dir / "meldroute", "check"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Dekking meldcode-onderwijs: 100%" in check.stdout

    site = subprocess.run([bin_dir / "python", "-c",
                           "import meldroute.engine, meldroute.rules, meldroute.schools, "
                           "meldroute.schemas, os; print(os.path.dirname("
                           "os.path.dirname(meldroute.engine.__file__)))"],
                          cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    installed = Path(site.stdout.strip())
    assert str(installed).startswith(str(env_dir))
    for data in ("rules/meldcode-onderwijs.yaml", "rules/scenarios/meldcode-onderwijs.yaml",
                 "schools/demo.yaml", "schemas/protocol.schema.json",
                 "schemas/school.schema.json", "schemas/scenarios.schema.json"):
        assert (installed / data).is_file(), data

    answers = elsewhere / "antwoorden.json"
    answers.write_text(json.dumps({"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "ja"}))
    decide = subprocess.run([bin_dir / "meldroute", "decide", "--school",
                             str(installed / "schools/demo.yaml"), "--answers", str(answers),
                             "--json"], cwd=elsewhere, env=env, capture_output=True, text=True,
                            timeout=120)
    assert decide.returncode == 0, decide.stderr
    assert json.loads(decide.stdout)["outcome"]["id"] == "direct_melden"
    assert sys.version_info[:2] < (3, 13)
