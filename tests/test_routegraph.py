"""The rule graph: unreachable questions and outcomes, dead ends, cycles."""

from __future__ import annotations

from .conftest import item_line

HULP_MET_RESULTAAT = """  - id: hulp_met_resultaat
    description: De hulp leidt binnen de afgesproken termijn tot de afgesproken resultaten.
    reason: de hulp binnen de afgesproken termijn tot de afgesproken resultaten leidt
    when:
      hulp_resultaat: ja
    then:
      - outcome: hulp_afsluiten
"""


def test_unreachable_question(messages, write, protocol_text):
    text = protocol_text.replace("      - ask: hulp_resultaat\n", "")
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{item_line(text, 'hulp_resultaat', 'step')}:5: vraag 'hulp_resultaat' is "
        "onbereikbaar: geen regel vanaf het begin leidt ernaar",
        f"{path}:{item_line(text, 'hulp_afsluiten', 'step')}:5: uitkomst 'hulp_afsluiten' is "
        "onbereikbaar: geen regel vanaf het begin leidt ernaar",
    ]


def test_answer_without_route(messages, write, protocol_text):
    text = protocol_text.replace(HULP_MET_RESULTAAT, "")
    path = write("p.yaml", text)
    assert messages(path)[0] == (
        f"{path}:{item_line(text, 'hulp_resultaat', 'step')}:5: antwoord 'ja' op vraag "
        "'hulp_resultaat' leidt nergens heen: geen regel geeft dan een volgende vraag of een "
        "uitkomst")


def test_cycle(messages, write, protocol_text):
    text = protocol_text.replace("      hulp_resultaat: nee\n    then:\n      - outcome: melden",
                                 "      hulp_resultaat: nee\n    then:\n      - ask: onveilig")
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{item_line(text, 'hulp_zonder_resultaat', 'description')}:5: cyclus in de route: "
        "onveilig → hulp_mogelijk → hulp_aanvaard → hulp_resultaat → onveilig"]
