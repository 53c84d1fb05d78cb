"""The dossier taken out of Meldroute: the PDF (a valid PDF with the dossier number, the
steps, decisions and the timeline; audited as an export), the Veilig Thuis summary in
the sections of Veilig Thuis's melding form, and the route picture of a dossier."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from pypdf import PdfReader
from sqlalchemy import select

from meldroute.webapp import numbering
from meldroute.webapp.models import AuditEvent, Dossier

from .conftest import walk_to_afwegen

SVG = "{http://www.w3.org/2000/svg}"


def exports(app, dossier):
    with app.extensions["meldroute.db_sessions"]() as db:
        return [(e.actor, e.detail) for e in db.scalars(select(AuditEvent).where(
            AuditEvent.action == "dossier.export", AuditEvent.dossier_id == dossier,
            AuditEvent.result == "ok").order_by(AuditEvent.seq))]


def number_of(app, dossier):
    with app.extensions["meldroute.db_sessions"]() as db:
        label = numbering.label(db.get(Dossier, dossier))
    assert label.startswith("20") and "-" in label  # 2026-001, not the database id
    return label


def test_the_dossier_as_a_pdf_is_valid_numbered_and_audited_as_an_export(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier(name="Fictieve Leerling")
    walk_to_afwegen(browser, dossier)
    response = browser.client.get(f"/dossiers/{dossier}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))  # a valid PDF, or this raises
    words = " ".join(page.extract_text() for page in reader.pages)
    assert f"Dossier {number_of(app, dossier)}" in words  # the school's dossier number
    assert "Basisschool De Regenboog" in words
    assert "Afgedrukt door" in words and "Fictieve Leerling" in words
    assert "Stap 3: Gesprek voeren" in words and "Wij maken ons zorgen." in words
    assert "Tijdlijn" in words and "Stap 1 (Signaleren) opgeslagen" in words
    assert exports(app, dossier) == [("regenboog-ib", "pdf")]


def test_the_veilig_thuis_summary_follows_the_melding_form(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier(name="Fictieve Leerling")
    walk_to_afwegen(browser, dossier)
    page = browser.get(f"/dossiers/{dossier}/melding")
    sections = ["1. Melder", "2. Betrokkenen", "3. Melding", "4. Ondersteunend netwerk",
                "5. Overige informatie"]
    places = [page.index(s) for s in sections]
    assert places == sorted(places)
    between = page[places[2]:places[3]]  # the signals are the melding itself
    assert "De leerling had een blauwe plek" in between
    assert "Advies: gesprek met ouders voeren." in page[places[3]:places[4]]
    assert "Fictieve Leerling" in page[places[1]:places[2]]
    assert "Kies" not in page[places[0]:]  # no empty form to fill in
    assert exports(app, dossier) == [("regenboog-ib", "melding Veilig Thuis")]


def test_the_route_picture_marks_where_the_dossier_stands(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    page = browser.get(f"/dossiers/{dossier}")
    assert f'<img src="/dossiers/{dossier}/route.svg" alt="Stroomschema van de route' in page
    response = browser.client.get(f"/dossiers/{dossier}/route.svg")
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    marked = [g.get("data-node") for g in root.iter(f"{SVG}g")
              if "current" in (g.get("class") or "").split()]
    assert marked == ["q:sterk_vermoeden"]  # steps 1-3 recorded: the first weighing question
    passed = {g.get("data-node") for g in root.iter(f"{SVG}g")
              if "path" in (g.get("class") or "").split()}
    assert {"s:signaleren", "s:consulteren", "s:gesprek"} <= passed
