"""A school that follows several protocols: ``protocols: [...]`` (``protocol:`` still
accepted), contacts and roles shared, remaps per protocol; `meldroute decide` on the
second protocol, the staff route (meldplicht)."""

from __future__ import annotations

import json

from meldroute.engine import ConfigError, load_protocol_by_id, load_school, resolve_role
from meldroute.engine.loader import shipped_dir

from .clirun import run_meldroute
from .conftest import line_of

STAFF = "meldplicht-medewerker"
BOTH = "protocols: [meldcode-onderwijs, meldplicht-medewerker]"


def test_the_demo_school_follows_both_routes_with_remaps_per_route():
    school = load_school()
    assert school.follows == ("meldcode-onderwijs", STAFF) and school.protocol == \
        "meldcode-onderwijs"
    meldcode, staff = load_protocol_by_id("meldcode-onderwijs"), load_protocol_by_id(STAFF)
    # the demo school's directeur acts for the bevoegd gezag in the meldplicht only
    assert resolve_role(staff, school, "bevoegd_gezag", "aangifte").assigned == "directeur"
    assert resolve_role(meldcode, school, "bevoegd_gezag", None).assigned == "bevoegd_gezag"
    # the Meldcode's remap (ib -> aandachtsfunctionaris in afwegen) stays in the Meldcode
    assert resolve_role(meldcode, school, "ib", "afwegen").assigned == "aandachtsfunctionaris"
    assert school.remaps_of(STAFF)[0].to == "directeur" and len(school.remaps_of()) == 1


def test_one_protocol_is_still_accepted(write, demo_text):
    text = demo_text.replace(BOTH, "protocol: meldcode-onderwijs")
    text = text[:text.index("  - protocol: meldplicht-medewerker")]
    school = load_school(write("een.yaml", text))
    assert school.follows == ("meldcode-onderwijs",)


def test_multi_protocol_problems_all_at_once(messages, write, demo_text):
    text = demo_text.replace(BOTH, "protocols: [meldcode-onderwijs, meldplicht-medewerkr]")
    text = text.replace("  - protocol: meldplicht-medewerker\n    role: bevoegd_gezag",
                        "  - protocol: meldplicht-medewerker\n    role: bevoegd_gezg")
    path = write("school.yaml", text)
    assert messages(path) == [
        f"{path}:{line_of(text, 'protocols:')}:33: onbekend protocol 'meldplicht-medewerkr'; "
        "bedoel je 'meldplicht-medewerker'?",
        f"{path}:{line_of(text, '  - protocol: meldplicht-medewerker')}:15: de school volgt "
        "protocol 'meldplicht-medewerker' niet; bedoel je 'meldplicht-medewerkr'?",
    ]
    both = demo_text.replace(BOTH, f"{BOTH}\nprotocol: meldcode-onderwijs")
    path = write("allebei.yaml", both)
    assert messages(path) == [f"{path}:{line_of(both, 'protocols:')}:12: gebruik 'protocols' "
                              "of 'protocol', niet allebei"]


def test_a_remap_is_checked_against_its_own_protocol(messages, write, demo_text):
    # 'afwegen' is a step of the Meldcode, not of the meldplicht
    text = demo_text.replace("    role: bevoegd_gezag\n    to: directeur\n",
                             "    role: bevoegd_gezag\n    to: directeur\n    steps: [afwegen]\n")
    path = write("school.yaml", text)
    assert messages(path) == [f"{path}:{line_of(text, 'steps: [afwegen]', 2)}:13: onbekende "
                              "stap 'afwegen'"]


def test_a_school_of_one_protocol_cannot_decide_another(write, demo_text):
    text = demo_text.replace(BOTH, "protocol: meldcode-onderwijs")
    text = text[:text.index("  - protocol: meldplicht-medewerker")]
    path = write("een.yaml", text)
    try:
        load_school(path, load_protocol_by_id(STAFF))
    except ConfigError as err:
        assert "school volgt protocol 'meldcode-onderwijs', maar het geladen protocol is " \
               "'meldplicht-medewerker'" in str(err)
    else:
        raise AssertionError("no problem")


def test_decide_on_the_staff_route(tmp_path):
    answers = tmp_path / "antwoorden.yaml"
    answers.write_text("bevoegd_gezag_ingelicht: ja\nvertrouwensinspecteur_geraadpleegd: ja\n"
                       "redelijk_vermoeden: ja\n", encoding="utf-8")
    args = ["decide", "--protocol", str(shipped_dir("rules") / f"{STAFF}.yaml"),
            "--school", str(shipped_dir("schools") / "demo.yaml"), "--answers", str(answers),
            "--today", "2026-11-27"]
    done = run_meldroute(args, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Uitkomst: Aangifte doen bij de politie." in done.stdout
    assert "Politie (geen spoed), tel. 0900-8844" in done.stdout
    assert "uiterlijk vrijdag 27 november 2026 (direct (vandaag))" in done.stdout
    done = run_meldroute([*args, "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outcome"]["id"] == "aangifte_doen"
    assert result["protocol"]["id"] == STAFF
    answers.write_text("bevoegd_gezag_ingelicht: ja\nvertrouwensinspecteur_geraadpleegd: nee\n",
                       encoding="utf-8")
    done = run_meldroute([*args[:-2]], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Bel nu de vertrouwensinspecteur. — Vertrouwensinspecteur (Inspectie van het " \
           "Onderwijs), tel. 0900-111 3111" in done.stdout
