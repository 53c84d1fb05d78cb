"""Dossier pages: overview, new dossier, the dossier with its step forms, contacts."""

from __future__ import annotations

import functools
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
from markupsafe import Markup
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import defer, joinedload
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from meldroute.engine import FieldDef, SchoolConfig, Step, resolve_contact
from meldroute.forms import DisplayContext, build_form, recorded_values, to_form
from meldroute.forms.fields import MAX_ROWS, DutchForm
from meldroute.forms.validators import NotFuture, use_today

from . import duplicates, lifecycle, pagecache, search
from .access import can_see, is_coordinator, may_act, staff_route, visible_dossiers
from .auth import login_required
from .changes import field_changes
from .context import commit_pending, db, now, record, record_read, registry, today
from .decisions import freeze
from .filters import dutch_date
from .memo import BoundedCache
from .models import (
    AuditEvent,
    Dossier,
    DossierAssignment,
    DossierDecision,
    Membership,
    StepRecord,
    User,
)
from .numbering import label
from .services import (
    Conflict,
    DossierState,
    close_dossier,
    create_dossier,
    dossier_state,
    evaluation_with,
    flag_acute,
    record_flag,
    recorded_flags,
    reopen_dossier,
    save_step,
    step_history,
    unflag_acute,
)
from .web_sessions import stage_web_session

bp = Blueprint("dossiers", __name__)


class NewDossierForm(DutchForm):
    route = RadioField("Waar gaat je zorg over?", validators=[Optional()])
    pupil_initials = StringField(
        "Initialen van de leerling", validators=[
            DataRequired(), Length(max=10),
            Regexp(r"^[A-Za-zÀ-ÿ. -]+\Z", message="Alleen letters, punten en spaties.")],
        description="Bijvoorbeeld J.D. Zo staat de leerling in het overzicht.")
    pupil_group = StringField("Groep", validators=[DataRequired(), Length(max=20)],
                              description="Bijvoorbeeld 5b.")
    pupil_name = StringField("Volledige naam", validators=[DataRequired(), Length(max=200)],
                             description="Alleen zichtbaar op de dossierpagina.")
    pupil_birthdate = DateField("Geboortedatum", format="%Y-%m-%d",
                                validators=[Optional(), NotFuture()],
                                description="Niet verplicht. Alleen zichtbaar op de "
                                            "dossierpagina.")
    subject = SelectField(
        "Over welke medewerker gaat het?", validators=[Optional()], validate_choice=True,
        description="Alleen bij een zorg over een medewerker. Die persoon ziet het dossier "
                    "nooit, welke rol die ook heeft; alleen het bevoegd gezag en jij zien het.")
    linked = SelectField(
        "Koppelen aan een ander dossier", validators=[Optional()], validate_choice=True,
        description="Niet verplicht. Bijvoorbeeld een Meldcode-dossier over dezelfde "
                    "leerling.")
    acute = BooleanField("Er is acuut gevaar",
                         description="Vink dit aan als je vreest voor de veiligheid van de "
                                     "leerling, nu of vandaag. De coördinatoren zien het "
                                     "dossier dan bovenaan hun overzicht.")


NO_ACCOUNT = "geen"  # the staff member has no account (a volunteer, a driver)


def _new_form() -> NewDossierForm:
    """The new-dossier form with this school's routes, staff and dossiers as choices; the
    route question only when the school follows several, the staff member only when one
    of them is about a person."""
    school = _school()
    protocols = registry().protocols_for(school)
    form = NewDossierForm(request.form if request.method == "POST" else None)
    form.route.choices = [(p.id, p.choice or p.title) for p in protocols]
    if request.method == "GET":
        form.route.data = protocols[0].id
        form.linked.data = request.args.get("koppel", "")
    if len(protocols) == 1:
        del form.route
    if any(staff_route(p) for p in protocols):
        staff = db().execute(select(User.id, User.display_name).join(Membership).where(
            Membership.school_id == g.school_id, User.active.is_(True), User.id != g.user.id)
            .distinct().order_by(User.display_name)).all()
        form.subject.choices = [("", "Kies de medewerker"), (NO_ACCOUNT, (
            "Iemand zonder account in Meldroute (bijvoorbeeld een vrijwilliger of chauffeur)"))
        ] + [(str(i), name) for i, name in staff]
    else:
        del form.subject
    seen = db().execute(select(Dossier.id, Dossier.pupil_initials, Dossier.pupil_group,
                               Dossier.number_year, Dossier.number_seq,
                               Dossier.number_series).where(
        Dossier.school_id == g.school_id, visible_dossiers(
            g.user, g.school_id, registry().protocols, school)).order_by(Dossier.id.desc())
        .limit(200)).all()
    form.linked.choices = [("", "Geen")] + [
        (str(row.id), f"Dossier {label(row)}: {row.pupil_initials} (groep {row.pupil_group})")
        for row in seen]
    return form


