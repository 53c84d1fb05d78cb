"""Time per decision: engine.evaluate() against a plain-Python route, in the same run.

    python benchmarks/bench_evaluate.py [--rounds N] [--memory N]

The baseline is the afwegingskader hand-written as if/else (only here, as a yardstick; the
product's route lives in rules/). Both get the same answer sets: every path of the route,
one per outcome or open question. Prints the median per decision over several rounds,
the ratio, and the resident memory before and after N extra evaluations.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

from meldroute.engine import evaluate, load_protocol, load_school, runtime
from meldroute.engine.workdays import add_working_days

TODAY = dt.date(2026, 11, 27)
HULP = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "nee", "hulp_mogelijk": "ja"}
PATHS = [
    {},
    {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "ja"},
    {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "nee"},
    {"sterk_vermoeden": "nee", "actie_nodig": "nee"},
    {"sterk_vermoeden": "nee", "actie_nodig": "twijfel", "onveilig": "ja"},
    {**HULP, "hulp_mogelijk": "nee"},
    {**HULP, "hulp_aanvaard": "nee"},
    {**HULP, "hulp_aanvaard": "ja"},
    {**HULP, "hulp_aanvaard": "ja", "hulp_resultaat": "nee"},
    {**HULP, "hulp_aanvaard": "ja", "hulp_resultaat": "ja"},
]


Result = tuple[str | None, str | None, dt.date | None]


def plain_python(answers: dict[str, str], today: dt.date) -> Result:
    """(next question, outcome, deadline) — the same route, written out by hand."""
    a = answers.get
    if a("sterk_vermoeden") is None:
        return "sterk_vermoeden", None, None
    if a("sterk_vermoeden") == "ja":
        if a("bevoegd_gezag_ingelicht") == "ja":
            return None, "direct_melden", today
        return "bevoegd_gezag_ingelicht", None, None
    if a("actie_nodig") is None:
        return "actie_nodig", None, None
    if a("actie_nodig") == "nee":
        return None, "dossier_sluiten", None
    if a("onveilig") is None:
        return "onveilig", None, None
    melden = (None, "melden", add_working_days(today, 5))
    if a("onveilig") == "ja":
        return melden
    if a("hulp_mogelijk") is None:
        return "hulp_mogelijk", None, None
    if a("hulp_mogelijk") == "nee":
        return melden
    if a("hulp_aanvaard") is None:
        return "hulp_aanvaard", None, None
    if a("hulp_aanvaard") == "nee":
        return melden
    if a("hulp_resultaat") is None:  # weigh the help's result one working day after its
        # agreed term (hulp_termijn; without it, from today)
        return "hulp_resultaat", "hulp_inzetten", add_working_days(today, 1)
    return melden if a("hulp_resultaat") == "nee" else (None, "hulp_afsluiten", None)


def per_call(fn, rounds: int, repeat: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            for answers in PATHS:
                fn(answers)
        samples.append((time.perf_counter() - start) / (repeat * len(PATHS)))
    return samples


def rss_kb() -> int:
    status = Path("/proc/self/status")
    if not status.exists():
        return -1
    line = next(x for x in status.read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--memory", type=int, default=100_000)
    args = parser.parse_args()

    protocol = load_protocol()
    school = load_school(protocol=protocol)
    for answers in PATHS:  # same answers, same results
        e = evaluate(protocol, school, answers, TODAY)
        want = plain_python(answers, TODAY)
        got = (e.next_question.id if e.next_question else None,
               e.outcome.id if e.outcome else None,
               e.deadlines[0].due if e.deadlines else None)
        assert got == want, (answers, got, want)

    engine = per_call(lambda a: evaluate(protocol, school, a, TODAY), args.rounds, args.repeat)
    plain = per_call(lambda a: plain_python(a, TODAY), args.rounds, args.repeat)
    m_engine, m_plain = statistics.median(engine), statistics.median(plain)
    print(f"python {sys.version.split()[0]}; {len(PATHS)} paths x {args.repeat} x "
          f"{args.rounds} rounds")
    print(f"engine.evaluate (durable_rules): median {m_engine * 1e6:8.1f} us per decision")
    print(f"plain-Python route (baseline):   median {m_plain * 1e6:8.1f} us per decision")
    print(f"ratio engine/baseline: {m_engine / m_plain:.0f}x")

    if args.memory:
        before = rss_kb()
        for i in range(args.memory):
            evaluate(protocol, school, PATHS[i % len(PATHS)], TODAY)
        after = rss_kb()
        print(f"memory over {args.memory} evaluations: RSS {before / 1024:.1f} MB -> "
              f"{after / 1024:.1f} MB; live durable_rules sessions afterwards: "
              f"{runtime.live_rules_sessions()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
