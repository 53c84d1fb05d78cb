"""Dossier pages: overview, new dossier, the dossier with its step forms, contacts."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import defer, joinedload
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from meldroute.engine import FieldDef, SchoolConfig, Step, resolve_contact
from meldroute.forms import DisplayContext, build_form, recorded_values, to_form, visible_fields
from meldroute.forms.fields import MAX_ROWS, DutchForm
from meldroute.forms.validators import NotFuture, use_today

from . import lifecycle
from .access import can_see, is_coordinator, may_act
from .auth import login_required
from .context import db, now, record, registry, today
from .filters import dutch_date
from .models import AuditEvent, Dossier, StepRecord
from .services import (
    Conflict,
    DossierState,
    close_dossier,
    create_dossier,
    dossier_state,
    flag_acute,
    record_flag,
    recorded_flags,
    save_step,
    step_history,
)
from .web_sessions import stage_web_session

bp = Blueprint("dossiers", __name__)


class NewDossierForm(DutchForm):
    pupil_initials = StringField(
        "Initialen van de leerling", validators=[
            DataRequired(), Length(max=10),
            Regexp(r"^[A-Za-zÀ-ÿ. -]+$", message="Alleen letters, punten en spaties.")],
        description="Bijvoorbeeld J.D. Zo staat de leerling in het overzicht.")
    pupil_group = StringField("Groep", validators=[DataRequired(), Length(max=20)],
                              description="Bijvoorbeeld 5b.")
    pupil_name = StringField("Volledige naam", validators=[DataRequired(), Length(max=200)],
                             description="Alleen zichtbaar op de dossierpagina.")
    pupil_birthdate = DateField("Geboortedatum", format="%Y-%m-%d",
                                validators=[Optional(), NotFuture()],
                                description="Niet verplicht. Alleen zichtbaar op de "
                                            "dossierpagina.")
    acute = BooleanField("Er is acuut gevaar",
                         description="Vink dit aan als je vreest voor de veiligheid van de "
                                     "leerling, nu of vandaag. De coördinatoren zien het "
                                     "dossier dan bovenaan hun overzicht.")


def _today() -> Any:
    return today()


def _school() -> Any:
    school = registry().school(g.school_id)
    if school is None:
        abort(404)
    return school


def _coordinator() -> bool:
    school = _school()
    return is_coordinator(g.user, g.school_id, registry().protocol_for(school),
                          school)


def _dossier(dossier_id: int, action: str = "dossier.read") -> Dossier:
    """The dossier if this user may see it; otherwise 404 (no hint), recorded as denied."""
    dossier = db().get(Dossier, dossier_id, options=[joinedload(Dossier.created_by)])
    app_registry = registry()
    allowed = dossier is not None and can_see(
        g.user, g.school_id, dossier, app_registry.by_digest(db(), dossier.protocol_digest),
        _school())
    if not allowed:
        record(action, result="denied", dossier_id=dossier_id)
        db().commit()
        current_app.logger.info("denied dossier=%s user=%s", dossier_id, g.user.id)
        abort(404)
    assert dossier is not None
    return dossier


@bp.route("/")
@login_required
def home() -> Any:
    return redirect(url_for("dossiers.overview"))


PAGE_SIZE = 50  # dossiers per page of the overview


@bp.route("/dossiers")
@login_required
def overview() -> Any:
    app_registry = registry()
    coordinator = _coordinator()
    query = select(Dossier).where(Dossier.school_id == g.school_id)
    if not coordinator:
        query = query.where(Dossier.created_by_id == g.user.id)
    total = db().scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(request.args.get("pagina", 1, type=int) or 1, 1), pages)
    # coordinators see acute dossiers first; then the newest first
    order: list[ColumnElement[Any]] = [Dossier.updated_at.desc(), Dossier.id.desc()]
    if coordinator:
        order.insert(0, Dossier.acute_at.is_(None))
    rows = db().scalars(query.options(defer(Dossier.pupil_name), defer(Dossier.pupil_birthdate))
                        .order_by(*order)
                        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    record("dossier.list", detail=f"{len(rows)} dossiers" + (
        f" (pagina {page} van {pages})" if pages > 1 else ""))
    db().commit()
    items = []
    for d in rows:
        protocol = app_registry.by_digest(db(), d.protocol_digest)
        items.append({
            "dossier": d,
            "step": protocol.step(d.current_step),
            "question": protocol.questions.get(d.next_question or ""),
            "outcome": protocol.outcomes.get(d.outcome or ""),
            "stage": lifecycle.stage_label(protocol, d.stage),
        })
    return render_template("overview.html", items=items, today=_today(), page=page,
                           pages=pages, total=total, coordinator=coordinator)


@bp.route("/dossiers/nieuw", methods=["GET", "POST"])
@login_required
def new() -> Any:
    form = NewDossierForm(request.form if request.method == "POST" else None)
    if request.method == "POST":
        unknown = sorted(set(request.form) - {"csrf_token", *form._fields})
        if form.validate() and not unknown:
            dossier = create_dossier(db(), registry(), _school(), g.user,
                                     (form.pupil_initials.data or "").strip(),
                                     (form.pupil_group.data or "").strip(),
                                     (form.pupil_name.data or "").strip(), _today(),
                                     form.pupil_birthdate.data,
                                     acute_at=now() if form.acute.data else None)
            record("dossier.create", dossier_id=dossier.id)
            if dossier.acute_at is not None:
                record("dossier.acute", dossier_id=dossier.id)
            db().commit()
            current_app.logger.info("dossier created id=%s user=%s", dossier.id, g.user.id)
            flash("Dossier aangemaakt." + (" Het is gemarkeerd als acuut gevaar."
                                           if dossier.acute_at else ""), "ok")
            return redirect(url_for("dossiers.show", dossier_id=dossier.id))
        return render_template("new.html", form=form, unknown=unknown,
                               acute=_acute_guidance()), 400
    return render_template("new.html", form=form, unknown=[], acute=_acute_guidance())


def _acute_guidance() -> Any:
    """The protocol's acute-danger guidance for this school (pages without a dossier)."""
    school = _school()
    return lifecycle.acute(registry().protocol_for(school), school)


