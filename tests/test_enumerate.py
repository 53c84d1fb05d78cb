"""Every answer combination: gaps, conflicts and dead rules."""

from __future__ import annotations

from .conftest import item_line


def test_gap_and_dead_rule_found_by_enumeration(messages, write, protocol_text):
    text = protocol_text.replace("    when:\n      actie_nodig: nee\n",
                                 "    when:\n      actie_nodig: nee\n      sterk_vermoeden: ja\n")
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{item_line(text, 'actie_nodig', 'step')}:5: gat in de route na "
        "{sterk_vermoeden: nee, actie_nodig: nee}: geen volgende vraag en geen uitkomst",
        # the stage rule for the outcome the gap made unreachable is dead too
        f"{path}:{item_line(text, 'dossier_sluiten', 'description')}:5: regel "
        "'dossier_sluiten' gaat bij geen enkele bereikbare toestand af",
        f"{path}:{item_line(text, 'geen_actie_nodig', 'description')}:5: regel "
        "'geen_actie_nodig' gaat bij geen enkele bereikbare toestand af",
    ]


def test_conflict_found_by_enumeration(messages, write, protocol_text):
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
