"""Forms generated from the protocol: one field per definition, the route decides which."""

from __future__ import annotations

import datetime as dt

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import DateField, FieldList, RadioField, StringField, TextAreaField

from meldroute.engine import evaluate
from meldroute.engine.loader import school_from_document
from meldroute.engine.source import parse_text
from meldroute.forms import build_form, visible_fields
from meldroute.forms.fields import CheckboxListField
from meldroute.forms.validators import use_today

HULP = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "nee",
        "hulp_mogelijk": "ja"}


def form_for(protocol, school, step_id, answers, data=None):
    evaluation = evaluate(protocol, school, answers)
    form_class = build_form(protocol, protocol.step(step_id), school, evaluation)
    return form_class(MultiDict(data or {}))


def test_each_field_type_builds_its_wtforms_field(protocol, demo):
    form = form_for(protocol, demo, "signaleren", {})
    assert isinstance(form.observaties, FieldList)
    row = form.observaties.entries[0].form
    assert isinstance(row.datum, DateField) and isinstance(row.feit, TextAreaField)
    assert isinstance(row.bron, StringField) and isinstance(row.waargenomen_door,
                                                            CheckboxListField)
    assert [c.label for c in form.signaleren_checklist.choices] == [
        "Documenteer observaties en feiten, zo objectief mogelijk.",
        "Zoek naar onderbouwing van wat je gezien of gehoord hebt."]
    consult = form_for(protocol, demo, "consulteren", {})
    labels = {c.value: c.label for c in consult.geconsulteerd.choices}
    assert labels["veilig_thuis"] == "Veilig Thuis (regio)"
    assert labels["cjg"] == "Centrum Jeugd en Gezin Regenboogstad"
    roles = {c.value: c.label for c in row.waargenomen_door.choices}
    assert roles["ib"] == "intern begeleider" and roles["aandachtsfunctionaris"] == \
        "aandachtsfunctionaris"


def test_answer_fields_offer_only_the_answers_the_protocol_allows(protocol, demo):
    form = form_for(protocol, demo, "afwegen", {"sterk_vermoeden": "nee"})
    assert isinstance(form.actie_nodig, RadioField)
    assert [c.value for c in form.actie_nodig.choices] == ["ja", "nee", "twijfel"]
    assert [c.value for c in form.sterk_vermoeden.choices] == ["ja", "nee"]
    assert form.actie_nodig.description.startswith("Ik heb de stappen 1 t/m 3")


def test_every_question_of_the_step_is_on_its_form(protocol, demo):
    """The weighing on one page: the route takes the answers it reaches."""
    def shown(answers, step="afwegen"):
        return [f.id for f in visible_fields(protocol, protocol.step(step),
                                             evaluate(protocol, demo, answers))
                if f.type == "answer"]

    afwegen = ["sterk_vermoeden", "bevoegd_gezag_ingelicht", "actie_nodig", "onveilig"]
    assert shown({}) == afwegen
    assert shown({"sterk_vermoeden": "nee"}) == afwegen
    assert shown(HULP, "beslissen") == ["hulp_mogelijk", "hulp_aanvaard", "hulp_resultaat"]


def test_help_plan_only_after_hulp_aanvaard_ja(protocol, demo):
    before = form_for(protocol, demo, "beslissen", HULP)
    assert "hulp_termijn" not in before._fields
    after = form_for(protocol, demo, "beslissen", {**HULP, "hulp_aanvaard": "ja"})
    assert {"hulp_termijn", "hulp_casemanager", "hulp_rollen", "hulp_taken",
            "hulp_resultaat"} <= set(after._fields)
    assert isinstance(after.hulp_casemanager, RadioField)  # one casemanager


