"""The route as a picture: ``/dossiers/<id>/route.svg`` draws the rules' flowchart
(``engine.route_svg``) with the dossier's path and where it stands now; the dossier page
shows it as an ``<img>`` (no script)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from meldroute.engine import route_position, route_svg

from . import numbering
from .auth import login_required
from .context import commit_pending, db, record_read, registry, today
from .dossiers import _dossier
from .services import DossierState, dossier_state

bp = Blueprint("routepicture", __name__)


@bp.app_template_global("route_alt")
def alt_text(state: DossierState) -> str:
    """What the picture shows, in words (the img's alt text)."""
    e = state.evaluation
    if e.outcome is not None and e.next_question is None:
        where = f"bij de uitkomst: {e.outcome.text}"
    elif e.next_question is not None and state.current.id == e.next_question.step:
        where = f"bij {e.next_question.label}: {e.next_question.text}"
    else:
        where = f"bij stap {state.current.number} ({state.current.title})"
    return (f"Stroomschema van de route ({state.protocol.title}). Blauw: de weg die dit "
            f"dossier volgde. Dit dossier staat nu {where}")


@bp.route("/dossiers/<int:dossier_id>/route.svg")
@login_required
def picture(dossier_id: int) -> Any:
    dossier = _dossier(dossier_id)
    state = dossier_state(db(), registry(), dossier, today())
    position = route_position(state.protocol, state.evaluation, frozenset(state.latest))
    text = route_svg(state.protocol, position,
                     title=f"De route van dossier {numbering.label(dossier)}. "
                           + alt_text(state))
    record_read(dossier_id=dossier.id, detail="routeplaat")
    commit_pending()
    return Response(text, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
