"""A dossier's timeline: one chronology of everything that happened (steps saved, with
their weighing answers and version links; decisions; deadlines; assignments; acute flags;
notes), and notes: dated entries anyone who may see the dossier adds, never changed (a
correction is a new note that names the one it corrects), encrypted like the rest of the
dossier and audited (the action, never the text)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from meldroute.forms.fields import DutchForm, SelectChoice

from . import numbering
from .auth import login_required
from .context import commit_pending, db, now, record, record_read, registry, today
from .dossiers import _dossier
from .filters import SCHOOL_TIME, dutch_date
from .models import AuditEvent, DossierNote, StepRecord, User
from .services import DossierState, dossier_state, state_of

bp = Blueprint("timeline", __name__)

# audit entries that belong in the chronology (what was done, by whom; never content):
# action -> the words the timeline shows
AUDITED = {
    "dossier.assign": "Persoon aan het dossier toegewezen",
    "dossier.unassign": "Toewijzing beëindigd",
    "dossier.acute": "Gemarkeerd als acuut gevaar",
    "dossier.export": "Dossier geëxporteerd",
}
DECIDED = {"close": "Dossier afgesloten", "reopen": "Dossier weer geopend",
           "acute_off": "Markering acuut gevaar opgeheven"}
NOTE_MAX = 4000


@dataclass(frozen=True)
class Entry:
    at: dt.datetime  # aware
    kind: str  # start, stap, besluit, termijn, notitie, logboek
    title: str
    who: str = ""
    text: str = ""  # content: a note, a reason, the weighing answers of a version
    link: str = ""  # the version of a step
    number: int | None = None  # a note's number within the dossier
    corrects: int | None = None  # the number of the note it corrects
    late: bool = False  # a deadline that passed (or was met after it passed)
    still_open: bool = False  # a deadline the rules still set


def aware(moment: dt.datetime) -> dt.datetime:
    """Stored times are UTC; SQLite gives them back without a zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def notes_of(db_session: Session, dossier_id: int) -> list[DossierNote]:
    return list(db_session.scalars(
        select(DossierNote).options(joinedload(DossierNote.author))
        .where(DossierNote.dossier_id == dossier_id).order_by(DossierNote.id)))


def _answers(state: DossierState, record_: StepRecord) -> str:
    """The weighing answers a version of a step gave, in words ("Vraag 1: ja")."""
    step = state.protocol.steps_by_id.get(record_.step_id)
    if step is None:
        return ""
    data = json.loads(record_.data)
    given = []
    for f in step.fields:
        if f.type == "answer" and f.question and data.get(f.id):
            question = state.protocol.questions[f.question]
            given.append(f"{question.label}: {data[f.id]}")
    return "; ".join(given)


def _deadlines_met(state: DossierState, records: list[StepRecord]) -> list[Entry]:
    """Deadlines a save made go away: the rules asked again as the dossier stood before
    and after each saved version (through the decision memo); a deadline gone after a
    save was met then — in time, or late. (Deadlines ended by a recorded flag, such as
    Veilig Thuis's response, are not traced back.)"""
    app_registry = registry()
    latest: dict[str, StepRecord] = {}

    def deadlines(day: dt.date) -> dict[str, Any]:
        found = state_of(app_registry, state.dossier, state.protocol, state.school,
                         dict(latest), day).evaluation.deadlines
        return {d.label: d for d in found}

    entries = []
    before: dict[str, Any] | None = None
    for r in records:
        day = aware(r.created_at).astimezone(SCHOOL_TIME).date()
        before = deadlines(day) if before is None else before
        latest[r.step_id] = r
        after = deadlines(day)
        for label, d in before.items():
            if label not in after:
                late = day > d.due
                entries.append(Entry(
                    aware(r.created_at), "termijn",
                    f"Termijn {'te laat ' if late else ''}gehaald: {label}",
                    r.author.display_name, f"uiterlijk {dutch_date(d.due)}", late=late))
        before = after
    return entries


def _step_entries(db_session: Session, state: DossierState) -> list[Entry]:
    records = list(db_session.scalars(
        select(StepRecord).options(joinedload(StepRecord.author))
        .where(StepRecord.dossier_id == state.dossier.id)
        .order_by(StepRecord.created_at, StepRecord.id)))
    entries = []
    for r in records:
        step = state.protocol.steps_by_id.get(r.step_id)
        title = f"Stap {step.number} ({step.title})" if step else r.step_id
        entries.append(Entry(
            aware(r.created_at), "stap", f"{title} opgeslagen, versie {r.version}",
            r.author.display_name, _answers(state, r),
            url_for("dossiers.version", dossier_id=state.dossier.id, step_id=r.step_id,
                    version=r.version)))
    return entries + _deadlines_met(state, records)  # (after the save that met them)


def _audited(db_session: Session, dossier_id: int) -> list[Entry]:
    events = db_session.scalars(select(AuditEvent).where(
        AuditEvent.dossier_id == dossier_id, AuditEvent.action.in_(tuple(AUDITED)),
        AuditEvent.result == "ok").order_by(AuditEvent.seq)).all()
    ids = {e.actor_id for e in events if e.actor_id is not None}
    names = dict(db_session.execute(select(User.id, User.display_name)
                                    .where(User.id.in_(ids))).all()) if ids else {}
    return [Entry(aware(e.at), "logboek", AUDITED[e.action],
                  names.get(e.actor_id or 0) or e.actor, e.detail) for e in events]