def test_the_open_question_may_wait_but_answered_ones_are_required(protocol, demo):
    form = form_for(protocol, demo, "beslissen", {**HULP, "hulp_aanvaard": "ja"}, {
        "hulp_mogelijk": "ja", "hulp_aanvaard": "ja", "hulp_termijn": "2027-01-15",
        "hulp_casemanager": "ib", "hulp_rollen": "r", "hulp_taken": "t"})
    with use_today(dt.date(2026, 11, 27)):
        assert form.validate(), form.errors
    posted = {"hulp_aanvaard": "ja"}
    form = form_for(protocol, demo, "beslissen", {**HULP, "hulp_aanvaard": "ja"}, posted)
    after = {k: v for k, v in HULP.items() if k != "hulp_mogelijk"} | posted
    assert not form.check_route(evaluate(protocol, demo, after))
    assert form.errors["hulp_mogelijk"] == ["Kies een antwoord."]


@pytest.mark.parametrize(("value", "today", "error"), [
    ("2026-11-27", dt.date(2026, 11, 27), None),
    ("2026-11-28", dt.date(2026, 11, 27), "De datum mag niet in de toekomst liggen."),
    ("27-11-2026", dt.date(2026, 11, 27), "Ongeldige datum."),
])
def test_dates_not_in_the_future(protocol, demo, value, today, error):
    form = form_for(protocol, demo, "consulteren", {}, {
        "geconsulteerd": "cjg", "consultatie_datum": value, "uitkomst_consultatie": "x"})
    with use_today(today):
        ok = form.validate()
    assert ok == (error is None)
    if error:
        assert form.errors["consultatie_datum"] == [error]


def test_help_term_not_in_the_past(protocol, demo):
    form = form_for(protocol, demo, "beslissen", {**HULP, "hulp_aanvaard": "ja"}, {
        "hulp_mogelijk": "ja", "hulp_aanvaard": "ja", "hulp_termijn": "2026-11-26",
        "hulp_casemanager": "ib", "hulp_rollen": "r", "hulp_taken": "t"})
    with use_today(dt.date(2026, 11, 27)):
        assert not form.validate()
    assert form.errors["hulp_termijn"] == ["De datum mag niet in het verleden liggen."]


def test_form_classes_are_cached_per_protocol_step_school_and_route_state(protocol, demo):
    e = evaluate(protocol, demo, {})
    step = protocol.step("afwegen")
    assert build_form(protocol, step, demo, e) is build_form(protocol, step, demo,
                                                             evaluate(protocol, demo, {}))
    other = school_from_document(parse_text("id: ander\nname: Andere school\n", "a.yaml"),
                                 protocol)
    assert build_form(protocol, step, other, e) is not build_form(protocol, step, demo, e)
    beslissen = protocol.step("beslissen")
    plan = evaluate(protocol, demo, {**HULP, "hulp_aanvaard": "ja"})
    assert build_form(protocol, beslissen, demo, plan) is not build_form(protocol, beslissen,
                                                                         demo, e)


def test_unknown_posted_fields_are_named(protocol, demo):
    form = form_for(protocol, demo, "signaleren", {})
    posted = ["csrf_token", "base_version", "action", "observaties-0-feit", "interpretatie",
              "is_admin", "observaties-0-extra"]
    assert form.unknown_fields(posted) == ["is_admin", "observaties-0-extra"]


def test_answers_are_stored_as_json_values(protocol, demo):
    form = form_for(protocol, demo, "signaleren", {}, {
        "observaties-0-datum": "2026-11-20", "observaties-0-waargenomen_door": "leerkracht",
        "observaties-0-feit": "  Feit.  ", "observaties-1-feit": "", "signaleren_checklist": "2"})
    with use_today(dt.date(2026, 11, 27)):
        assert form.validate(), form.errors
    assert form.answers() == {
        "observaties": [{"datum": "2026-11-20", "waargenomen_door": ["leerkracht"],
                         "feit": "Feit.", "bron": None}],
        "interpretatie": None, "signaleren_checklist": ["2"], "vorm_eergerelateerd": False,
        "vorm_vgv": False, "vorm_huwelijksdwang": False, "vorm_radicalisering": False}
