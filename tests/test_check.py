"""`run_check` over the shipped files and over files that are not there."""

from __future__ import annotations

from meldroute.engine import run_check


def test_shipped_files_pass():
    report = run_check()
    assert report.ok, [str(p) for p in report.problems]
    assert report.combinations == 618  # reachable states (answers and facts), not the product
    assert [(c.protocol, c.percent) for c in report.coverage] == [
        ("meldcode-onderwijs", 100.0), ("meldplicht-medewerker", 100.0)]


def test_missing_file_is_a_problem_not_a_traceback(messages, tmp_path):
    path = tmp_path / "nergens.yaml"
    assert messages(path) == [f"{path}:1:1: bestand niet gevonden"]