@bp.route("/dossiers/<int:dossier_id>")
@login_required
def show(dossier_id: int) -> Any:
    dossier = _dossier(dossier_id)
    state = dossier_state(db(), registry(), dossier, _today())
    record("dossier.read", dossier_id=dossier.id, detail=state.current.id)
    db().commit()
    return _render_step(state, state.current)


def _step_or_404(state: DossierState, step_id: str) -> Step:
    step = state.protocol.steps_by_id.get(step_id)
    if step is None:
        abort(404)
    return step


@bp.route("/dossiers/<int:dossier_id>/stap/<step_id>", methods=["GET", "POST"])
@login_required
def step(dossier_id: int, step_id: str) -> Any:
    dossier = _dossier(dossier_id, "dossier.change" if request.method == "POST"
                       else "dossier.read")
    app_registry = registry()
    state = dossier_state(db(), app_registry, dossier, _today())
    step = _step_or_404(state, step_id)
    if step not in state.reachable:
        flash(f"Stap {step.number} ({step.title}) is nog niet aan de beurt.", "error")
        return redirect(url_for("dossiers.show", dossier_id=dossier.id))
    if request.method == "GET":
        record("dossier.read", dossier_id=dossier.id, detail=step.id)
        db().commit()
        return _render_step(state, step)
    if not may_act(g.user, g.school_id, step, state.protocol, state.school):
        record("dossier.change", result="refused", dossier_id=dossier.id, detail=step.id)
        db().commit()
        return render_template("error.html", title="Niet uw stap", message=(
            f"Stap {step.number} ({step.title}) legt vast wie de route daarvoor aanwijst; u "
            "kunt deze stap lezen, niet opslaan. Er is niets opgeslagen.")), 403
    if dossier.closed_at is not None:
        record("dossier.change", result="closed", dossier_id=dossier.id, detail=step.id)
        db().commit()
        return _render_step(state, step, problems=[
            "Dit dossier is afgesloten; er kan niets meer worden vastgelegd."]), 409

    form_class = build_form(state.protocol, step, state.school, state.evaluation)
    form = form_class(request.form)
    action = request.form.get("action", "save")
    if action.startswith("add:"):  # one more row in a repeatable group, nothing stored
        group = getattr(form, action[4:], None)
        if group is not None and hasattr(group, "append_entry") and \
                len(group.entries) < MAX_ROWS:
            group.append_entry()
        return _render_step(state, step, form=form)
    unknown = form.unknown_fields(request.form.keys())
    try:
        base_version = int(request.form.get("base_version", ""))
    except ValueError:
        base_version = -1
    with use_today(_today()):
        valid = form.validate()
    if unknown or not valid or base_version < 0:
        record("dossier.change", result="rejected", dossier_id=dossier.id, detail=step.id)
        db().commit()
        problems = [f"Het formulier bevat een veld dat er niet in hoort: {name}."
                    for name in unknown]
        if base_version < 0:
            problems.append("Het formulier is onvolledig; laad de pagina opnieuw.")
        return _render_step(state, step, form=form, problems=problems), 400
    return _save(state, step, form, base_version)


