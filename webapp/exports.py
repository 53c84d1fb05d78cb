"""A dossier taken out of Meldroute: the whole dossier as a PDF (WeasyPrint, from an HTML
template) and the Veilig Thuis summary, arranged in the sections of Veilig Thuis's online
melding form so that it can be copied over. Both are audited as an export (``dossier.export``
with what was exported; never the content)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, render_template

from . import numbering
from .auth import login_required
from .context import db, now, record, registry, today
from .dossiers import _dossier, recorded_fields, school_then
from .models import DossierNote
from .services import DossierState, dossier_state
from .timeline import notes_of, timeline

bp = Blueprint("exports", __name__)

# The sections of Veilig Thuis's online melding form, and which steps of the route feed
# which section (steps not named here go to "overige informatie"). Checklists are the
# school's own working list: they are left out.
SECTIONS = {
    "melder": "Melder",
    "betrokkenen": "Betrokkenen",
    "melding": "Melding",
    "netwerk": "Ondersteunend netwerk",
    "overig": "Overige informatie",
}


def _steps(state: DossierState) -> list[dict[str, Any]]:
    """Every recorded step: its newest version, shown as the dossier page shows it."""
    found = []
    for step in state.protocol.steps:
        latest = state.latest.get(step.id)
        if latest is None:
            continue
        fields = recorded_fields(state, step, state.data(step.id), school_then(state, latest))
        found.append({"step": step, "record": latest,
                      "fields": [(f, v) for f, v in fields if f.type != "checklist"]})
    return found


def _fetch_nothing(url: str, *args: Any, **kwargs: Any) -> Any:
    """The PDF template holds everything it shows: WeasyPrint fetches no file or URL."""
    raise ValueError(f"not fetched: {url[:60]}")


@bp.route("/dossiers/<int:dossier_id>/pdf")
@login_required
def pdf(dossier_id: int) -> Any:
    """The whole dossier as a PDF, for handing it over (audited as an export)."""
    dossier = _dossier(dossier_id, "dossier.export")
    try:
        from weasyprint import HTML  # the PDF renderer loads Pango only when asked
    except OSError:  # the system's Pango is missing: say so, never a traceback
        current_app.logger.error("weasyprint cannot load its system libraries (Pango)")
        record("dossier.export", result="failed", dossier_id=dossier.id, detail="pdf")
        db().commit()
        return render_template("error.html", title="Pdf maken lukt nu niet", message=(
            "De server kan op dit moment geen pdf maken. Druk de dossierpagina af via je "
            "browser, of vraag de beheerder om hulp.")), 503
    state = dossier_state(db(), registry(), dossier, today())
    entries = timeline(db(), state)
    html = render_template("dossier_pdf.html", state=state, steps=_steps(state),
                           entries=entries, number=numbering.label(dossier),
                           printed_at=now(), printed_by=g.user.display_name)
    document = HTML(string=html, url_fetcher=_fetch_nothing).write_pdf()
    record("dossier.export", dossier_id=dossier.id, detail="pdf")
    db().commit()
    current_app.logger.info("dossier exported as pdf id=%s user=%s", dossier.id, g.user.id)
    name = f"dossier-{numbering.label(dossier)}.pdf"
    return Response(document, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.route("/dossiers/<int:dossier_id>/melding")
@login_required
def melding(dossier_id: int) -> Any:
    """What the school knows, in the sections of Veilig Thuis's melding form."""
    dossier = _dossier(dossier_id, "dossier.export")
    state = dossier_state(db(), registry(), dossier, today())
    if not state.protocol.reports_to_veilig_thuis:  # nothing exported: no audit entry
        return render_template("error.html", title="Geen melding bij Veilig Thuis", message=(
            f"Dit dossier volgt de route '{state.protocol.title}'; daarin hoort geen melding "
            "bij Veilig Thuis. Gebruik 'Dossier als pdf' om het dossier over te dragen.")), 404
    sections: dict[str, list[dict[str, Any]]] = {key: [] for key in SECTIONS}
    for item in _steps(state):
        # the rubric is the rules' (``report_section`` of the step); without: overige
        sections[item["step"].report_section or "overig"].append(item)
    notes: list[DossierNote] = notes_of(db(), dossier.id)
    record("dossier.export", dossier_id=dossier.id, detail="melding Veilig Thuis")
    db().commit()
    return render_template("melding.html", state=state, sections=sections, titles=SECTIONS,
                           notes=notes, number=numbering.label(dossier), user=g.user)
