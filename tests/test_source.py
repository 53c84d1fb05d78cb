"""Files that do not parse or do not fit their schema: every problem at once, in Dutch."""

from __future__ import annotations

from .conftest import col_of, line_of


def test_bad_yaml(messages, write, protocol_text):
    text = protocol_text.replace("    answers: [ja, nee]\n", "    answers: [ja, nee\n", 1)
    path = write("p.yaml", text)
    line = line_of(text, "answers: [ja, nee\n")
    (msg,) = messages(path)
    assert msg.startswith(f"{path}:{line + 1}:7: ongeldige YAML: expected ',' or ']'")
    assert f"op regel {line}" in msg


def test_wrong_type(messages, write, protocol_text):
    text = protocol_text.replace("    number: 2\n", "    number: twee\n")
    path = write("p.yaml", text)
    line = line_of(text, "number: twee")
    assert messages(path) == [f'{path}:{line}:13: verwacht een geheel getal, gevonden "twee"']


def test_unknown_key(messages, write, protocol_text):
    text = protocol_text.replace("    title: Consulteren\n",
                                 "    title: Consulteren\n    colour: red\n")
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{line_of(text, 'colour:')}:5: onbekende sleutel 'colour' (toegestaan: actors, "
        "at_least_one, contacts, fields, guidance, id, number, report_section, subtitle, title)"]


def test_every_schema_error_is_reported_at_once(messages, write, protocol_text):
    text = (protocol_text.replace("    number: 2\n", "    number: twee\n")
            .replace("    title: Consulteren\n", "    title: Consulteren\n    colour: red\n")
            .replace("version: \"2026.1\"\n", ""))
    path = write("p.yaml", text)
    assert messages(path) == [
        f"{path}:{line_of(text, 'id: meldcode-onderwijs')}:1: verplichte sleutel 'version' "
        "ontbreekt",
        f'{path}:{line_of(text, "number: twee")}:13: verwacht een geheel getal, gevonden "twee"',
        f"{path}:{line_of(text, 'colour:')}:5: onbekende sleutel 'colour' (toegestaan: actors, "
        "at_least_one, contacts, fields, guidance, id, number, report_section, subtitle, title)",
    ]


def test_school_schema_errors(messages, write):
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