def _save(state: DossierState, step: Step, form: Any, base_version: int) -> Any:
    """Store a valid form: the version, the audit entry and the web session's message in
    one transaction; a conflict shows the newest version."""
    dossier = state.dossier
    dossier_id = dossier.id  # (the object expires when a conflict rolls back)
    flashes = list(session.get("_flashes", []))

    def saved() -> None:  # in the save's transaction, with the web session's message
        record("dossier.change", dossier_id=dossier.id, detail=step.id)
        flash(f"Stap {step.number} ({step.title}) is opgeslagen.", "ok")
        stage_web_session()

    try:
        save_step(db(), registry(), dossier, step, form.answers(), g.user, base_version,
                  _today(), before_commit=saved, before=state)
    except Conflict:
        session["_flashes"] = flashes  # not saved after all
        record("dossier.change", result="conflict", dossier_id=dossier_id, detail=step.id)
        db().commit()
        current_app.logger.info("conflict dossier=%s step=%s user=%s", dossier_id, step.id,
                                g.user.id)
        db().expire_all()
        fresh = dossier_state(db(), registry(), _dossier(dossier_id), _today())
        return _render_step(fresh, step, form=form, conflict=True), 409
    current_app.logger.info("step saved dossier=%s step=%s user=%s", dossier.id, step.id,
                            g.user.id)
    return redirect(url_for("dossiers.show", dossier_id=dossier.id))



@bp.route("/dossiers/<int:dossier_id>/stap/<step_id>/versie/<int:version>")
@login_required
def version(dossier_id: int, step_id: str, version: int) -> Any:
    dossier = _dossier(dossier_id)
    state = dossier_state(db(), registry(), dossier, _today())
    step = _step_or_404(state, step_id)
    found = db().scalar(select(StepRecord).where(
        StepRecord.dossier_id == dossier.id, StepRecord.step_id == step.id,
        StepRecord.version == version))
    if found is None:
        abort(404)
    record("dossier.read", dossier_id=dossier.id, detail=f"{step.id} versie {version}")
    db().commit()
    return render_template("version.html", state=state, step=step, record=found,
                           shown=recorded_fields(state, step, json.loads(found.data),
                                                 school_then(state, found)))


@bp.route("/dossiers/<int:dossier_id>/stap/<step_id>/versies")
@login_required
def versions(dossier_id: int, step_id: str) -> Any:
    """Every version of a step (the step page shows the newest and links here)."""
    dossier = _dossier(dossier_id)
    state = dossier_state(db(), registry(), dossier, _today())
    step = _step_or_404(state, step_id)
    found = step_history(db(), dossier, step.id)
    record("dossier.read", dossier_id=dossier.id, detail=f"{step.id} versies")
    db().commit()
    return render_template("versions.html", state=state, step=step, versions=found)


def school_then(state: DossierState, record: StepRecord | None) -> SchoolConfig:
    """The school's configuration when ``record`` was made (contacts as they were)."""
    if record is None or record.school_config_id is None:
        return state.school
    return registry().school_at(db(), record.school_config_id,
                                              record.board_config_id)


def recorded_fields(state: DossierState, step: Step, data: dict[str, Any],
                    school: SchoolConfig | None = None) -> list[tuple[FieldDef, Any]]:
    """(field, HTML to show) for the stored values of a step, in the step's order."""
    return recorded_values(DisplayContext(state.protocol, step, school or state.school, dutch_date),
                           data)


