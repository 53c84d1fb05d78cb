"""Broken files give every problem at once, as file:line:col with a clear Dutch message."""

from __future__ import annotations

import pytest

from meldroute.engine import ConfigError, load_protocol, load_school
from meldroute.engine.analysis import run_check

from .conftest import col_of, item_line, line_of

HULP_MET_RESULTAAT = """  - id: hulp_met_resultaat
    description: De hulp leidt binnen de afgesproken termijn tot de afgesproken resultaten.
    when:
      hulp_resultaat: ja
    then:
      - outcome: hulp_afsluiten
"""


def messages(path, **kwargs):
    report = run_check([path], **kwargs)
    return [str(p) for p in report.errors]


def test_shipped_files_pass():
    report = run_check()
    assert report.ok, [str(p) for p in report.problems]
    assert report.combinations == 3 * 3 * 4 * 3 * 3 * 3 * 3
    assert [c.percent for c in report.coverage] == [100.0]


def test_bad_yaml(write, protocol_text):
    text = protocol_text.replace("    answers: [ja, nee]\n", "    answers: [ja, nee\n", 1)
    path = write("p.yaml", text)
    line = line_of(text, "answers: [ja, nee\n")
    (msg,) = messages(path)
    assert msg.startswith(f"{path}:{line + 1}:7: ongeldige YAML: expected ',' or ']'")
    assert f"op regel {line}" in msg


def test_wrong_type(write, protocol_text):
    text = protocol_text.replace("    number: 2\n", "    number: twee\n")
    path = write("p.yaml", text)
    line = line_of(text, "number: twee")
    assert messages(path) == [f'{path}:{line}:13: verwacht een geheel getal, gevonden "twee"']


def test_unknown_key(write, protocol_text):
    text = protocol_text.replace("    title: Consulteren\n",
                                 "    title: Consulteren\n    colour: red\n")
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{line_of(text, 'colour:')}:5: onbekende sleutel 'colour' (toegestaan: actors, "
        "contacts, fields, guidance, id, number, subtitle, title)"]


def test_every_schema_error_is_reported_at_once(write, protocol_text):
    text = (protocol_text.replace("    number: 2\n", "    number: twee\n")
            .replace("    title: Consulteren\n", "    title: Consulteren\n    colour: red\n")
            .replace("version: \"2026.1\"\n", ""))
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{line_of(text, 'id: meldcode-onderwijs')}:1: verplichte sleutel 'version' "
        "ontbreekt",
        f'{path}:{line_of(text, "number: twee")}:13: verwacht een geheel getal, gevonden "twee"',
        f"{path}:{line_of(text, 'colour:')}:5: onbekende sleutel 'colour' (toegestaan: actors, "
        "contacts, fields, guidance, id, number, subtitle, title)",
    ]


def test_unknown_reference(write, protocol_text):
    text = protocol_text.replace("      - outcome: melden\n", "      - outcome: meldn\n", 1)
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{line_of(text, 'outcome: meldn')}:18: onbekende uitkomst 'meldn'; bedoel je "
        "'melden'? (bekend: dossier_sluiten, direct_melden, melden, hulp_inzetten, "
        "hulp_afsluiten)"]


def test_answer_not_allowed_in_rule(write, protocol_text):
    text = protocol_text.replace("      onveilig: ja\n", "      onveilig: twijfel\n", 1)
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{line_of(text, 'onveilig: twijfel')}:17: antwoord 'twijfel' is niet toegestaan "
        "bij vraag 'onveilig' (toegestaan: ja, nee)"]


def test_duplicate_id(write, protocol_text):
    text = protocol_text.replace("  - id: dossier_sluiten\n    step: beslissen",
                                 "  - id: melden\n    step: beslissen")
    path = write("p.yaml", text)
    first = line_of(text, "  - id: melden\n")
    second = line_of(text, "  - id: melden\n", 2)
    assert f"{path}:{second}:9: uitkomst 'melden' komt dubbel voor (eerder op regel {first})" \
        in messages(path)


def test_unreachable_question(write, protocol_text):
    text = protocol_text.replace("      - ask: hulp_resultaat\n", "")
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{item_line(text, 'hulp_resultaat', 'step')}:5: vraag 'hulp_resultaat' is "
        "onbereikbaar: geen regel vanaf het begin leidt ernaar",
        f"{path}:{item_line(text, 'hulp_afsluiten', 'step')}:5: uitkomst 'hulp_afsluiten' is "
        "onbereikbaar: geen regel vanaf het begin leidt ernaar",
    ]