def _new_choices(form: NewDossierForm) -> tuple[Any, int | None, int | None] | None:
    """The route, the staff member and the linked dossier chosen; None (with the error
    next to the field) when the route is about a person and nobody is chosen."""
    school = _school()
    protocol = registry().protocol_for(school)
    if "route" in form and form.route.data in registry().protocols:
        protocol = registry().protocols[form.route.data]
    subject = form.subject.data if "subject" in form else ""
    if not staff_route(protocol):
        subject = NO_ACCOUNT
    elif not subject:
        form.subject.errors = ["Kies de medewerker over wie het gaat, of 'iemand zonder "
                               "account'."]
        return None
    if subject != NO_ACCOUNT and not str(subject).isdigit():
        return None  # not one of the choices: the form says so
    linked = int(form.linked.data) if (form.linked.data or "").isdigit() else None
    return protocol, (None if subject == NO_ACCOUNT else int(subject)), linked


def _today() -> Any:
    return today()


def _school() -> Any:
    school = registry().school(g.school_id)
    if school is None:
        abort(404)
    return school


def _coordinator(protocol: Any = None) -> bool:
    """A coordinating role in ``protocol`` (a dossier's route; default the school's main)."""
    school = _school()
    return is_coordinator(g.user, g.school_id, protocol or registry().protocol_for(school),
                          school)


_DOSSIER_LOADS = (joinedload(Dossier.created_by),
                  joinedload(Dossier.decisions).joinedload(DossierDecision.author),
                  joinedload(Dossier.assignments).joinedload(DossierAssignment.user)
                  .joinedload(User.memberships),
                  joinedload(Dossier.linked_from).defer(Dossier.pupil_name),
                  joinedload(Dossier.linked_to).defer(Dossier.pupil_name))


@functools.lru_cache(maxsize=8)  # one per set of loads: building it costs more than running it
def _dossier_query(loads: tuple[Any, ...]) -> Select[Dossier]:
    return select(Dossier).options(*loads).where(Dossier.id == bindparam("id"))


def _fetch_dossier(dossier_id: int, loads: tuple[Any, ...]) -> Dossier | None:
    return db().execute(_dossier_query(loads), {"id": dossier_id}).unique().scalar_one_or_none()


