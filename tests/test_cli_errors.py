"""Errors that tell the truth: the engine's commands on files they cannot or should not read.

Exit status (docs/exit-codes.md): 0 all well; 1 problems found in a file that could be read,
each as file:line:col; 2 could not check (missing, unreadable, binary, too large, a
symlink loop, aliases or nesting beyond the limits, nothing to check, bad settings).
``ENGINE_TABLE`` is the engine commands' part of that table, run through the real
`meldroute` entry point; the tests below it check the messages and the limits.
"""

from __future__ import annotations

import os
import re
import tracemalloc
from pathlib import Path

import pytest

from meldroute.engine import READ, ConfigError, SettingError, parse_text, read_document
from meldroute.engine.cli import main
from meldroute.engine.source import MAX_DEPTH, MAX_MESSAGE, max_file_bytes

from .clirun import assert_fails_clearly, run_meldroute
from .conftest import DEMO_FILE

BOMB = "\n".join(["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] + [
    f"{n}: &{n} [" + ", ".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdefgh", "bcdefghi",
                                                                   strict=True)]) + "\n"
SELF_REFERENCE = "id: x\nname: &x {self: *x}\n"
DEEP = "[" * 5000 + "]" * 5000


def make_files(folder: Path) -> None:
    """Every kind of input the table below names, in ``folder``."""
    demo = DEMO_FILE.read_text(encoding="utf-8")
    (folder / "school.yaml").write_text(demo, encoding="utf-8")
    (folder / "school_fout.yaml").write_text(demo.replace('"0412-000104"', '"12345"'),
                                             encoding="utf-8")
    (folder / "syntax.yaml").write_text("id: [regenboog\n", encoding="utf-8")
    (folder / "binair.yaml").write_bytes(b"\x00\x01\x02id: x\n")
    (folder / "latin1.yaml").write_bytes("naam: Basisschool De Ré\n".encode("latin-1"))
    (folder / "lus1.yaml").symlink_to("lus2.yaml")
    (folder / "lus2.yaml").symlink_to("lus1.yaml")
    (folder / "bom.yaml").write_text(BOMB, encoding="utf-8")
    (folder / "zelf.yaml").write_text(SELF_REFERENCE, encoding="utf-8")
    (folder / "diep.yaml").write_text(DEEP, encoding="utf-8")
    with (folder / "groot.yaml").open("wb") as big:  # 50 MB, sparse: no time to write it
        big.truncate(50 * 1024 * 1024)
    (folder / "leeg").mkdir()
    (folder / "kapot").mkdir()
    (folder / "kapot" / "school.yaml").symlink_to("bestaat-niet.yaml")
    (folder / "antwoorden.yaml").write_text("{sterk_vermoeden: nee, actie_nodig: nee}\n",
                                            encoding="utf-8")
    (folder / "antwoorden_fout.yaml").write_text("{sterk_vermoeden: misschien}\n",
                                                 encoding="utf-8")
    (folder / "feiten_fout.yaml").write_text("melding_gedaan: misschien\n", encoding="utf-8")
    (folder / "protocol_fout.yaml").write_text("id: p\nversion: 1\nsteps: []\nrules: [\n",
                                               encoding="utf-8")


DECIDE = ["decide", "--school", "school.yaml", "--answers"]

