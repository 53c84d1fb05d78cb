"""Whole-process wall time of the `meldroute` command against starting the interpreter.

    python benchmarks/bench_cli.py [--runs 5] [--warmup 1] [--meldroute PATH]
                                   [--school FILE] [--only WORD ...] [--before PATH]

Each command runs as a person or a school's CI runs it: the installed `meldroute` console
script (next to this Python by default) as a new process, timed from start to exit,
output discarded, exit code checked:

* `python -c pass`: the interpreter starting and stopping (the baseline, same run);
* `meldroute --help`;
* `meldroute check`: the shipped protocols, scenarios and demo school;
* `meldroute decide --school schools/demo.yaml --answers FILE`: a small answers file (five
  answers, the help route, open question hulp_resultaat);
* `meldroute diff rules/meldcode-onderwijs.yaml CHANGED`: the shipped protocol against a
  copy with one changed `then` (an unsafe pupil reported as acute danger); exit 1 (changed)
  is its expected result;
* `meldroute check --no-cache` and `meldroute decide ... --no-cache`: the same without the
  command line's cache (engine/cache.py), as on a first run (a school's CI on a fresh
  machine) or after every file changed; listed first, next to the same command from the
  cache.

With ``--before PATH`` every command also runs with another ``meldroute`` (for example a
script that starts a checkout of main) right after the same command with this one, so a
change is measured before and after in the same rounds, on the same load (rows marked
``[before]``; no import probe for them).

The target column is issue 13's target 4 (`check` < 1 s, `decide` < 0.5 s, median, with
and without the cache). `--only check decide` times only those rows (and the baseline).

The cache lives in a fresh folder of this run (XDG_CACHE_HOME), so the warm-up round fills
it as a first run would; the rows without `--no-cache` then show a repeated run on
unchanged files (the cache's guarantees: README, `meldroute check`). Python writes its
bytecode (`__pycache__`) as it does for a user: PYTHONDONTWRITEBYTECODE is removed from the
commands' environment (with it every run compiles Meldroute's modules again, ~0.3 s).

The commands take turns in each round (--warmup rounds first, not counted), so a busy
moment of the machine hits them alike. Prints the median and minimum of --runs rounds, the
median's ratio to the baseline's median, and the median CPU time (user + system of the
process and of the processes it waited for, such as the helper a first `check` forks; a
machine busy with other work disturbs it much less than wall time).

Then, once per command, the same entry point runs with `python -X importtime` and reports
whether the process imported flask, sqlalchemy or the web package (meldroute.webapp), and
their cumulative import times: engine commands should need none of them. MELDROUTE_*
variables are removed from the commands' environment.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANSWERS = """sterk_vermoeden: nee
actie_nodig: ja
onveilig: nee
hulp_mogelijk: ja
hulp_aanvaard: ja
"""
WATCHED = ("flask", "sqlalchemy", "meldroute.webapp")
# runs the `meldroute` console script's entry point as the script does, and reports the
# watched modules when the process exits (also through sys.exit)
PROBE = """import atexit, sys
from importlib.metadata import entry_points
names = {names!r}
atexit.register(lambda: sys.stderr.write(
    "BENCH-MODULES " + " ".join(n for n in names if n in sys.modules) + "\\n"))
(script,) = entry_points(group="console_scripts", name="meldroute")
__import__(script.module)  # an import statement's path, which -X importtime times
main = sys.modules[script.module]
for part in script.attr.split("."):
    main = getattr(main, part)
