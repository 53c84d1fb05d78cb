"""Issue 13: a first ``meldroute check`` shares the reachable states with a forked helper
process (``checkparallel.py``); the report is the one a single process gives, also when
the helper fails.

Each check runs in a fresh Python process: the helper is only forked from a process
without other threads, and the test process may have some (browser tests leave them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import item_line

ROOT = Path(__file__).resolve().parent.parent

# runs ``meldroute check --no-cache --format json ARGS`` as a two-core machine would, and
# writes the report to stdout and {"code", "forks"} to stderr; "broken" as the first
# argument makes the helper fail
RUN = """
import json, sys
from meldroute.engine import checkparallel
from meldroute.webapp.cli import main

started = []
real = checkparallel.start

def start(docs):
    helper = real(docs)
    if helper is not None:
        started.append(helper.pid)
    return helper

def broken(*args):
    raise RuntimeError("the helper fails")

checkparallel.start = start
checkparallel._cores = lambda: 2
args = sys.argv[1:]
if args[:1] == ["broken"]:
    checkparallel._helper = broken  # the forked child inherits it
    args = args[1:]
code = main(["check", "--no-cache", "--format", "json", *args])
sys.stdout.flush()
sys.stderr.write(json.dumps({"code": code, "forks": len(started)}))
"""


def _check(*args: str, jobs: str | None = None) -> tuple[int, str, int]:
    """(exit code, report, helpers forked) of a check in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k != "MELDROUTE_JOBS"}
    if jobs is not None:
        env["MELDROUTE_JOBS"] = jobs
    done = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True,
                          text=True, env=env, timeout=300)
    status = json.loads(done.stderr.strip().splitlines()[-1])
    return status["code"], done.stdout, status["forks"]


def test_the_shipped_files_give_the_same_report_with_and_without_the_helper() -> None:
    code, shared, forks = _check()
    assert forks == 1, "the check did not share its work"
    assert _check(jobs="1") == (code, shared, 0)
    report = json.loads(shared)
    assert (report["ok"], report["combinations"], report["scenarios"]) == (True, 618, 54)


def test_gaps_and_dead_rules_are_found_alike_when_the_helper_fails(write,
                                                                    protocol_text) -> None:
    text = protocol_text.replace("    when:\n      actie_nodig: nee\n",
                                 "    when:\n      actie_nodig: nee\n      sterk_vermoeden: ja\n")
    path = str(write("p.yaml", text))
    code, shared, forks = _check(path)
    assert forks == 1 and code == 1
    found = {(p["line"], p["message"].split(" na ")[0]) for p in json.loads(shared)["problems"]}
    assert (item_line(text, "actie_nodig", "step"), "gat in de route") in found
    assert _check("broken", path) == (code, shared, 1)
    assert _check(path, jobs="1") == (code, shared, 0)


def test_a_protocol_with_graph_problems_is_skipped_alike_and_the_next_one_shared(
        write, protocol_text) -> None:
    """The helper begins on the states before the main process has checked the graph: for
    a protocol with a cycle its states are dropped (not counted, as in one process), and
    the next protocol file's states are shared as usual."""
    rule = "      actie_nodig: nee\n    then:\n      - "
    text = protocol_text.replace(rule + "outcome: dossier_sluiten\n",
                                 rule + "ask: sterk_vermoeden\n")
    broken = str(write("a.yaml", text))
    other = str(write("b.yaml", (ROOT / "rules" / "meldplicht-medewerker.yaml").read_text(
        encoding="utf-8")))
    code, shared, forks = _check(broken, other, "--min-coverage", "0")
    assert forks == 1 and code == 1
    report = json.loads(shared)
    messages = [p["message"] for p in report["problems"] if p["file"].endswith("a.yaml")]
    assert any(m.startswith("cyclus in de route") for m in messages)
    assert not any(" na " in m for m in messages)  # no states of a.yaml
    assert report["combinations"] > 0  # b.yaml's
    assert _check(broken, other, "--min-coverage", "0", jobs="1") == (code, shared, 0)
