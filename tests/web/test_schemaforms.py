"""The admin forms generated from the school-configuration JSON Schema."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from meldroute.webapp import schemaforms
from meldroute.webapp.changes import config_changes
from meldroute.webapp.schooladmin_forms import ContactForm


def test_a_field_added_to_the_school_schema_appears_in_the_admin_form():
    schema = schemaforms.contact_schema()
    schema["properties"]["fax"] = {"type": "string", "maxLength": 30, "title": "Fax"}
    form_class = schemaforms.form_class(schema, "Contact")
    form = form_class(MultiDict({"name": "CJG", "fax": "0412-000999"}))
    assert form.fax.label.text == "Fax"
    assert schemaforms.values(form) == {"name": "CJG", "fax": "0412-000999"}


@pytest.mark.parametrize(("message", "field", "plain"), [
    ("verplichte sleutel 'name' ontbreekt", None, "Vul een naam in."),
    ("waarde mag niet leeg zijn", "phone", "Vul een telefoonnummer in."),
    ("verplichte sleutel 'when' ontbreekt", None, "Vul 'when' in."),
    ("waarde is te lang: 201 tekens, maximaal 200", "name",
     "Dit is te lang: 201 tekens, er passen er maximaal 200."),
    ("waarde 'x' is geen geldig e-mailadres", "email",
     "Dit is geen geldig e-mailadres (bijvoorbeeld naam@school.nl)."),
    ("waarde 'Wijk Agent!' heeft niet de juiste vorm (kleine letters, cijfers, '_' of '-', "
     "beginnend met een letter)", "key",
     "Gebruik alleen kleine letters, cijfers, '_' of '-', en begin met een letter."),
])
def test_schema_messages_are_said_in_plain_dutch(message, field, plain):
    assert schemaforms.plain_message(message, field) == plain


def test_the_schema_forms_cut_nothing_off():
    form = ContactForm()
    assert "maxlength" not in str(form.name()) and "maxlength" not in str(form.notes())


def test_a_version_difference_is_field_by_field_in_dutch():
    old = {"name": "De Regenboog", "contacts": {"cjg": {"name": "CJG", "phone": "0412-000101"}},
           "roles": {"ib": {"name": "intern begeleider"}}}
    new = {"name": "De Regenboog", "contacts": {"cjg": {"name": "CJG", "phone": "0412-000199",
                                                        "email": "cjg@example.org"}},
           "roles": {"ib": {"name": "zorgcoördinator"}},
           "remap": [{"role": "ib", "to": "aandachtsfunctionaris", "steps": ["afwegen"]}]}
    rows = [(c.label, c.old, c.new) for c in config_changes(old, new,
                                                            {"afwegen": "stap 4 (Afwegen)"})]
    assert rows == [
        ("Contact CJG: telefoon", "0412-000101", "0412-000199"),
        ("Contact CJG: e-mail", None, "cjg@example.org"),
        ("Naam van de rol ib", "intern begeleider", "zorgcoördinator"),
        ("Rollen die een andere rol overnemen", None,
         "aandachtsfunctionaris neemt de rol van ib over in stap 4 (Afwegen)"),
    ]
