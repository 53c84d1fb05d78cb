"""Printing as a teacher does: a note on the timeline, the route picture on the dossier
page, the dossier page printed to PDF through Chromium's own print (no menus, no forms to
fill in), and axe on the new pages (timeline, Veilig Thuis summary) at both widths."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from .conftest import check_page, record_steps_one_to_three, sign_in

pytestmark = pytest.mark.browser


def test_a_teacher_notes_prints_and_sees_the_route(page: Any, live_app: str, output_dir: Any):
    dossier_url = record_steps_one_to_three(page, live_app)
    sign_in(page, live_app, "Demo leerkracht")
    page.goto(dossier_url)
    picture = page.get_by_role("img", name="Stroomschema van de route")
    picture.scroll_into_view_if_needed()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0",
                         picture.element_handle())

    page.get_by_role("link", name="Tijdlijn en notities").click()
    page.get_by_label("Notitie", exact=True).fill("Veilig Thuis teruggebeld: advies om te melden.")
    page.get_by_role("button", name="Notitie opslaan").click()
    page.get_by_text("Notitie 1 is toegevoegd.").wait_for()
    assert page.get_by_text("Veilig Thuis teruggebeld: advies om te melden.").is_visible()
    assert check_page(page, "tijdlijn", output_dir) == {}

    page.goto(dossier_url)
    page.get_by_role("link", name="Samenvatting voor de melding bij Veilig Thuis").click()
    page.get_by_role("heading", name="5. Overige informatie").wait_for()
    assert check_page(page, "melding", output_dir) == {}

    page.goto(dossier_url)
    page.emulate_media(media="print")
    assert not page.get_by_role("navigation", name="Hoofdmenu").is_visible()
    assert not page.get_by_role("button", name="Stap 4 opslaan").is_visible()
    printed = page.pdf(format="A4")
    (output_dir / "dossier-afdruk.pdf").write_bytes(printed)
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(printed)).pages)
    assert "Eva Fictief" in words and "Leerling kwam drie dagen zonder lunch." in words
    assert "Uitloggen" not in words and "opslaan" not in words