def _dossier(dossier_id: int, action: str = "dossier.read",
             loads: tuple[Any, ...] = _DOSSIER_LOADS) -> Dossier:
    """The dossier if this user may see it; otherwise 404 (no hint), recorded as denied.
    ``loads``: what is read with it (a save needs none of it unless its page is shown
    again, which then reads what it shows)."""
    dossier = _fetch_dossier(dossier_id, loads)
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
    """The school's dossiers this user may see: open ones, or closed ones in the archive
    tab (?archief=1), with search, filters and sorting (``search``), a page at a time."""
    app_registry = registry()
    coordinator = _coordinator()
    filters = search.read(request.args, app_registry.protocol_for(_school()).stages)
    query = select(Dossier).where(Dossier.school_id == g.school_id)
    # the ones they opened, were named on, or coordinate (never one about themselves)
    query = query.where(visible_dossiers(g.user, g.school_id, app_registry.protocols,
                                         _school()))
    responsible = _responsible_choices(query)
    query = search.apply(query, filters, _today())
    total = db().scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(request.args.get("pagina", 1, type=int) or 1, 1), pages)
    # coordinators see acute dossiers first (open ones); then as sorted
    rows = db().scalars(query.options(defer(Dossier.pupil_name), defer(Dossier.pupil_birthdate))
                        .order_by(*search.order(filters, coordinator and not filters.archive))
                        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    record("dossier.list", detail=f"{len(rows)} dossiers" + (" archief" if filters.archive
                                                               else "") + (
        f" (pagina {page} van {pages})" if pages > 1 else ""))
    db().commit()
    items = []
    for d in rows:
        protocol = app_registry.by_digest(db(), d.protocol_digest)
        items.append({
            "dossier": d,
            "step": protocol.step(d.current_step),
            # the open question only where the rules have the dossier at its step (not
            # in acute danger, not while steps 1-3 are open), as on the dossier page
            "question": _asked_now(protocol, d),
            "outcome": protocol.outcomes.get(d.outcome or ""),
            "stage": lifecycle.stage_label(protocol, d.stage),
        })
    return render_template("overview.html", items=items, today=_today(), page=page,
                           pages=pages, total=total, coordinator=coordinator, filters=filters,
                           sorts=search.SORTS, responsible=responsible,
                           stages=app_registry.protocol_for(_school()).stages,
                           possible_duplicates=duplicates.recent(db(), g.school_id)
                           if coordinator else [])


def _responsible_choices(query: Any) -> list[str]:
    """The roles (and people) aan zet in these dossiers, for the filter's choices."""
    found = db().scalars(query.with_only_columns(Dossier.responsible).distinct()).all()
    return sorted({part.strip() for value in found for part in (value or "").split(",")
                   if part.strip()})


def _asked_now(protocol: Any, dossier: Dossier) -> Any:
    question = protocol.questions.get(dossier.next_question or "")
    if question is None or question.step != dossier.current_step or dossier.closed_at:
        return None
    return question


@bp.route("/dossiers/nieuw", methods=["GET", "POST"])
@login_required
def new() -> Any:
    form = _new_form()
    if request.method == "POST":
        unknown = sorted(set(request.form) - {"csrf_token", *form._fields})
        valid = form.validate() and not unknown
        chosen = _new_choices(form)  # (also says when the staff member is missing)
        if valid and chosen is not None:
            protocol, subject_id, linked_id = chosen
            dossier = create_dossier(db(), registry(), _school(), g.user,
                                     (form.pupil_initials.data or "").strip(),
                                     (form.pupil_group.data or "").strip(),
                                     (form.pupil_name.data or "").strip(), _today(),
                                     form.pupil_birthdate.data,
                                     acute_at=now() if form.acute.data else None,
                                     protocol=protocol, subject_id=subject_id,
                                     linked_id=linked_id)
            record("dossier.create", dossier_id=dossier.id, detail=protocol.id)
            if not staff_route(protocol):  # never for a dossier about a staff member
                duplicates.warn(dossier)  # the same pupil already open?
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


def _kept_page(dossier_id: int) -> tuple[Any, str | None]:
    """The key of this request's page of the dossier, and the page if it is kept (its
    read audited and committed; ``pagecache``)."""
    key = pagecache.key_of(dossier_id)
    page = pagecache.serve(dossier_id, key)
    if page is not None:
        commit_pending()
    return key, page


@bp.route("/dossiers/<int:dossier_id>")
@login_required
def show(dossier_id: int) -> Any:
    key, page = _kept_page(dossier_id)
    if page is not None:
        return page
    dossier = _dossier(dossier_id)
    state = dossier_state(db(), registry(), dossier, _today())
    record_read(dossier_id=dossier.id, detail=state.current.id)
    commit_pending()
    return pagecache.keep(key, state.current.id,
                          lambda **kept: _render_step(state, state.current, **kept))


def _step_or_404(state: DossierState, step_id: str) -> Step:
    step = state.protocol.steps_by_id.get(step_id)
    if step is None:
        abort(404)
    return step


@bp.route("/dossiers/<int:dossier_id>/stap/<step_id>", methods=["GET", "POST"])
@login_required
def step(dossier_id: int, step_id: str) -> Any:
    key, page = _kept_page(dossier_id) if request.method == "GET" else (None, None)
    if page is not None:
        return page
    dossier = _dossier(dossier_id, *(("dossier.change", ()) if request.method == "POST"
                                     else ("dossier.read", _DOSSIER_LOADS)))
    app_registry = registry()
    state = dossier_state(db(), app_registry, dossier, _today(),
                          authors=request.method == "GET")
    step = _step_or_404(state, step_id)
    if step not in state.reachable:
        flash(f"Stap {step.number} ({step.title}) is nog niet aan de beurt.", "error")
        return redirect(url_for("dossiers.show", dossier_id=dossier.id))
    if request.method == "GET":
        record_read(dossier_id=dossier.id, detail=step.id)
        commit_pending()
        return pagecache.keep(key, step.id, lambda **kept: _render_step(state, step, **kept))
    if not may_act(g.user, g.school_id, step, state.protocol, state.school, state.dossier):
        record("dossier.change", result="refused", dossier_id=dossier.id, detail=step.id)
        db().commit()
        return render_template("error.html", title="Niet jouw stap", message=(
            f"Stap {step.number} ({step.title}) legt vast wie de route daarvoor aanwijst; je "
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
        # the page shows the dossier's content: audited like every read
        record_read(dossier_id=dossier.id, detail=f"{step.id} regel toevoegen")
        commit_pending()
        return _render_step(state, step, form=form)
    unknown = form.unknown_fields(request.form.keys())
    try:
        base_version = int(request.form.get("base_version", ""))
    except ValueError:
        base_version = -1
    with use_today(_today()):
        valid = form.validate()
    if valid and not unknown:  # the answer the route reaches with these answers
        valid = form.check_route(evaluation_with(app_registry, state, step, form.answers(),
                                                 _today()))
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
        # this step has a newer version, or the dossier changed otherwise (a flag, another
        # step, another protocol version): the save's guard is the dossier's row version
        conflict = "stap" if fresh.version(step.id) != base_version else "dossier"
        return _render_step(fresh, step, form=form, conflict=conflict), 409
    current_app.logger.info("step saved dossier=%s step=%s user=%s", dossier.id, step.id,
                            g.user.id)
    return redirect(url_for("dossiers.show", dossier_id=dossier.id))



@bp.route("/dossiers/<int:dossier_id>/stap/<step_id>/versie/<int:version>")
@login_required
def version(dossier_id: int, step_id: str, version: int) -> Any:
    """One version of a step, and what it changed compared with the version before."""
    dossier = _dossier(dossier_id)
    state = dossier_state(db(), registry(), dossier, _today())
    step = _step_or_404(state, step_id)
    found = _step_version(dossier, step, version)
    if found is None:
        abort(404)
    shown = _shown(state, step, found)
    before = _step_version(dossier, step, version - 1) if version > 1 else None
    changes = field_changes(_shown(state, step, before), shown) if before else None
    record_read(dossier_id=dossier.id, detail=f"{step.id} versie {version}")
    commit_pending()
    return render_template("version.html", state=state, step=step, record=found,
                           shown=shown, changes=changes)


def _step_version(dossier: Dossier, step: Step, version: int) -> StepRecord | None:
    return db().scalar(select(StepRecord).where(
        StepRecord.dossier_id == dossier.id, StepRecord.step_id == step.id,
        StepRecord.version == version))


def _shown(state: DossierState, step: Step, found: StepRecord | None
           ) -> list[tuple[FieldDef, Any]]:
    if found is None:
        return []
    return recorded_fields(state, step, json.loads(found.data), school_then(state, found))


@bp.route("/dossiers/<int:dossier_id>/stap/<step_id>/versies")
@login_required
def versions(dossier_id: int, step_id: str) -> Any:
    """Every version of a step (the step page shows the newest and links here), and what
    changed between two of them (?a=1&b=2; by default the last two), field by field."""
    dossier = _dossier(dossier_id)
    state = dossier_state(db(), registry(), dossier, _today())
    step = _step_or_404(state, step_id)
    found = step_history(db(), dossier, step.id)
    numbers = [r.version for r in found]
    try:
        a = int(request.args.get("a", numbers[1] if len(numbers) > 1 else 0))
        b = int(request.args.get("b", numbers[0] if numbers else 0))
    except ValueError:
        abort(400)
    changes = None
    if a and b:
        if a not in numbers or b not in numbers:  # no such version (nor a number too big)
            abort(404)
        old, new = _step_version(dossier, step, a), _step_version(dossier, step, b)
        if old is None or new is None:
            abort(404)
        changes = field_changes(_shown(state, step, old), _shown(state, step, new))
    record_read(dossier_id=dossier.id, detail=f"{step.id} versies")
    commit_pending()
    return render_template("versions.html", state=state, step=step, versions=found,
                           changes=changes, a=a, b=b)


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
                 problems: list[str] | None = None, conflict: str = "",
                 **context: Any) -> str:
    form_class = build_form(state.protocol, step, state.school, state.evaluation)
    recorded = {s.id: recorded_fields(state, s, state.data(s.id),
                                      school_then(state, state.latest[s.id]))
                for s in state.protocol.steps if s.id in state.latest}
    questions = lifecycle.question_views(
        state.protocol, [(f.id, f.question) for f in form_class.field_defs
                         if f.type == "answer" and f.question], state.evaluation)
    fields_html = _fields_html(form_class, state.data(step.id), questions, form)
    user, school_id = g.user, g.school_id
    return render_template(
        "dossier.html", state=state, step=step, form=form, problems=problems or [],
        fields_html=fields_html,
        coordinator=_coordinator(state.protocol), may_close=may_close(state),
        may_save=may_act(user, school_id, step, state.protocol, state.school, state.dossier),
        flag_choices=lifecycle.flag_choices(state.protocol, state.evaluation,
                                            recorded_flags(state.dossier))
        if may_act(user, school_id, state.current, state.protocol, state.school,
                   state.dossier) else [],
        conflict=conflict, recorded=recorded, questions=questions,
        route_answers=json.dumps(dict(state.evaluation.used)),
        decisions=state.dossier.decisions,
        base_version=state.version(step.id), e=state.evaluation, today_=_today(),
        links=linked_dossiers(state.dossier), **context)


def linked_dossiers(dossier: Dossier) -> list[Dossier]:
    """The dossiers linked to ``dossier`` (either way) that this user may see (read with
    the dossier: no statement of its own)."""
    app_registry, school = registry(), _school()
    found = [d for d in [dossier.linked_to, *dossier.linked_from] if d is not None]
    return [d for d in found if can_see(g.user, g.school_id, d, app_registry.by_digest(
        db(), d.protocol_digest), school)]


# The markup of a fresh step form (no errors, the recorded values): it depends only on
# the form class (protocol digest, step, school configuration digest, the fields shown),
# the values and the route's view of the questions, which are all in the key. No CSRF
# token or anything of the user is in it (dossier.html adds those).
FIELDS_HTML: BoundedCache[tuple[Any, ...], Markup] = BoundedCache(512)


def _fields_html(form_class: Any, data: dict[str, Any], questions: dict[str, Any],
                 form: Any = None) -> Markup:
    """The step form's fields; a posted form (with its errors) is rendered every time."""
    template = current_app.jinja_env.get_template("_step_fields.html")
    if form is not None:
        return Markup(template.render(form=form, questions=questions))
    values = to_form(form_class.field_defs, data)

    def render() -> Markup:
        return Markup(template.render(form=form_class(data=values), questions=questions))

    key = (form_class, freeze(values), repr(sorted(questions.items())))
    return FIELDS_HTML.get(key, render)


class ReasonForm(DutchForm):
    reason = TextAreaField("Reden", validators=[DataRequired(), Length(max=2000)])


# what a decision about the dossier itself means: (audit action, page text, service)
DECISIONS: dict[str, dict[str, Any]] = {
    "close": {
        "action": "dossier.close", "title": "Dossier afsluiten", "button": "Dossier afsluiten",
        "done": "Het dossier is afgesloten.",
        "means": ["Na het afsluiten is het dossier alleen nog te lezen: niemand kan er "
                  "nog iets in vastleggen.",
                  "De bewaartermijn van de school begint te lopen; daarna wordt het "
                  "dossier verwijderd.",
                  "Een coördinator kan het dossier weer openen, met een reden."],
        "help": "Waarom sluit je het dossier nu? Bijvoorbeeld: de nazorg is vastgelegd en "
                "er is niets meer te doen.",
    },
    "reopen": {
        "action": "dossier.reopen", "title": "Dossier weer openen",
        "button": "Dossier weer openen", "done": "Het dossier is weer geopend.",
        "means": ["Het dossier is daarna weer te bewerken; de route gaat verder waar "
                  "ze was.", "De bewaartermijn stopt tot het dossier opnieuw wordt "
                  "afgesloten."],
        "help": "Waarom open je het dossier weer? Bijvoorbeeld: er zijn nieuwe signalen.",
    },
    "acute_off": {
        "action": "dossier.acute_off", "title": "Markering acuut gevaar opheffen",
        "button": "Markering opheffen", "done": "De markering acuut gevaar is opgeheven.",
        "means": ["Het dossier staat dan niet meer bovenaan het overzicht van de "
                  "coördinatoren en volgt weer de gewone route."],
        "help": "Waarom is er geen acuut gevaar (meer)? Bijvoorbeeld: ten onrechte "
                "aangevinkt, of de melding is gedaan en de leerling is veilig.",
    },
}


def _allowed(kind: str, state: DossierState) -> bool:
    dossier = state.dossier
    if not _coordinator(state.protocol):
        return False
    if kind == "close":
        return may_close(state)
    if kind == "reopen":
        return dossier.closed_at is not None
    return dossier.acute_at is not None and dossier.closed_at is None


def _decision(dossier_id: int, kind: str) -> Any:
    """The confirmation page of a decision about the dossier (GET), and the decision
    with its reason (POST); only for a coordinating role, only when it is allowed now."""
    what = DECISIONS[kind]
    dossier = _dossier(dossier_id, what["action"])
    state = dossier_state(db(), registry(), dossier, _today())
    if not _allowed(kind, state):
        record(what["action"], result="refused", dossier_id=dossier.id)
        db().commit()
        flash("Dit kan nu niet bij dit dossier.", "error")
        return redirect(url_for("dossiers.show", dossier_id=dossier.id))
    form = ReasonForm(request.form if request.method == "POST" else None)
    form.reason.description = what["help"]
    if request.method == "POST":
        if form.validate():
            act = {"close": close_dossier, "reopen": reopen_dossier,
                   "acute_off": unflag_acute}[kind]
            act(db(), registry(), dossier, g.user, (form.reason.data or "").strip(), now(),
                _today(), before_commit=lambda: record(what["action"], dossier_id=dossier.id))
            current_app.logger.info("%s dossier=%s user=%s", what["action"], dossier.id,
                                    g.user.id)
            flash(what["done"], "ok")
            return redirect(url_for("dossiers.show", dossier_id=dossier.id))
        record(what["action"], result="rejected", dossier_id=dossier.id)
    else:
        record_read(dossier_id=dossier.id, detail=what["title"].lower())
    commit_pending()
    page = render_template("decision.html", dossier=dossier, state=state, form=form,
                           what=what, kind=kind, e=state.evaluation)
    return page, 400 if form.errors else 200


@bp.route("/dossiers/<int:dossier_id>/afsluiten", methods=["GET", "POST"])
@login_required
def close(dossier_id: int) -> Any:
    return _decision(dossier_id, "close")


@bp.route("/dossiers/<int:dossier_id>/heropenen", methods=["GET", "POST"])
@login_required
def reopen(dossier_id: int) -> Any:
    return _decision(dossier_id, "reopen")


@bp.route("/dossiers/<int:dossier_id>/acuut-opheffen", methods=["GET", "POST"])
@login_required
def unflag(dossier_id: int) -> Any:
    return _decision(dossier_id, "acute_off")


def may_close(state: DossierState) -> bool:
    """Closing is offered only in a stage where the rules allow it (``may_close``)."""
    stage = state.protocol.stages.get(state.evaluation.stage or "")
    return stage is not None and stage.may_close and state.dossier.closed_at is None


@bp.route("/dossiers/<int:dossier_id>/feit", methods=["POST"])
@login_required
def record_fact(dossier_id: int) -> Any:
    """Record one of the protocol's flags that is in play (e.g. Veilig Thuis's response)."""
    dossier = _dossier(dossier_id, "dossier.change")
    state = dossier_state(db(), registry(), dossier, _today())
    name, value = request.form.get("flag", ""), request.form.get("value", "")
    if not may_act(g.user, g.school_id, state.current, state.protocol, state.school,
                   state.dossier):
        record("dossier.change", result="refused", dossier_id=dossier.id, detail=name[:60])
        db().commit()
        return render_template("error.html", title="Niet jouw stap", message=(
            f"Dit legt wie stap {state.current.number} ({state.current.title}) doet vast; je "
            "kunt het lezen, niet vastleggen. Er is niets vastgelegd.")), 403
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
    if not _coordinator(registry().by_digest(db(), dossier.protocol_digest)):
        record("audit.read", result="denied", dossier_id=dossier.id)
        db().commit()
        abort(404)
    events = db().scalars(select(AuditEvent).where(AuditEvent.dossier_id == dossier.id)
                          .order_by(AuditEvent.seq.desc())).all()
    ids = {e.actor_id for e in events if e.actor_id is not None}
    names = dict(db().execute(select(User.id, User.display_name).where(User.id.in_(ids)))
                 .all()) if ids else {}
    protocol = registry().by_digest(db(), dossier.protocol_digest)
    record("audit.read", dossier_id=dossier.id)
    db().commit()
    return render_template("audit.html", dossier=dossier, events=events, names=names,
                           protocol=protocol, acute=_acute_guidance())


@bp.route("/contacten")
@login_required
def contacts() -> Any:
    school = _school()
    protocol = registry().protocol_for(school)
    keys = list(dict.fromkeys([*protocol.contacts, *school.contacts]))
    rows = [(resolve_contact(protocol, school, k), school.contacts.get(k)) for k in keys]
    return render_template("contacts.html", school=school, rows=rows,
                           acute=_acute_guidance())
