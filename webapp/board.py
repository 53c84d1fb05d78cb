"""The board's pages: its schools with anonymous counts, and its default settings.

Board admins (``bestuursadmin``) see their schools' configurations and counts of
dossiers per step, per outcome and overdue — never a dossier's content or a pupil.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import func, or_, select

from meldroute.engine import data_document

from . import school_configs
from .auth import signed_in_required
from .context import db, forget_schools, record, registry, today
from .models import Dossier
from .schemaforms import place_errors, plain_message, values
from .schooladmin_forms import ContactForm, reason_too_long

bp = Blueprint("board", __name__, url_prefix="/besturen/<board_id>")


def _guard(board_id: str) -> dict[str, Any]:
    if board_id not in g.user.boards:
        record("board.read", result="denied", detail=board_id[:40])
        db().commit()
        abort(404)
    return school_configs.data_of(school_configs.latest(db(), school_configs.BOARD, board_id))


@bp.route("")
@signed_in_required
def home(board_id: str) -> Any:
    data = _guard(board_id)
    rows = []
    for school_id in school_configs.schools_of_board(db(), board_id):
        school = registry().school(school_id)
        if school is None:
            continue
        open_ = Dossier.closed_at.is_(None)
        for protocol in registry().protocols_for(school):  # counts per route, no content
            mine = Dossier.protocol_id == protocol.id
            if protocol.id == school.protocol:
                mine = or_(mine, Dossier.protocol_id.is_(None))
            by_step = dict(db().execute(select(Dossier.current_step, func.count()).where(
                Dossier.school_id == school_id, mine, open_)
                .group_by(Dossier.current_step)).all())
            by_outcome = dict(db().execute(select(Dossier.outcome, func.count()).where(
                Dossier.school_id == school_id, mine, Dossier.outcome.is_not(None))
                .group_by(Dossier.outcome)).all())
            overdue = db().scalar(select(func.count()).select_from(Dossier).where(
                Dossier.school_id == school_id, mine, open_,
                Dossier.next_deadline < today())) or 0
            rows.append({"school": school, "protocol": protocol, "by_step": by_step,
                         "by_outcome": by_outcome, "overdue": overdue})
    record("board.read", detail=board_id)
    db().commit()
    contacts = data.get("contacts", {})
    return render_template("board.html", board_id=board_id, data=data, rows=rows,
                           contacts=contacts)


@bp.route("/contacten/<key>", methods=["GET", "POST"])
@signed_in_required
def contact(board_id: str, key: str) -> Any:
    data = _guard(board_id)
    current = data.get("contacts", {}).get(key, {})
    if request.method == "GET":
        return render_template("board_contact.html", board_id=board_id, key=key,
                               form=ContactForm(data=current), problems=[])
    form: Any = ContactForm(request.form)
    contacts = {**data.get("contacts", {}), key: values(form)}
    new = {**data, "contacts": contacts}
    problems = school_configs.check_board(db(), registry().protocols,
                                          data_document(new, f"{board_id}.yaml"))
    if problems or reason_too_long(form):
        rest = place_errors(form, problems, ("contacts", key))
        return render_template("board_contact.html", board_id=board_id, key=key, form=form,
                               problems=rest), 400
    version = school_configs.save(db(), school_configs.BOARD, board_id, new,
                                  g.user.username, form.reason.data or "gewijzigd")
    record("board.config", detail=f"{board_id} versie {version.version}")
    db().commit()
    forget_schools()
    flash("Standaardinstelling van het bestuur opgeslagen (nieuwe versie).", "ok")
    return redirect(url_for("board.home", board_id=board_id))



@bp.route("/contacten/<key>/verwijderen", methods=["GET", "POST"])
@signed_in_required
def remove_contact(board_id: str, key: str) -> Any:
    """GET: what removing the board's default contact means, with a confirm button;
    POST: remove it (a new version)."""
    data = _guard(board_id)
    contact = data.get("contacts", {}).get(key)
    if contact is None:
        abort(404)
    name = contact.get("name", key)
    if request.method == "GET":
        return render_template(
            "settings/confirm.html", title=f"Standaardcontact {name} verwijderen",
            back=url_for("board.home", board_id=board_id),
            button="Ja, verwijder dit standaardcontact", items=[
                f"{name} is dan geen standaardcontact van het bestuur meer.",
                "Scholen die dit contact van het bestuur overnemen, hebben het daarna niet "
                "meer (tenzij ze het zelf hebben ingesteld).",
                "De huidige instellingen blijven bewaard als versie."])
    new = {**data, "contacts": {k: v for k, v in data["contacts"].items() if k != key}}
    if not new["contacts"]:
        del new["contacts"]
    problems = school_configs.check_board(db(), registry().protocols,
                                          data_document(new, f"{board_id}.yaml"))
    if problems:
        for p in problems:
            flash(plain_message(p.message), "error")
        return redirect(url_for("board.home", board_id=board_id))
    version = school_configs.save(db(), school_configs.BOARD, board_id, new,
                                  g.user.username, f"standaardcontact {name} verwijderd")
    record("board.config", detail=f"{board_id} versie {version.version}")
    db().commit()
    forget_schools()
    flash("Standaardcontact verwijderd (nieuwe versie).", "ok")
    return redirect(url_for("board.home", board_id=board_id))
