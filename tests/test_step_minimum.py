"""What a step records at least, declared in the rules: ``required_with`` (one field or a
list), ``at_least_one`` on a step, and ``may_close`` on a stage; ``meldroute check`` names
unknown field ids with file and line."""

from __future__ import annotations

import datetime as dt

from werkzeug.datastructures import MultiDict

from meldroute.engine import evaluate
from meldroute.forms import build_form
from meldroute.forms.validators import use_today

from .conftest import line_of


def form_for(protocol, school, step_id, answers, data):
    evaluation = evaluate(protocol, school, answers)
    form_class = build_form(protocol, protocol.step(step_id), school, evaluation)
    return form_class(MultiDict(data))


def test_the_rules_declare_the_minimum_of_each_step(protocol):
    gesprek = protocol.step("gesprek")
    assert [x.fields for x in gesprek.at_least_one] == [
        ("gesprek_gevoerd", "gesprek_niet_gevoerd_reden")]
    consult = {f.id: f for f in protocol.step("consulteren").fields}
    assert consult["consultatie_datum"].required_with == ("geconsulteerd",
                                                          "geconsulteerd_intern")
    assert {f.id: f for f in gesprek.fields}["gesprek_datum"].required_with == (
        "gesprek_gevoerd",)
    assert [s.id for s in protocol.stages.values() if s.may_close] == ["afronden"]


def test_an_empty_conversation_step_names_both_ways_out(protocol, demo):
    form = form_for(protocol, demo, "gesprek", {}, {})
    with use_today(dt.date(2026, 11, 27)):
        assert not form.validate()
    message = "Vink aan dat het gesprek is gevoerd, of leg vast waarom (nog) niet."
    assert form.errors["gesprek_gevoerd"] == [message]
    assert form.errors["gesprek_niet_gevoerd_reden"] == [message]
    reason = form_for(protocol, demo, "gesprek", {}, {
        "gesprek_niet_gevoerd_reden": "Het gesprek brengt de leerling in gevaar."})
    with use_today(dt.date(2026, 11, 27)):
        assert reason.validate(), reason.errors


def test_required_with_a_list_asks_once_any_of_them_is_filled_in(protocol, demo):
    form = form_for(protocol, demo, "consulteren", {}, {"geconsulteerd_intern": "ib"})
    with use_today(dt.date(2026, 11, 27)):
        assert not form.validate()
    assert set(form.errors) == {"consultatie_datum", "uitkomst_consultatie"}
    assert "'Wie is geconsulteerd' of 'Interne collega's geconsulteerd'" in \
        form.errors["consultatie_datum"][0]
    why_not = form_for(protocol, demo, "consulteren", {}, {
        "niet_geconsulteerd_reden": "Niemand bereikbaar deze week."})
    with use_today(dt.date(2026, 11, 27)):
        assert why_not.validate(), why_not.errors


def test_the_open_question_the_answers_reach_needs_its_answer(protocol, demo):
    posted = {"sterk_vermoeden": "nee"}
    form = form_for(protocol, demo, "afwegen", {}, posted)
    with use_today(dt.date(2026, 11, 27)):
        assert form.validate()  # the form alone cannot know the route
    assert not form.check_route(evaluate(protocol, demo, posted))
    assert form.errors["actie_nodig"] == ["Kies een antwoord."]
    done = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "ja"}
    form = form_for(protocol, demo, "afwegen", {}, done)
    assert form.check_route(evaluate(protocol, demo, done)), form.errors


def test_question_5_may_wait_for_the_term(protocol, demo):
    answers = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "nee",
               "hulp_mogelijk": "ja", "hulp_aanvaard": "ja"}
    form = form_for(protocol, demo, "beslissen", answers, {
        "hulp_mogelijk": "ja", "hulp_aanvaard": "ja"})
    assert form.check_route(evaluate(protocol, demo, answers))


def test_check_names_unknown_fields_of_the_new_declarations(protocol_text, write, messages):
    text = protocol_text.replace(
        "      - fields: [gesprek_gevoerd, gesprek_niet_gevoerd_reden]",
        "      - fields: [gesprek_gevoerd, gesprek_niet_gevoerd_redne]").replace(
        "        required_with: gesprek_gevoerd", "        required_with: gesprek_gevoer")
    path = write("route.yaml", text)
    found = messages(path)
    reason_line = line_of(text, "gesprek_niet_gevoerd_redne]")
    with_line = line_of(text, "required_with: gesprek_gevoer")
    assert any(m.startswith(f"{path}:{reason_line}:") and
               "onbekend veld 'gesprek_niet_gevoerd_redne' in stap 'gesprek'; bedoel je "
               "'gesprek_niet_gevoerd_reden'?" in m for m in found), found
    assert any(m.startswith(f"{path}:{with_line}:") and "onbekend veld 'gesprek_gevoer'" in m
               for m in found), found


def test_check_refuses_a_field_required_with_itself(protocol_text, write, messages):
    text = protocol_text.replace("        required_with: gesprek_gevoerd",
                                 "        required_with: [gesprek_datum]")
    found = messages(write("route.yaml", text))
    assert any("onbekend veld 'gesprek_datum' in stap 'gesprek'" in m for m in found), found


def test_the_schema_refuses_an_unknown_key_in_at_least_one(protocol_text, write, messages):
    text = protocol_text.replace(
        "        message: Vink aan dat het gesprek",
        "        mesage: Vink aan dat het gesprek")
    found = messages(write("route.yaml", text))
    assert found and any("mesage" in m for m in found), found
