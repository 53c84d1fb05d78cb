"""Issue 13: the engine's commands start quickly and keep what they worked out in a cache,
without ever giving an old answer for a changed file.

What the speed rests on is asserted here, never a time: the cache is used only while
every file a report read has the same bytes, a damaged or unsafe cache is ignored,
``--no-cache`` neither reads nor writes it, and starting a command loads none of the big
libraries it does not need. The figures: ``python benchmarks/bench_cli.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import meldroute.engine
from meldroute.engine import cache, diff, source
from meldroute.engine.cli import DIFF_FORMATS
from meldroute.webapp.cli import main

SCENARIOS = ("school: ../../schools/demo.yaml\nscenarios:\n"
             "  - name: geen actie nodig\n    answers: {sterk_vermoeden: nee, actie_nodig: nee}\n"
             "    expect:\n      outcome: dossier_sluiten\n")


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def _entries(home: Path, kind: str = "*") -> list[Path]:
    return sorted((home / "meldroute").glob(f"{kind}/*.entry"))


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["check", *args])
    return code, capsys.readouterr().out


def test_check_reuses_a_report_only_while_every_file_it_read_is_unchanged(
        capsys, write, demo_text, cache_home, monkeypatch):
    school = write("schools/demo.yaml", demo_text)
    scenarios = str(write("rules/scenarios/s.yaml", SCENARIOS))
    first = _check(capsys, scenarios, "--min-coverage", "0")
    assert first[0] == 0 and first[1].rstrip().endswith("OK."), first
    assert len(_entries(cache_home, "check")) == 1

    def no_checking(*args: object) -> None:
        raise AssertionError("checked again although nothing changed")

    monkeypatch.setattr("meldroute.engine.checkrun.run", no_checking)
    assert _check(capsys, scenarios, "--min-coverage", "0") == first  # from the cache
    # the school is read through the scenario file only: changing it is checked again
    school.write_text(demo_text.replace('"0412-000104"', '"12345"'), encoding="utf-8")
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    code, out = _check(capsys, scenarios, "--min-coverage", "0")
    assert code == 1
    assert "'12345' is geen geldig Nederlands telefoonnummer" in out
    school.write_text(demo_text, encoding="utf-8")  # back as it was: the first report again
    assert _check(capsys, scenarios, "--min-coverage", "0") == first


def test_a_damaged_cache_is_ignored_and_no_cache_writes_nothing(
        capsys, write, demo_text, cache_home):
    write("schools/demo.yaml", demo_text)
    scenarios = str(write("rules/scenarios/s.yaml", SCENARIOS))
    assert _check(capsys, scenarios, "--min-coverage", "0", "--no-cache")[0] == 0
    assert _entries(cache_home) == []
    first = _check(capsys, scenarios, "--min-coverage", "0")
    entries = _entries(cache_home)
    assert entries
    for entry in entries:
        entry.write_bytes(b"kapot")
    assert _check(capsys, scenarios, "--min-coverage", "0") == first


def test_a_cache_folder_others_may_write_in_is_not_used(capsys, write, demo_text, cache_home):
    folder = cache_home / "meldroute"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    write("schools/demo.yaml", demo_text)
    scenarios = str(write("rules/scenarios/s.yaml", SCENARIOS))
    assert _check(capsys, scenarios, "--min-coverage", "0")[0] == 0
    assert _entries(cache_home) == []


def test_decide_gives_the_same_decision_with_and_without_the_cache(capsys, tmp_path,
                                                                    cache_home):
    answers = tmp_path / "antwoorden.yaml"
    answers.write_text("{sterk_vermoeden: nee, actie_nodig: ja, onveilig: ja}\n",
                       encoding="utf-8")
    school = str(source.display_path(Path(meldroute.engine.shipped_dir("schools"),
                                          "demo.yaml")))
    outputs = []
    for extra in (["--no-cache"], [], []):
        assert main(["decide", "--school", school, "--answers", str(answers), "--json",
                     "--today", "2026-12-22", *extra]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0]["outcome"]["id"] == "melden"
    assert _entries(cache_home, "document")


def test_shipped_schemas_are_valid_json_schemas():
    """Checked here once rather than on every start of a command."""
    from jsonschema import Draft202012Validator

    for kind in source.SCHEMA_FILES:
        Draft202012Validator.check_schema(json.loads(source.schema_text(kind)))


def test_the_engine_api_is_complete_when_loaded_on_demand():
    assert sorted(meldroute.engine.__all__) == sorted(meldroute.engine._LAZY)
    for name in meldroute.engine.__all__:
        assert getattr(meldroute.engine, name) is not None
    assert DIFF_FORMATS == tuple(diff.RENDERERS)
    assert cache.enabled() is False  # the web app and in-process callers never use it


def test_commands_start_without_the_libraries_they_do_not_need(tmp_path):
    """`meldroute --help` loads none of the big libraries; a check that comes from the
    cache loads neither the rules engine nor the schema validator."""
    program = ("import sys\nfrom meldroute.webapp.cli import main\n"
               "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
               "big = ['durable', 'networkx', 'jsonschema', 'holidays', 'phonenumbers', "
               "'flask', 'sqlalchemy']\n"
               "print(' '.join(m for m in big if m in sys.modules))\n")
    env = {"PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "HOME": str(tmp_path)}

    def loaded(*args: str) -> str:
        done = subprocess.run([sys.executable, "-c", program, *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, check=False, timeout=300)
        return done.stdout.splitlines()[-1] if done.stdout.strip() else ""

    assert loaded("--help") == ""
    loaded("check")  # fills the cache
    assert loaded("check") == ""


def test_the_key_of_a_report_covers_every_shipped_protocol():
    """A cached report's key lists the YAML files of the shipped ``rules`` folder, because a
    check falls back on the shipped protocols; if they move, the key must follow."""
    from meldroute.engine import check

    listed = {p for p in check._shipped("rules").rglob("*") if p.suffix in check.YAML_SUFFIXES}
    assert set(meldroute.engine.shipped_protocol_files()) <= listed
    assert check._shipped("rules") == meldroute.engine.shipped_dir("rules")


def test_evaluate_is_the_function_also_after_its_module_is_imported():
    import meldroute.engine.evaluate  # noqa: F401 - what a lazy package could get wrong
    from meldroute.engine import evaluate

    assert callable(evaluate) and evaluate.__name__ == "evaluate"


def test_a_command_reads_and_schema_checks_each_file_once(capsys, tmp_path, monkeypatch):
    """Within one command the same bytes are parsed, schema-checked and built into a
    protocol once (``cache.once``), also with ``--no-cache``: ``decide`` looks up each
    protocol the demo school follows, and its main protocol again."""
    from collections import Counter

    from meldroute.engine import loader

    parsed: Counter[str] = Counter()
    checked: Counter[str] = Counter()
    real_parse, real_schema = source.parse_text, source._schema_problems

    def parse_text(text: str, path: str) -> source.Document:
        parsed[path] += 1
        return real_parse(text, path)

    def schema_problems(doc: source.Document, kind: str, check: str) -> list[object]:
        checked[doc.path] += 1
        return real_schema(doc, kind, check)

    monkeypatch.setattr(source, "parse_text", parse_text)
    monkeypatch.setattr(source, "_schema_problems", schema_problems)
    answers = tmp_path / "antwoorden.yaml"
    answers.write_text("{sterk_vermoeden: nee, actie_nodig: nee}\n", encoding="utf-8")
    school = Path(meldroute.engine.shipped_dir("schools"), "demo.yaml")
    assert main(["decide", "--school", str(school), "--answers", str(answers),
                 "--no-cache"]) == 0
    assert "Uitkomst" in capsys.readouterr().out
    protocols = {source.display_path(p) for p in loader.shipped_protocol_files()}
    assert protocols <= set(parsed) and set(parsed.values()) == {1}
    assert protocols <= set(checked) and set(checked.values()) == {1}
