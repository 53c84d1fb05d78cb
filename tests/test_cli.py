"""The `meldroute` command as a school's CI and a person at a terminal use it."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from meldroute.engine.cli import main
from meldroute.webapp.cli import main as meldroute

from .conftest import DEMO_FILE

ALL_PATHS = [
    ("sterk_vermoeden: ja\nbevoegd_gezag_ingelicht: ja\n", "direct_melden", None),
    ("sterk_vermoeden: nee\nactie_nodig: nee\n", "dossier_sluiten", None),
    ("{sterk_vermoeden: nee, actie_nodig: twijfel, onveilig: ja}", "melden", None),
    ("{sterk_vermoeden: nee, actie_nodig: ja, onveilig: nee, hulp_mogelijk: nee}", "melden",
     None),
    ('{"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "nee", '
     '"hulp_mogelijk": "ja", "hulp_aanvaard": "nee"}', "melden", None),
    ("{sterk_vermoeden: nee, actie_nodig: ja, onveilig: nee, hulp_mogelijk: ja, "
     "hulp_aanvaard: ja}", "hulp_inzetten", "hulp_resultaat"),
    ("{sterk_vermoeden: nee, actie_nodig: ja, onveilig: nee, hulp_mogelijk: ja, "
     "hulp_aanvaard: ja, hulp_resultaat: nee}", "melden", None),
    ("{sterk_vermoeden: nee, actie_nodig: ja, onveilig: nee, hulp_mogelijk: ja, "
     "hulp_aanvaard: ja, hulp_resultaat: ja}", "hulp_afsluiten", None),
]


def decide(capsys, write, answers: str, *extra: str) -> tuple[int, str, str]:
    path = write("answers.yaml", answers)
    code = main(["decide", "--school", str(DEMO_FILE), "--answers", str(path), *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("answers", "outcome", "next_question"), ALL_PATHS)
def test_decide_json_for_every_path(capsys, write, answers, outcome, next_question):
    code, out, err = decide(capsys, write, answers, "--json", "--today", "2026-11-27")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["outcome"]["id"] == outcome
    assert (result["next_question"] or {}).get("id") == next_question
    if outcome in ("melden", "direct_melden"):
        assert {"key": "veilig_thuis", "name": "Veilig Thuis (regio)",
                "phone": "0412-673700"} in result["contacts"]
    if outcome == "melden":
        assert result["deadlines"][0]["due"] == "2026-12-04"
    assert {"actions", "responsible", "trace", "deadlines"} <= result.keys()


def test_decide_text(capsys, write):
    code, out, _ = decide(capsys, write, "{sterk_vermoeden: nee, actie_nodig: ja, onveilig: ja}",
                          "--today", "2026-11-27")
    assert code == 0
    assert "Uitkomst: Melden bij Veilig Thuis." in out
    assert "Meld bij Veilig Thuis. — Veilig Thuis (regio), tel. 0412-673700" in out
    assert ("Veilig Thuis neemt een besluit en koppelt terug naar de melder (Veilig Thuis): "
            "uiterlijk vrijdag 4 december 2026 (binnen 5 werkdagen)") in out
    assert "Melding bij Veilig Thuis: uiterlijk maandag 30 november 2026" in out
    assert "Verantwoordelijk: directeur" in out
    assert "Fase: Melden bij Veilig Thuis" in out
    assert "Alarmnummer (politie, ambulance, brandweer): 112" in out
    assert "Veilig Thuis (landelijk, gratis, dag en nacht): 0800-2000" in out


def test_decide_with_facts_as_json(capsys, write):
    facts = write("facts.yaml", "melding_gedaan: ja\nmelding_datum: 2026-12-21\n")
    code, out, _ = decide(capsys, write, "{sterk_vermoeden: nee, actie_nodig: ja, onveilig: ja}",
                          "--today", "2026-12-22", "--facts", str(facts), "--json")
    assert code == 0
    d = json.loads(out)
    assert d["stage"] == "wacht_op_veilig_thuis"
    assert d["acute"]["phones"] == [
        {"name": "Alarmnummer (politie, ambulance, brandweer)", "phone": "112"},
        {"name": "Veilig Thuis (regio)", "phone": "0412-673700"},
        {"name": "Veilig Thuis (landelijk, gratis, dag en nacht)", "phone": "0800-2000"}]
    assert [(x["due"], x["kind"]) for x in d["deadlines"]] == [("2026-12-29", "veilig_thuis")]


def test_decide_with_a_wrong_fact_is_a_problem_in_the_facts_file(capsys, write):
    """A file that could be read but says something impossible: exit 1 (docs/exit-codes.md)."""
    facts = write("facts.yaml", "melding_gedaan: misschien\n")
    code, _, err = decide(capsys, write, "{}", "--facts", str(facts))
    assert code == 1
    assert "facts.yaml:1:1: waarde 'misschien' is niet mogelijk bij feit 'melding_gedaan'" in err


@pytest.mark.parametrize(("answers", "expected"), [
    ("{sterk_vermoeden: misschien}",
     ["answers.yaml:1:19: antwoord 'misschien' is niet toegestaan bij vraag 'sterk_vermoeden' "
      "(toegestaan: ja, nee)"]),
    ("sterk_vermoeden: nee\nvraag_x: ja\n",
     ["answers.yaml:2:1: onbekende vraag 'vraag_x' (bekend: sterk_vermoeden, "
      "bevoegd_gezag_ingelicht, actie_nodig, onveilig, hulp_mogelijk, hulp_aanvaard, "
      "hulp_resultaat)"]),
    ("sterk_vermoeden: [ja\n", ["answers.yaml:2:1: ongeldige YAML: expected ',' or ']', but "
                               "got '<stream end>' (while parsing a flow sequence op regel 1)"]),
    ("- ja\n- nee\n", ["answers.yaml:1:1: verwacht een mapping van vraag-id naar antwoord, "
                       "bijvoorbeeld {sterk_vermoeden: nee}"]),
    ("sterk_vermoeden: true\n", ["answers.yaml:1:18: antwoord op 'sterk_vermoeden' moet tekst "
                                 "zijn, gevonden true"]),
    # values the YAML reader gives as types of its own: what they are, not ruamel's names
    ("sterk_vermoeden: !!binary aGFsbG8=\nactie_nodig: !eigen ja\nonveilig: &x true\n"
     "hulp_mogelijk: [ja]\n",
     [f"answers.yaml:{line}: antwoord op '{q}' moet tekst zijn, gevonden {shown}"
      for line, q, shown in [("1:18", "sterk_vermoeden", "een waarde met een YAML-tag"),
                             ("2:14", "actie_nodig", "een waarde met een YAML-tag"),
                             ("3:11", "onveilig", "true"),
                             ("4:16", "hulp_mogelijk", "een lijst")]]),
])
def test_decide_bad_input_gives_one_line_per_problem(capsys, write, answers, expected,
                                                     monkeypatch):
    """Problems in a file that could be read: exit 1 (see docs/exit-codes.md)."""
    path = write("answers.yaml", answers)
    monkeypatch.chdir(path.parent)
    code = main(["decide", "--school", str(DEMO_FILE), "--answers", "answers.yaml"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.splitlines() == expected


def test_decide_unreadable_files(capsys, tmp_path):
    code = main(["decide", "--school", str(tmp_path / "geen.yaml"), "--answers", "x.yaml"])
    assert code == 2
    assert capsys.readouterr().err == f"{tmp_path / 'geen.yaml'}:1:1: bestand niet gevonden\n"


def test_decide_reads_answers_from_stdin(capsys, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("{sterk_vermoeden: nee, actie_nodig: nee}"))
    assert main(["decide", "--school", str(DEMO_FILE), "--answers", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"]["id"] == "dossier_sluiten"


def test_check_passes_on_shipped_files(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "Dekking meldcode-onderwijs: 100% van de vraag/antwoord-paren (48/48)." in out
    assert "Dekking meldplicht-medewerker: 100% van de vraag/antwoord-paren (12/12)." in out
    assert out.rstrip().endswith("OK.")


def test_check_formats(capsys, write, demo_text):
    bad = write("school.yaml", demo_text.replace('"0412-000104"', '"12345"'))
    assert main(["check", str(bad), "--format", "json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False
    (problem,) = result["problems"]
    assert problem["message"] == ("'12345' is geen geldig Nederlands telefoonnummer "
                                  "(bijvoorbeeld 0412-673700)")
    assert main(["check", str(bad), "--format", "github"]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"::error file={bad},line={problem['line']},col=")
    assert main(["check", str(bad), "--format", "junit"]) == 1
    xml = capsys.readouterr().out
    suite = ET.fromstring(xml.split("?>", 1)[1]).find("testsuite")
    assert suite.get("failures") == "1"


def test_check_scenario_mismatch_and_coverage(capsys, write, demo_text):
    write("schools/demo.yaml", demo_text)
    scenarios = write("rules/scenarios/s.yaml", (
        "school: ../../schools/demo.yaml\nscenarios:\n"
        "  - name: fout verwacht\n    answers: {sterk_vermoeden: nee, actie_nodig: nee}\n"
        "    expect:\n      outcome: melden\n"))
    assert main(["check", str(scenarios)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"{scenarios}:6:16: scenario 'fout verwacht': verwacht outcome melden, "
                        "kreeg dossier_sluiten")
    assert "geen scenario dekt vraag 'onveilig' met antwoord 'ja'" in "\n".join(lines)
    assert "Dekking meldcode-onderwijs: 8% van de vraag/antwoord-paren (4/48)." in lines


def test_graph_formats(capsys):
    assert main(["graph"]) == 0
    mermaid = capsys.readouterr().out
    assert mermaid.startswith("flowchart TD")
    assert "q_onveilig -- ja --> o_melden" in mermaid
    assert "q_actie_nodig -- ja / twijfel --> q_onveilig" in mermaid
    assert main(["graph", "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert "q_hulp_resultaat -> o_hulp_afsluiten [label=\"ja\"];" in dot


HEAVY = ("flask", "sqlalchemy", "meldroute.webapp.app")


@pytest.mark.parametrize("argv", [["check"], ["decide", "--school", str(DEMO_FILE),
                                              "--answers", "-"]])
def test_engine_commands_start_without_flask_or_sqlalchemy(argv):
    """The `meldroute` entry point loads a web command's module only when it runs."""
    program = ("import sys\n"
               "from meldroute.webapp.cli import main\n"
               f"code = main({argv!r})\n"
               f"print('loaded:', [m for m in {HEAVY!r} if m in sys.modules])\n"
               "sys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", program], input="sterk_vermoeden: ja\n",
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "loaded: []"


def test_importing_the_web_package_imports_no_flask():
    program = ("import sys, meldroute.webapp, meldroute.webapp.cli\n"
               f"print([m for m in {HEAVY!r} if m in sys.modules])\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def test_a_web_command_gets_its_arguments_when_chosen(capsys):
    with pytest.raises(SystemExit) as exit_:
        meldroute(["user", "add", "--help"])
    assert exit_.value.code == 0
    assert "--password-stdin" in capsys.readouterr().out

