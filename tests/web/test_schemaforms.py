"""The admin forms generated from the school-configuration JSON Schema."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from meldroute.webapp import schemaforms


def test_a_field_added_to_the_school_schema_appears_in_the_admin_form():
    schema = schemaforms.contact_schema()
    schema["properties"]["fax"] = {"type": "string", "maxLength": 30, "title": "Fax"}
    form_class = schemaforms.form_class(schema, "Contact")
    form = form_class(MultiDict({"name": "CJG", "fax": "0412-000999"}))
    assert form.fax.label.text == "Fax"
    assert schemaforms.values(form) == {"name": "CJG", "fax": "0412-000999"}
