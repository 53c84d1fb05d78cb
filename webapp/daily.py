"""Daily work pages: Mijn taken (``/taken``) and the named people on a dossier
(``/dossiers/<id>/mensen``); ``register`` adds them, and the dossier number's filter, to
the app."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from meldroute.forms.fields import SelectChoice

from . import assignments, filters, numbering, tasks
from .access import is_coordinator, may_assign
from .assignments import AssignForm
from .auth import login_required
from .context import commit_pending, db, now, record, record_read, registry, today
from .dossiers import _dossier, _school

bp = Blueprint("daily", __name__)

TASKS_PER_PAGE = 25

ACTIONS = {  # the audit page's words for this module's actions
    "tasks.list": "takenlijst bekeken",
    "dossier.assign": "persoon aan dossier gekoppeld",
    "dossier.unassign": "persoon van dossier gehaald",
    "reminders.send": "herinneringen verstuurd",
}


def page_of(items: list[Any], per_page: int) -> tuple[list[Any], int, int]:
    """(the items of the requested ``?pagina=``, that page, the number of pages)."""
    pages = max(1, -(-len(items) // per_page))
    page = min(max(request.args.get("pagina", 1, type=int) or 1, 1), pages)
    return items[(page - 1) * per_page:page * per_page], page, pages


@bp.route("/taken")
@login_required
def my_tasks() -> Any:
    """Every open task and deadline of the signed-in person, overdue first, then by due
    date, acute dossiers on top; a coordinating role may look at everyone's (?alle=1)."""
    school = _school()
    coordinator = is_coordinator(g.user, g.school_id, registry().protocol_for(school), school)
    everyone = coordinator and request.args.get("alle") == "1"
    found = tasks.tasks_for(db(), registry(), g.user, g.school_id, today(), everyone)
    shown, page, pages = page_of(found, TASKS_PER_PAGE)
    record("tasks.list", detail=f"{len(shown)} taken" + (
        f" (pagina {page} van {pages})" if pages > 1 else ""))
    db().commit()
    return render_template("tasks.html", tasks=shown, page=page, pages=pages,
                           total=len(found), everyone=everyone, coordinator=coordinator,
                           today=today())


def _may_assign(dossier: Any) -> bool:
    """A coordinating role of the dossier's own protocol (on a route with stricter access,
    its coordinating roles only) names and removes people."""
    protocol = registry().by_digest(db(), dossier.protocol_digest)
    return may_assign(g.user, g.school_id, dossier, protocol, _school())


@bp.route("/dossiers/<int:dossier_id>/mensen", methods=["GET", "POST"])
@login_required
def people(dossier_id: int) -> Any:
    """Who is named on the dossier; a coordinating role names someone (POST)."""
    action = "dossier.assign" if request.method == "POST" else "dossier.read"
    dossier = _dossier(dossier_id, action)
    staff = assignments.staff_of(db(), g.school_id)
    staff.pop(dossier.subject_user_id or 0, None)  # never the person a dossier is about
    form = AssignForm(request.form if request.method == "POST" else None)
    form.user_id.choices = [SelectChoice("", "Kies een medewerker")] + [
        SelectChoice(str(u.id), u.display_name) for u in staff.values()]
    may_assign = _may_assign(dossier)
    status = 200
    if request.method == "POST":
        if dossier.closed_at is not None:  # read-only, like its steps and notes
            record(action, result="refused", dossier_id=dossier.id)
            db().commit()
            return render_template("error.html", title="Dossier afgesloten", message=(
                "Dit dossier is afgesloten: er kan niemand meer aan gekoppeld worden. Er "
                "is niets opgeslagen.")), 409
        if not may_assign:
            record(action, result="refused", dossier_id=dossier.id)
            db().commit()
            return render_template("error.html", title="Niet toegestaan", message=(
                "Alleen een coördinator (de IB-er of de directie) koppelt mensen aan een "
                "dossier. Er is niets opgeslagen.")), 403
        if form.check(staff):
            found = assignments.assign(db(), dossier, form, g.user)
            record(action, dossier_id=dossier.id, detail=f"{found.task} " + (
                f"gebruiker {found.user_id}" if found.user_id else "extern"))
            db().commit()
            current_app.logger.info("assigned dossier=%s assignment=%s user=%s", dossier.id,
                                    found.id, g.user.id)
            flash("De persoon is aan het dossier gekoppeld.", "ok")
            return redirect(url_for("daily.people", dossier_id=dossier.id))
        record(action, result="rejected", dossier_id=dossier.id)
        status = 400
    else:  # the page shows who is named on the dossier: audited like every read
        record_read(dossier_id=dossier.id, detail="betrokken personen")
    commit_pending()
    return render_template("people.html", dossier=dossier, form=form,
                           people=assignments.in_force(db(), dossier),
                           tasks_words=assignments.TASKS, may_assign=may_assign), status


@bp.route("/dossiers/<int:dossier_id>/mensen/<int:assignment_id>/verwijderen",
          methods=["POST"])
@login_required
def remove_person(dossier_id: int, assignment_id: int) -> Any:
    dossier = _dossier(dossier_id, "dossier.unassign")
    if not _may_assign(dossier) or dossier.closed_at is not None:
        record("dossier.unassign", result="refused", dossier_id=dossier.id)
        db().commit()
        abort(403)
    found = assignments.remove(db(), dossier, assignment_id, g.user, now())
    if found is None:
        record("dossier.unassign", result="refused", dossier_id=dossier.id)
        db().commit()
        abort(404)
    # the dossier's row first, then the audit trail's head, as every write of a dossier
    # takes them (a save: services.save_step); the other order deadlocks on PostgreSQL
    db().flush()
    record("dossier.unassign", dossier_id=dossier.id, detail=f"koppeling {found.id}")
    db().commit()
    flash("De persoon is van het dossier gehaald.", "ok")
    return redirect(url_for("daily.people", dossier_id=dossier.id))


def _aan_zet(dossier: Any, responsible: Any) -> str:
    return assignments.aan_zet(db(), dossier, tuple(responsible))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_filter(numbering.label, "dossier_label")
    app.add_template_global(numbering.label, "dossier_label")
    app.add_template_filter(_aan_zet, "aan_zet")
    filters.ACTIONS.update(ACTIONS)
