"""Semantic checks of protocol and school files: references, duplicates, phone numbers."""

from __future__ import annotations

import pytest

from meldroute.engine import ConfigError, load_protocol, load_school

from .conftest import line_of


def test_unknown_reference(messages, write, protocol_text):
    text = protocol_text.replace("      - outcome: melden\n", "      - outcome: meldn\n", 1)
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{line_of(text, 'outcome: meldn')}:18: onbekende uitkomst 'meldn'; bedoel je "
        "'melden'? (bekend: dossier_sluiten, direct_melden, melden, hulp_inzetten, "
        "hulp_afsluiten)"]


def test_answer_not_allowed_in_rule(messages, write, protocol_text):
    text = protocol_text.replace("      onveilig: ja\n", "      onveilig: twijfel\n", 1)
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{line_of(text, 'onveilig: twijfel')}:17: antwoord 'twijfel' is niet toegestaan "
        "bij vraag 'onveilig' (toegestaan: ja, nee)"]


def test_duplicate_id(messages, write, protocol_text):
    text = protocol_text.replace("  - id: dossier_sluiten\n    step: beslissen",
                                 "  - id: melden\n    step: beslissen")
    path = write("p.yaml", text)
    first = line_of(text, "  - id: melden\n")
    second = line_of(text, "  - id: melden\n", 2)
    assert f"{path}:{second}:9: uitkomst 'melden' komt dubbel voor (eerder op regel {first})" \
        in messages(path)


def test_bad_phone_number_and_other_school_errors_all_at_once(messages, write, demo_text):
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
        "zorgteam, directeur, bevoegd_gezag, medewerker, aandachtsfunctionaris); voeg haar toe "
        "onder 'roles'",
    ]


def test_load_functions_raise_config_error_with_problems(write, protocol_text, demo_text):
    path = write("p.yaml", protocol_text.replace("    number: 2\n", "    number: twee\n"))
    with pytest.raises(ConfigError) as err:
        load_protocol(path)
    assert len(err.value.problems) == 1 and "geheel getal" in str(err.value)
    with pytest.raises(ConfigError):
        load_school(write("s.yaml", demo_text.replace(
            "protocols: [meldcode-onderwijs, meldplicht-medewerker]", "protocol: bestaat-niet")))


def test_a_role_says_whether_its_holders_confirm_grants(messages, write, protocol_text):
    """``confirms_grants`` is read from the route (the Meldcode: the directeur), and
    anything but true or false is refused on its line."""
    protocol = load_protocol(write("ok.yaml", protocol_text))
    assert [r.id for r in protocol.roles.values() if r.confirms_grants] == ["directeur"]
    text = protocol_text.replace("    confirms_grants: true\n", "    confirms_grants: ja\n", 1)
    path = write("p.yaml", text)
    found = messages(path)
    assert len(found) == 1 and found[0].startswith(
        f"{path}:{line_of(text, 'confirms_grants: ja')}:"), found