def _deadline_entries(state: DossierState) -> list[Entry]:
    entries = []
    for d in state.evaluation.deadlines:
        at = dt.datetime.combine(d.due, dt.time(23, 59), SCHOOL_TIME)
        status = "verlopen" if d.overdue else "loopt nog"
        entries.append(Entry(at, "termijn", f"Termijn: {d.label}",
                             text=f"uiterlijk {dutch_date(d.due)} ({status})",
                             late=d.overdue, still_open=True))
    return entries


def timeline(db_session: Session, state: DossierState) -> list[Entry]:
    """Everything that happened to the dossier, oldest first; open deadlines last."""
    dossier = state.dossier
    entries = [Entry(aware(dossier.created_at), "start", "Dossier gestart",
                     dossier.created_by.display_name)]
    entries += _step_entries(db_session, state)
    entries += [Entry(aware(x.created_at), "besluit", DECIDED.get(x.kind, x.kind),
                      x.author.display_name, f"Reden: {x.reason}")
                for x in dossier.decisions]
    notes = notes_of(db_session, dossier.id)
    number = {n.id: i for i, n in enumerate(notes, 1)}
    entries += [Entry(aware(n.created_at), "notitie", f"Notitie {number[n.id]}",
                      n.author.display_name, n.text, number=number[n.id],
                      corrects=number.get(n.corrects_id or 0)) for n in notes]
    entries += _audited(db_session, dossier.id)
    entries += _deadline_entries(state)
    return sorted(entries, key=lambda e: e.at)


class NoteForm(DutchForm):
    text = TextAreaField(
        "Notitie", validators=[DataRequired(message="Schrijf eerst wat er gebeurde."),
                               Length(max=NOTE_MAX)],
        description="Bijvoorbeeld: Veilig Thuis gebeld, teruggebeld op maandag. Een "
                    "notitie is daarna niet meer te wijzigen; een verbetering is een nieuwe "
                    "notitie.")
    corrects = SelectField("Verbetert een eerdere notitie", default="",
                           choices=[SelectChoice("", "Nee, een nieuwe notitie")],
                           description="Kies de notitie die deze notitie verbetert. De "
                                       "eerdere notitie blijft staan.")


def _note_form(notes: list[DossierNote], data: Any = None) -> NoteForm:
    form = NoteForm(data)
    form.corrects.choices = [SelectChoice("", "Nee, een nieuwe notitie")] + [
        SelectChoice(str(n.id), f"Notitie {i} ({dutch_date(n.created_at)}, "
                                f"{n.author.display_name})")
        for i, n in enumerate(notes, 1)]
    return form


def _page(state: DossierState, form: NoteForm, status: int = 200) -> Any:
    entries = timeline(db(), state)
    return render_template("timeline.html", state=state, entries=entries, form=form,
                           number=numbering.label(state.dossier)), status


@bp.route("/dossiers/<int:dossier_id>/tijdlijn")
@login_required
def show(dossier_id: int) -> Any:
    dossier = _dossier(dossier_id)
    state = dossier_state(db(), registry(), dossier, today())
    form = _note_form(notes_of(db(), dossier.id))
    record_read(dossier_id=dossier.id, detail="tijdlijn")
    commit_pending()
    return _page(state, form)


@bp.route("/dossiers/<int:dossier_id>/notities", methods=["POST"])
@login_required
def add_note(dossier_id: int) -> Any:
    """A new note by anyone who may see the dossier; never on a closed dossier."""
    dossier = _dossier(dossier_id, "dossier.note")
    state = dossier_state(db(), registry(), dossier, today())
    notes = notes_of(db(), dossier.id)
    form = _note_form(notes, request.form)
    unknown = sorted(set(request.form) - {"csrf_token", *form._fields})
    if dossier.closed_at is not None:
        record("dossier.note", result="closed", dossier_id=dossier.id)
        db().commit()
        form.text.errors = ["Dit dossier is afgesloten; er kan geen notitie meer bij."]
        return _page(state, form, 409)
    if unknown or not form.validate():
        record("dossier.note", result="rejected", dossier_id=dossier.id)
        db().commit()
        return _page(state, form, 400)
    note = DossierNote(dossier_id=dossier.id, text=(form.text.data or "").strip(),
                       author_id=g.user.id, created_at=now(),
                       corrects_id=int(form.corrects.data) if form.corrects.data else None)
    db().add(note)
    db().flush()
    record("dossier.note", dossier_id=dossier.id, detail=f"notitie {len(notes) + 1}")
    db().commit()
    current_app.logger.info("note added dossier=%s user=%s", dossier.id, g.user.id)
    flash(f"Notitie {len(notes) + 1} is toegevoegd.", "ok")
    return redirect(url_for("timeline.show", dossier_id=dossier.id) + "#notitie-"
                    f"{len(notes) + 1}")