# (command line, extra environment, exit status): the engine's rows of docs/exit-codes.md
ENGINE_TABLE = [
    (["check", "school.yaml"], {}, 0),
    (["check", "school_fout.yaml"], {}, 1),
    (["check", "syntax.yaml"], {}, 1),
    (["check", "bestaat-niet.yaml"], {}, 2),
    (["check", "binair.yaml"], {}, 2),
    (["check", "latin1.yaml"], {}, 2),
    (["check", "lus1.yaml"], {}, 2),
    (["check", "bom.yaml"], {}, 2),
    (["check", "zelf.yaml"], {}, 2),
    (["check", "diep.yaml"], {}, 2),
    (["check", "groot.yaml"], {}, 2),
    (["check", "/dev/zero"], {}, 2),
    (["check", "leeg"], {}, 2),
    (["check", "kapot"], {}, 2),
    (["check", "school.yaml", "school_fout.yaml", "bestaat-niet.yaml"], {}, 2),
    (["check", "school.yaml"], {"MELDROUTE_MAX_FILE_SIZE": "1K"}, 2),
    (["check", "school.yaml"], {"MELDROUTE_MAX_FILE_SIZE": "veel"}, 2),
    (["check", "school.yaml", "--format", "xml"], {}, 2),
    ([*DECIDE, "antwoorden.yaml"], {}, 0),
    ([*DECIDE, "antwoorden_fout.yaml"], {}, 1),
    ([*DECIDE, "bestaat-niet.yaml"], {}, 2),
    ([*DECIDE, "bom.yaml"], {}, 2),
    (["decide", "--school", "school_fout.yaml", "--answers", "antwoorden.yaml"], {}, 1),
    (["decide", "--school", "groot.yaml", "--answers", "antwoorden.yaml"], {}, 2),
    ([*DECIDE, "antwoorden.yaml", "--facts", "feiten_fout.yaml"], {}, 1),
    ([*DECIDE, "antwoorden.yaml", "--facts", "/dev/zero"], {}, 2),
    (["graph"], {}, 0),
    (["graph", "--protocol", "protocol_fout.yaml"], {}, 1),
    (["graph", "--protocol", "/dev/zero"], {}, 2),
]


@pytest.mark.parametrize(("argv", "env", "code"), ENGINE_TABLE,
                         ids=[" ".join(a) + "".join(f" {k}={v}" for k, v in e.items())
                              for a, e, _ in ENGINE_TABLE])
def test_engine_exit_codes(tmp_path, argv, env, code):
    make_files(tmp_path)
    done = run_meldroute(argv, tmp_path, env)
    if code == 2 and "--format" in argv:  # a bad argument: argparse's usage and error
        assert (done.returncode, "Traceback" in done.stderr) == (2, False), done.stderr
        assert done.stderr.splitlines()[-1].startswith("meldroute check: error: argument")
        return
    if code == 2:
        line = assert_fails_clearly(done, 2)
        assert done.stdout == "" and len(line) < 400
        assert "MELDROUTE_MAX_FILE_SIZE" in line or re.match(r"^[^:]+(:\d+:\d+)?: ", line)
        return
    assert "Traceback" not in done.stderr
    assert done.returncode == code, done.stderr
    if code == 1:  # every problem as file:line:col
        assert re.search(r"^\S+:\d+:\d+: ", done.stdout + done.stderr, re.MULTILINE)


def messages_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        read_document(path)
    assert all(p.check == READ for p in err.value.problems)
    return [str(p) for p in err.value.problems]


@pytest.mark.parametrize(("name", "expected"), [
    ("bestaat-niet.yaml", "bestaat-niet.yaml:1:1: bestand niet gevonden"),
    ("binair.yaml", "binair.yaml:1:1: geen tekstbestand (binaire inhoud of geen UTF-8)"),
    ("lus1.yaml", "lus1.yaml:1:1: symbolische links verwijzen in een kring naar elkaar "
                  "(symlink-lus)"),
    ("kapot/school.yaml", "kapot/school.yaml:1:1: symbolische link naar een bestand dat niet "
                          "bestaat"),
    ("zelf.yaml", "zelf.yaml:2:17: YAML-alias verwijst naar de waarde waar hij zelf in staat "
                  "(&naam ... *naam): niet toegestaan"),
    ("diep.yaml", f"diep.yaml:1:{MAX_DEPTH + 1}: te diep genest (meer dan {MAX_DEPTH} "
                  "niveaus)"),
    ("groot.yaml", "groot.yaml:1:1: bestand is te groot (52.428.800 bytes, maximaal "
                   "1.048.576; een ander maximum: MELDROUTE_MAX_FILE_SIZE)"),
    ("leeg", "leeg:1:1: dit is een map, geen bestand"),
])
def test_why_a_file_is_not_read(tmp_path, monkeypatch, name, expected):
    make_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert messages_of(Path(name)) == [expected]