def _render_step(state: DossierState, step: Step, form: Any = None,
                 problems: list[str] | None = None, conflict: bool = False) -> str:
    form_class = build_form(state.protocol, step, state.school, state.evaluation)
    if form is None:
        fields = visible_fields(state.protocol, step, state.evaluation)
        form = form_class(MultiDict(), data=to_form(fields, state.data(step.id)))
    recorded = {s.id: recorded_fields(state, s, state.data(s.id),
                                      school_then(state, state.latest[s.id]))
                for s in state.protocol.steps if s.id in state.latest}
    return render_template(
        "dossier.html", state=state, step=step, form=form, problems=problems or [],
        coordinator=_coordinator(), may_close=may_close(state),
        flag_choices=lifecycle.flag_choices(state.protocol, state.evaluation,
                                            recorded_flags(state.dossier)),
        conflict=conflict, recorded=recorded,
        base_version=state.version(step.id), e=state.evaluation, today_=_today())


@bp.route("/dossiers/<int:dossier_id>/afsluiten", methods=["POST"])
@login_required
def close(dossier_id: int) -> Any:
    dossier = _dossier(dossier_id, "dossier.close")
    state = dossier_state(db(), registry(), dossier, _today())
    if not _coordinator() or not may_close(state):
        record("dossier.close", result="refused", dossier_id=dossier.id)
        db().commit()
        flash("Dit dossier kan (nog) niet worden afgesloten.", "error")
        return redirect(url_for("dossiers.show", dossier_id=dossier.id))
    close_dossier(db(), registry(), dossier, now(), _today(),
                  before_commit=lambda: record("dossier.close", dossier_id=dossier.id))
    flash("Het dossier is afgesloten.", "ok")
    return redirect(url_for("dossiers.show", dossier_id=dossier.id))


def may_close(state: DossierState) -> bool:
    """Closing is offered where the route has come to its end."""
    return state.finished and state.dossier.closed_at is None


@bp.route("/dossiers/<int:dossier_id>/feit", methods=["POST"])
@login_required
def record_fact(dossier_id: int) -> Any:
    """Record one of the protocol's flags that is in play (e.g. Veilig Thuis's response)."""
    dossier = _dossier(dossier_id, "dossier.change")
    state = dossier_state(db(), registry(), dossier, _today())
    name, value = request.form.get("flag", ""), request.form.get("value", "")
    if not record_flag(db(), registry(), state, name, value, _today(),
                       before_commit=lambda: record("dossier.change", dossier_id=dossier.id,
                                                    detail=name)):
        record("dossier.change", result="refused", dossier_id=dossier.id, detail=name[:60])
        db().commit()
        flash("Dit kan nu niet worden vastgelegd; kies een van de mogelijkheden.", "error")
        return redirect(url_for("dossiers.show", dossier_id=dossier.id)), 400
    flash("Vastgelegd.", "ok")
    return redirect(url_for("dossiers.show", dossier_id=dossier.id))


@bp.route("/dossiers/<int:dossier_id>/acuut", methods=["POST"])
@login_required
def flag_as_acute(dossier_id: int) -> Any:
    """Anyone who may see the dossier flags it as acute danger, at any step."""
    dossier = _dossier(dossier_id, "dossier.acute")
    if flag_acute(db(), registry(), dossier, g.user, now(), _today(),
                  before_commit=lambda: record("dossier.acute", dossier_id=dossier.id)):
        current_app.logger.info("dossier flagged acute id=%s user=%s", dossier.id, g.user.id)
        flash("Het dossier is gemarkeerd als acuut gevaar. Bel 112 of Veilig Thuis als je "
              "dat nog niet hebt gedaan, en informeer daarna de directie.", "ok")
    return redirect(url_for("dossiers.show", dossier_id=dossier.id))


@bp.route("/dossiers/<int:dossier_id>/logboek")
@login_required
def audit_log(dossier_id: int) -> Any:
    dossier = _dossier(dossier_id, "audit.read")
    if not _coordinator():
        record("audit.read", result="denied", dossier_id=dossier.id)
        db().commit()
        abort(404)
    events = db().scalars(select(AuditEvent).where(AuditEvent.dossier_id == dossier.id)
                          .order_by(AuditEvent.seq.desc())).all()
    record("audit.read", dossier_id=dossier.id)
    db().commit()
    return render_template("audit.html", dossier=dossier, events=events,
                           acute=_acute_guidance())


@bp.route("/contacten")
@login_required
def contacts() -> Any:
    school = _school()
    protocol = registry().protocol_for(school)
    keys = list(dict.fromkeys([*protocol.contacts, *school.contacts]))
    rows = [(resolve_contact(protocol, school, k), school.contacts.get(k)) for k in keys]
    return render_template("contacts.html", school=school, rows=rows,
                           acute=_acute_guidance())
