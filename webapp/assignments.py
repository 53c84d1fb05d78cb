"""Named people on a dossier: a coordinating role names a member of staff, or someone
outside the school (name and organisation, encrypted), with the part they play. An
assigned member of staff gets need-to-know access (``access.is_assigned``) and sees the
dossier's tasks. Assigning and removing are audited (ids only, never a name)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, joinedload
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from meldroute.forms.fields import DutchForm, SelectChoice, add_error

from .models import Dossier, DossierAssignment, Membership, User
from .tasks import aan_zet_words

# the part someone plays in the dossier (stored key -> words)
TASKS = {
    "zorgteam": "Lid van het zorgteam",
    "casemanager": "Casemanager van het hulpplan",
    "aandachtsfunctionaris": "Aandachtsfunctionaris",
    "contactpersoon": "Contactpersoon",
}


class AssignForm(DutchForm):
    kind = RadioField("Wie", choices=[SelectChoice("staff", "Iemand van de school"),
                                      SelectChoice("external", "Iemand buiten de school")],
                      default="staff", validators=[InputRequired()])
    user_id = SelectField("Medewerker", coerce=str, validators=[Optional()],
                          description="Alleen bij iemand van de school.")
    person_name = StringField("Naam", validators=[Optional(), Length(max=200)],
                              description="Alleen bij iemand buiten de school.")
    organisation = StringField("Organisatie", validators=[Optional(), Length(max=200)],
                               description="Bijvoorbeeld het wijkteam of het CJG.")
    task = SelectField("Rol in dit dossier", choices=[SelectChoice(k, v) for k, v in TASKS.items()],
                       validators=[InputRequired()])

    def check(self, staff: dict[int, User]) -> bool:
        """The fields that belong together: a colleague of this school, or a name."""
        ok = self.validate()
        if self.kind.data == "staff" and not (self.user_id.data or "").isdigit() or \
                self.kind.data == "staff" and int(self.user_id.data or 0) not in staff:
            add_error(self.user_id, "Kies een medewerker van deze school.")
            ok = False
        if self.kind.data == "external" and not (self.person_name.data or "").strip():
            add_error(self.person_name, "Vul de naam in.")
            ok = False
        if self.kind.data == "external" and not (self.organisation.data or "").strip():
            add_error(self.organisation, "Vul de organisatie in.")
            ok = False
        return ok


def staff_of(db: Session, school_id: str) -> dict[int, User]:
    """The active members of staff of the school, by name."""
    users = db.scalars(select(User).options(joinedload(User.memberships)).join(
        Membership, Membership.user_id == User.id).where(
        Membership.school_id == school_id, User.active.is_(True)).order_by(User.display_name)
    ).unique()
    return {u.id: u for u in users}


def in_force(db: Session, dossier: Dossier) -> list[DossierAssignment]:
    """The named people in force: as read with the dossier (the dossier page), or asked."""
    if "assignments" in inspect(dossier).dict:
        return list(dossier.assignments)
    return list(db.scalars(select(DossierAssignment).options(
        joinedload(DossierAssignment.user).joinedload(User.memberships)).where(
        DossierAssignment.dossier_id == dossier.id, DossierAssignment.removed_at.is_(None))
        .order_by(DossierAssignment.id)).unique())


def assign(db: Session, dossier: Dossier, form: AssignForm, by: User) -> DossierAssignment:
    """Store the assignment (flushed; the caller audits and commits)."""
    staff = form.kind.data == "staff"
    found = DossierAssignment(
        dossier_id=dossier.id, task=form.task.data or "contactpersoon", created_by_id=by.id,
        user_id=int(form.user_id.data or 0) if staff else None,
        person_name=None if staff else (form.person_name.data or "").strip(),
        organisation=None if staff else (form.organisation.data or "").strip())
    db.add(found)
    db.flush()
    return found


def remove(db: Session, dossier: Dossier, assignment_id: int, by: User,
           moment: dt.datetime) -> DossierAssignment | None:
    found = db.get(DossierAssignment, assignment_id)
    if found is None or found.dossier_id != dossier.id or found.removed_at is not None:
        return None
    found.removed_at, found.removed_by_id = moment, by.id
    return found


def aan_zet(db: Session, dossier: Dossier, responsible: Sequence[Any]) -> str:
    """Who is aan zet on the dossier page: the rules' roles with the named people who hold
    one of them (``tasks.aan_zet_words``)."""
    return aan_zet_words(in_force(db, dossier), responsible, dossier.school_id)