def test_dev_zero_is_not_read(tmp_path):
    assert messages_of(Path("/dev/zero")) == [
        "/dev/zero:1:1: geen gewoon bestand maar een apparaat of pipe"]


def test_an_alias_bomb_is_refused_within_bounded_memory():
    """342 bytes that would expand to 9**9 values: refused after at most 10,000 values."""
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as err:
            parse_text(BOMB, "bom.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (problem,) = err.value.problems
    assert problem.check == READ and "te veel waarden" in problem.message
    assert peak < 50 * 1024 * 1024


def test_aliases_within_the_limits_are_read():
    doc = parse_text("a: &team [directeur, zorgteam]\nb: *team\nc: {x: *team}\n", "ok.yaml")
    assert doc.data == {"a": ["directeur", "zorgteam"], "b": ["directeur", "zorgteam"],
                        "c": {"x": ["directeur", "zorgteam"]}}


def test_nesting_up_to_the_limit_is_read():
    depth = MAX_DEPTH - 1
    assert parse_text("[" * depth + "]" * depth, "ok.yaml").data is not None


def test_a_message_never_echoes_a_huge_value(capsys, tmp_path, monkeypatch):
    """A text of 200,000 characters is shown cut short, ending in "…"; a list is named."""
    huge = ", ".join(["ja"] * 50_000)
    (tmp_path / "antwoorden.yaml").write_text(f"sterk_vermoeden: [{huge}]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["decide", "--school", str(DEMO_FILE), "--answers", "antwoorden.yaml"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line == ("antwoorden.yaml:1:18: antwoord op 'sterk_vermoeden' moet tekst zijn, "
                    "gevonden een lijst")
    (tmp_path / "antwoorden.yaml").write_text(f"sterk_vermoeden: {'ja' * 100_000}\n",
                                              encoding="utf-8")
    assert main(["decide", "--school", str(DEMO_FILE), "--answers", "antwoorden.yaml"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("antwoorden.yaml:1:18: antwoord 'jajaja")
    assert line.endswith("…") and len(line) <= MAX_MESSAGE + 40


def test_the_size_limit_is_a_setting(tmp_path, monkeypatch):
    path = tmp_path / "school.yaml"
    path.write_text(DEMO_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("MELDROUTE_MAX_FILE_SIZE", "1K")
    assert max_file_bytes() == 1024
    (message,) = messages_of(path)
    assert "maximaal 1.024; een ander maximum: MELDROUTE_MAX_FILE_SIZE" in message
    monkeypatch.setenv("MELDROUTE_MAX_FILE_SIZE", "2M")
    assert max_file_bytes() == 2 * 1024 * 1024
    assert read_document(path).data["id"] == "regenboog"
    monkeypatch.setenv("MELDROUTE_MAX_FILE_SIZE", "0")
    with pytest.raises(SettingError, match="MELDROUTE_MAX_FILE_SIZE moet een positief"):
        max_file_bytes()


def test_answers_on_standard_input_have_the_same_limit(tmp_path):
    done = run_meldroute(["decide", "--school", str(DEMO_FILE), "--answers", "-"], tmp_path,
                         {"MELDROUTE_MAX_FILE_SIZE": "100000"}, stdin="#" * 150000 + "\n")
    line = assert_fails_clearly(done, 2)
    assert line.startswith("<stdin>:1:1: invoer is te groot (meer dan 100.000 bytes")


def test_a_folder_with_a_broken_link_among_good_files_is_not_passed(tmp_path, capsys,
                                                                    monkeypatch):
    make_files(tmp_path)
    (tmp_path / "kapot" / "demo.yaml").write_text(DEMO_FILE.read_text(encoding="utf-8"),
                                                  encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "kapot"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "kapot/school.yaml:1:1: symbolische link naar een bestand dat niet bestaat\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_not_checked(tmp_path, capsys, monkeypatch):
    path = tmp_path / "school.yaml"
    path.write_text("id: x\n", encoding="utf-8")
    path.chmod(0)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "school.yaml"]) == 2
    assert capsys.readouterr().err == "school.yaml:1:1: geen leesrechten op dit bestand\n"