sys.argv = ["meldroute", *sys.argv[1:]]
sys.exit(main())
"""
# issue 13, target 4: whole process, median
TARGETS = {"meldroute check": 1.0, "meldroute decide": 0.5}
IMPORT_LINE = re.compile(r"^import time:\s+\d+\s+\|\s+(\d+)\s+\|\s+(\S.*?)\s*$")


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    errors = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode not in ((0, 1) if "diff" in argv else (0,)):
        raise SystemExit(f"bench_cli: {' '.join(argv)} exited {proc.returncode}:\n"
                         f"{errors.decode(errors='replace')[-2000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def imports(args: list[str], env: dict[str, str]) -> tuple[set[str], dict[str, float]]:
    """The watched modules a `meldroute ARGS` process imports, and their cumulative import
    times in ms (the first time each is imported)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           PROBE.format(names=WATCHED), *args], env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode not in ((0, 1) if "diff" in args else (0,)):
        raise SystemExit(f"bench_cli: meldroute {' '.join(args)} (import probe) exited "
                         f"{proc.returncode}:\n{proc.stderr[-2000:]}")
    loaded: set[str] = set()
    times: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if line.startswith("BENCH-MODULES"):
            loaded = set(line.split()[1:])
        match = IMPORT_LINE.match(line)
        if match and match.group(2) in WATCHED and match.group(2) not in times:
            times[match.group(2)] = int(match.group(1)) / 1000
    return loaded, times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed rounds (5)")
    parser.add_argument("--warmup", type=int, default=1, help="rounds not counted (1)")
    parser.add_argument("--meldroute", type=Path, default=Path(sys.executable).parent /
                        "meldroute", help="the console script (next to this Python)")
    parser.add_argument("--school", type=Path, default=HERE.parent / "schools" / "demo.yaml",
                        help="school file for decide (schools/demo.yaml)")
    parser.add_argument("--only", nargs="+", metavar="WORD",
                        help="only the commands whose name holds one of these words "
                             "(and the baseline), e.g. --only check decide")
    parser.add_argument("--before", type=Path, metavar="PATH",
                        help="another `meldroute` (e.g. of a checkout before a change): each "
                             "command runs with it too, in the same rounds, as '... [before]'")
    args = parser.parse_args()
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs >= 1, --warmup >= 0")
    if not args.meldroute.exists():
        parser.error(f"{args.meldroute} not found (install with `pip install -e .`)")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MELDROUTE_") and k != "PYTHONDONTWRITEBYTECODE"}

    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        env["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        answers = Path(tmp) / "answers.yaml"
        answers.write_text(ANSWERS, encoding="utf-8")
        decide = ["decide", "--school", str(args.school), "--answers", str(answers)]
        shipped = HERE.parent / "rules" / "meldcode-onderwijs.yaml"
        changed = Path(tmp) / "meldcode-changed.yaml"
        changed.write_text(shipped.read_text(encoding="utf-8").replace(
            "      onveilig: ja\n    then:\n      - outcome: melden\n",
            "      onveilig: ja\n    then:\n      - outcome: direct_melden\n"), encoding="utf-8")
        diff = ["diff", str(shipped), str(changed)]
        commands = [("python -c pass (baseline)", [sys.executable, "-c", "pass"], None),
                    ("meldroute --help", [str(args.meldroute), "--help"], ["--help"]),
                    ("meldroute check --no-cache", [str(args.meldroute), "check",
                                                    "--no-cache"], None),
                    ("meldroute check", [str(args.meldroute), "check"], ["check"]),
                    ("meldroute decide --no-cache", [str(args.meldroute), *decide,
                                                     "--no-cache"], None),
                    ("meldroute decide", [str(args.meldroute), *decide], decide),
                    ("meldroute diff", [str(args.meldroute), *diff], diff)]
        commands = [c for c in commands if c is commands[0] or not args.only or
                    any(word in c[0] for word in args.only)]
        if args.before:  # each command also as the other checkout runs it, right after it
            commands = [commands[0], *(row for name, argv, probe in commands[1:] for row in (
                (name, argv, probe), (f"{name} [before]", [str(args.before), *argv[1:]],
                                      None)))]
        print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
              f" ({os.cpu_count()} cores); Python {sys.version.split()[0]}")
        samples: dict[str, list[float]] = {name: [] for name, _, _ in commands}
        cpu: dict[str, list[float]] = {name: [] for name, _, _ in commands}
        for round_ in range(args.warmup + args.runs):
            for name, argv, _ in commands:
                elapsed, used = run(argv, env)
                if round_ >= args.warmup:
                    samples[name].append(elapsed)
                    cpu[name].append(used)
        probes = {name: imports(probe, env) for name, _, probe in commands if probe}

    base = statistics.median(samples[commands[0][0]])
    print(f"\nwhole process, {args.runs} runs each (after {args.warmup} not counted); CPU s is "
          "user + system of the process and its helper process")
    print(f"{'command':<39} {'median s':>9} {'min s':>7} {'ratio':>7} {'CPU s':>7} "
          f"{'target':>13}")
    for name, _, _ in commands:
        median = statistics.median(samples[name])
        target = next((t for word, t in TARGETS.items() if name.startswith(word)), None)
        verdict = "" if target is None else \
            f"< {target:.1f} s: {'yes' if median < target else 'no'}"
        print(f"{name:<39} {median:9.3f} {min(samples[name]):7.3f} {median / base:6.1f}x "
              f"{statistics.median(cpu[name]):7.3f} {verdict:>13}")

    print("\nimported by the process (python -X importtime; cumulative import time)")
    print(f"{'command':<28} " + " ".join(f"{name:>18}" for name in WATCHED))
    for name, (loaded, times) in probes.items():
        cells = [f"yes {times[m]:7.0f} ms" if m in loaded and m in times else
                 ("yes" if m in loaded else "no") for m in WATCHED]
        print(f"{name:<28} " + " ".join(f"{cell:>18}" for cell in cells))
    print(f"\nload average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