def test_answer_without_route(write, protocol_text):
    text = protocol_text.replace(HULP_MET_RESULTAAT, "")
    path = write("p.yaml", text)
    assert messages(path)[0] == (
        f"{path}:{item_line(text, 'hulp_resultaat', 'step')}:5: antwoord 'ja' op vraag "
        "'hulp_resultaat' leidt nergens heen: geen regel geeft dan een volgende vraag of een "
        "uitkomst")


def test_cycle(write, protocol_text):
    text = protocol_text.replace("      hulp_resultaat: nee\n    then:\n      - outcome: melden",
                                 "      hulp_resultaat: nee\n    then:\n      - ask: onveilig")
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{item_line(text, 'hulp_zonder_resultaat', 'description')}:5: cyclus in de route: "
        "onveilig → hulp_mogelijk → hulp_aanvaard → hulp_resultaat → onveilig"]


def test_gap_and_dead_rule_found_by_enumeration(write, protocol_text):
    text = protocol_text.replace("    when:\n      actie_nodig: nee\n",
                                 "    when:\n      actie_nodig: nee\n      sterk_vermoeden: ja\n")
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{item_line(text, 'actie_nodig', 'step')}:5: gat in de route na "
        "{sterk_vermoeden: nee, actie_nodig: nee}: geen volgende vraag en geen uitkomst",
        f"{path}:{item_line(text, 'geen_actie_nodig', 'description')}:5: regel "
        "'geen_actie_nodig' gaat bij geen enkele antwoordcombinatie af",
    ]


def test_conflict_found_by_enumeration(write, protocol_text):
    text = protocol_text + (
        "\n  - id: tegenspraak\n    description: Spreekt de regel 'onveilig' tegen.\n"
        "    when:\n      onveilig: ja\n    then:\n      - outcome: dossier_sluiten\n")
    path = write("p.yaml", text)
    found = messages(path)
    assert found[0] == (
        f"{path}:{item_line(text, 'onveilig', 'step')}:5: conflict in de route na "
        "{sterk_vermoeden: nee, actie_nodig: ja, onveilig: ja}: tegenstrijdige uitkomsten: "
        "melden, dossier_sluiten")
    assert not any("gaat bij geen enkele" in m for m in found)


def test_bad_phone_number_and_other_school_errors_all_at_once(write, demo_text):
    text = (demo_text.replace('phone: "0412-000103"', 'phone: "0412-00010"')
            .replace("    to: aandachtsfunctionaris", "    to: aandachtsfunctionaaris")
            .replace("  veilig_thuis:\n", "  veilig_thuiss:\n"))
    path = write("school.yaml", text)
    bad_line = line_of(text, '"0412-00010"')
    assert messages(path) == [
        f"{path}:{line_of(text, 'veilig_thuiss')}:3: onbekend contact 'veilig_thuiss'; bedoel je "
        "'veilig_thuis'?",
        f"{path}:{bad_line}:12: '0412-00010' is geen geldig Nederlands "
        "telefoonnummer (bijvoorbeeld 0412-673700)",
        f"{path}:{line_of(text, 'to: aandachtsfunctionaaris')}:9: onbekende rol "
        "'aandachtsfunctionaaris'; bedoel je 'aandachtsfunctionaris'? (bekend: leerkracht, ib, "
        "zorgteam, directeur, bevoegd_gezag, aandachtsfunctionaris); voeg haar toe onder "
        "'roles'",
    ]


def test_school_schema_errors(write):
    text = 'id: De Regenboog\nname: ""\ncontacts:\n  cjg:\n    phone: "0412-000101"\n' \
           '    email: geen-adres\n'
    path = write("school.yaml", text)
    assert messages(path) == [
        f'{path}:1:5: waarde "De Regenboog" heeft niet de juiste vorm (kleine letters, cijfers, '
        "'_' of '-', beginnend met een letter)",
        f"{path}:2:7: waarde mag niet leeg zijn",
        f"{path}:5:5: verplichte sleutel 'name' ontbreekt",
        f'{path}:{line_of(text, "geen-adres")}:{col_of(text, "geen-adres")}: waarde '
        '"geen-adres" is geen geldig e-mailadres',
    ]


def test_load_functions_raise_config_error_with_problems(write, protocol_text, demo_text):
    path = write("p.yaml", protocol_text.replace("    number: 2\n", "    number: twee\n"))
    with pytest.raises(ConfigError) as err:
        load_protocol(path)
    assert len(err.value.problems) == 1 and "geheel getal" in str(err.value)
    with pytest.raises(ConfigError):
        load_school(write("s.yaml", demo_text.replace("protocol: meldcode-onderwijs",
                                                      "protocol: bestaat-niet")))


def test_missing_file_is_a_problem_not_a_traceback(tmp_path):
    path = tmp_path / "nergens.yaml"
    assert messages(path) == [f"{path}:1:1: bestand niet gevonden"]
