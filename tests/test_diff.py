"""`meldroute diff`: what a change to the rules or a school's configuration does."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

import pytest

from meldroute.engine import RouteError, evaluate, neutral_school, protocol_from_document
from meldroute.engine.diff import diff
from meldroute.engine.enumerate import TODAY, fact_states
from meldroute.engine.evaluate import route_position
from meldroute.engine.source import parse_text

from .clirun import assert_fails_clearly, run_meldroute

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "rules" / "meldcode-onderwijs.yaml"
DEMO = ROOT / "schools" / "demo.yaml"

# One changed `then`: a school that wants an unsafe pupil reported as acute danger.
UNSAFE = "      onveilig: ja\n    then:\n      - outcome: melden\n"
UNSAFE_DIRECT = UNSAFE.replace("melden", "direct_melden")


def _protocol(text: str):
    return protocol_from_document(parse_text(text, "p.yaml"))


def _seen(protocol, answers, facts):
    """What a user sees, read straight from the evaluation (not from diff.py)."""
    try:
        e = evaluate(protocol, neutral_school(protocol), answers, TODAY, facts)
    except RouteError as err:
        return ("error", err.kind)
    return (e.outcome and e.outcome.id, e.next_question and e.next_question.id, e.stage,
            [(d.label, d.working_days, d.kind) for d in e.deadlines],
            [(r.role, r.assigned) for r in e.responsible],
            [(c.key, c.name, c.phone, c.email) for c in e.contacts])


def _brute_force_changed(old, new) -> int:
    """The states (reached answers, facts in play) whose behaviour differs, found through
    the full product of answers rather than the tree walk ``diff`` uses."""
    questions = list(old.questions.values())
    found: set = set()
    for combo in itertools.product(*[(None, *q.answers) for q in questions]):
        answers = {q.id: a for q, a in zip(questions, combo, strict=True) if a is not None}
        for protocol in (old, new):
            try:
                position = route_position(protocol, answers)
            except RouteError:
                continue
            for facts in fact_states(protocol, position.builtins):
                found.add((tuple(position.used), tuple(sorted(facts.items()))))
    return sum(_seen(old, dict(a), dict(f)) != _seen(new, dict(a), dict(f))
               for a, f in found)


def test_identical_files_exit_0_and_list_nothing(tmp_path):
    done = run_meldroute(["diff", str(PROTOCOL), str(PROTOCOL)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Geen verschil in gedrag of tekst" in done.stdout
    assert "[" not in done.stdout


@pytest.mark.slow
def test_one_changed_then_counts_exactly_the_changed_combinations(protocol_text):
    assert protocol_text.count(UNSAFE) == 1
    old, new = _protocol(protocol_text), _protocol(protocol_text.replace(UNSAFE, UNSAFE_DIRECT))
    report = diff((old, neutral_school(old)), (new, neutral_school(new)), {}, {}, "a", "b")
    assert report.changed_combinations == _brute_force_changed(old, new) > 0
    assert all(("outcome", "melden", "direct_melden") in c.details for c in report.behaviour)
    assert report.texts == [] and report.exit_status == 1


def test_a_changed_deadline_is_listed_with_its_old_and_new_term(tmp_path, protocol_text):
    term = "label: Weeg het resultaat van de hulp (afweging 5), working_days: 1,"
    assert protocol_text.count(term) == 2  # the term of the help, with and without VT
    changed = tmp_path / "nieuw.yaml"
    changed.write_text(protocol_text.replace(term, term.replace(": 1,", ": 3,")),
                       encoding="utf-8")
    done = run_meldroute(["diff", str(PROTOCOL), str(changed), "--format", "json"], tmp_path)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    aspects = {(c["aspect"]) for ch in report["changes"] for c in ch["changes"]}
    assert aspects == {"deadlines"}
    old, new = report["changes"][0]["changes"][0]["old"], report["changes"][0]["changes"][0]["new"]
    assert "afweging 5): 1 werkdagen" in old and "afweging 5): 3 werkdagen" in new


def test_a_changed_contact_in_a_school_file_is_a_change(tmp_path):
    text = DEMO.read_text(encoding="utf-8")
    assert text.count('"0412-000101"') == 1
    changed = tmp_path / "demo.yaml"
    changed.write_text(text.replace('"0412-000101"', '"0412-000199"'), encoding="utf-8")
    done = run_meldroute(["diff", str(DEMO), str(changed), "--format", "markdown"], tmp_path)
    assert done.returncode == 1, done.stderr
    assert "| wijziging | combinaties | wat verandert | voorbeeld |" in done.stdout
    assert "0412-000101" in done.stdout and "0412-000199" in done.stdout
    assert "contacten:" in done.stdout


def test_approved_changes_pass_and_new_ones_do_not(tmp_path, protocol_text):
    changed = tmp_path / "nieuw.yaml"
    changed.write_text(protocol_text.replace("title: Signaleren", "title: Signaleren en "
                                             "vastleggen", 1), encoding="utf-8")
    first = run_meldroute(["diff", str(PROTOCOL), str(changed), "--format", "json"], tmp_path)
    ids = [c["id"] for c in json.loads(first.stdout)["changes"]]
    assert first.returncode == 1 and len(ids) == 1 and ids[0].startswith("tekst-")
    allow = tmp_path / "allow.yaml"
    allow.write_text(f"allow:\n  - {ids[0]}\n", encoding="utf-8")
    done = run_meldroute(["diff", str(PROTOCOL), str(changed), "--allow", str(allow),
                          "--format", "github"], tmp_path)
    assert done.returncode == 0, done.stdout
    assert f"::notice file=nieuw.yaml,title=Meldroute {ids[0]}::" in done.stdout
    allow.write_text("allow: [tekst-0000000000]\n", encoding="utf-8")
    again = run_meldroute(["diff", str(PROTOCOL), str(changed), "--allow", str(allow),
                           "--format", "github"], tmp_path)
    assert again.returncode == 1 and "::warning " in again.stdout


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org",
                    *args], check=True, capture_output=True)


def test_diff_against_a_git_revision(tmp_path, protocol_text):
    repo = tmp_path / "config"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "p.yaml").write_text(protocol_text, encoding="utf-8")
    _git(repo, "add", "p.yaml")
    _git(repo, "commit", "-q", "-m", "first")
    (repo / "p.yaml").write_text(protocol_text.replace(UNSAFE, UNSAFE_DIRECT), encoding="utf-8")
    done = run_meldroute(["diff", "--git", "HEAD", "p.yaml"], repo)
    assert done.returncode == 1, done.stderr
    assert "uitkomst `melden` → `direct_melden`" in done.stdout
    bad = run_meldroute(["diff", "--git", "nergens", "p.yaml"], repo)
    assert "niet te lezen uit git-revisie 'nergens'" in assert_fails_clearly(bad, 2)


@pytest.mark.parametrize("args, message", [
    (["diff", str(PROTOCOL)], "geef twee bestanden"),
    (["diff", str(PROTOCOL), str(DEMO)], "vergelijk twee protocollen of twee"),
    (["diff", str(PROTOCOL), "bestaat-niet.yaml"], "bestaat-niet.yaml"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    assert message in assert_fails_clearly(run_meldroute(args, tmp_path), 2)
