"""The database: dossiers, their step records (append-only versions), users, protocols."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from . import revisions
from .crypto import EncryptedText

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ProtocolVersion(Base):
    """The text of every protocol version a dossier was started under, by digest."""

    __tablename__ = "protocol_versions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    protocol_id: Mapped[str] = mapped_column(String(60))
    version: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    """A member of staff: one or more schools, one or more roles per school."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))  # where a reset link goes
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # replay of a used code
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Membership.id")

    def roles_at(self, school_id: str) -> list[str]:
        return [m.role for m in self.memberships if m.school_id == school_id]

    @property
    def schools(self) -> list[str]:
        return list(dict.fromkeys(m.school_id for m in self.memberships if m.school_id))

    @property
    def first_school(self) -> str | None:
        """Where the user works after signing in (None: a board admin of no school)."""
        return self.schools[0] if self.schools else None

    @property
    def boards(self) -> list[str]:
        """The boards this user administers (role bestuursadmin)."""
        return list(dict.fromkeys(m.board_id for m in self.memberships
                                  if m.board_id and m.role == "bestuursadmin"))


class Membership(Base):
    """A role at a school (school_id), or the board admin role of a board (board_id)."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "school_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[str | None] = mapped_column(String(40), index=True)
    board_id: Mapped[str | None] = mapped_column(String(40), index=True)
    role: Mapped[str] = mapped_column(String(60))

    user: Mapped[User] = relationship(back_populates="memberships")


class RoleGrant(Base):
    """A change of someone's roles at a school that waits for a second person: granting a
    dossier-opening role (``kind`` "roles"), or resetting the sign-in of an account that
    holds one (``kind`` "reset"). Confirmed or refused by a school admin or the director
    of that school who is neither the one who asked nor the one it is for."""

    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="roles")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[str] = mapped_column(String(40), index=True)
    roles: Mapped[str] = mapped_column(String(400), default="")  # space-separated role ids
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])

    @property
    def role_list(self) -> list[str]:
        return self.roles.split()


class ResetToken(Base):
    """A one-time link to set a new password (and enrol 2FA again): only its hash."""

    __tablename__ = "reset_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Board(Base):
    """A school board (bevoegd gezag): owns schools, gives them default settings."""

    __tablename__ = "boards"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)


class School(Base):
    __tablename__ = "schools"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    board_id: Mapped[str | None] = mapped_column(ForeignKey("boards.id"), index=True)


class ConfigVersion(Base):
    """One version of a school's or board's configuration. Never changed: a change, or a
    restore, is a new version."""

    __tablename__ = "config_versions"
    __table_args__ = (UniqueConstraint("kind", "owner_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "school" or "board"
    owner_id: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)  # JSON, in the order of the export
    author: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebSession(Base):
    """A web session, kept server-side: the cookie holds only a random token; its hash is
    the key."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                      index=True)
    authenticated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # for the user's list of sessions: the last address, and the browser in a few words
    address: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(100))
    # read together with the session (one statement per request, web_sessions.py)
    user: Mapped[User | None] = relationship(viewonly=True)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    success: Mapped[bool] = mapped_column(Boolean)
    stage: Mapped[str] = mapped_column(String(20))  # password, totp
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class AuditEvent(Base):
    """Append-only, tamper-evident: each entry hashes its content and the previous hash."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))  # username at the time
    on_behalf_of: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str | None] = mapped_column(String(40))
    dossier_id: Mapped[int | None] = mapped_column(Integer, index=True)
    result: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(200), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last entry of the chain; updating it first serialises appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class Dossier(Base):
    __tablename__ = "dossiers"
    __table_args__ = (  # what the overview filters on and sorts by (newest change first)
        Index("ix_dossiers_school_updated", "school_id", "updated_at"),
        Index("ix_dossiers_school_creator_updated", "school_id", "created_by_id", "updated_at"),
        # the dossier number (issue 14): unique per school, series and year
        UniqueConstraint("school_id", "number_series", "number_year", "number_seq",
                         name="uq_dossiers_school_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[str] = mapped_column(String(40), index=True)
    pupil_initials: Mapped[str] = mapped_column(String(10))
    pupil_group: Mapped[str] = mapped_column(String(20))
    pupil_name: Mapped[str] = mapped_column(EncryptedText)
    pupil_birthdate: Mapped[str | None] = mapped_column(EncryptedText)
    protocol_digest: Mapped[str] = mapped_column(ForeignKey("protocol_versions.digest"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # where the dossier stands: non-sensitive, for the overview (kept by services.save_step)
    current_step: Mapped[str] = mapped_column(String(60))
    next_question: Mapped[str | None] = mapped_column(String(60))
    outcome: Mapped[str | None] = mapped_column(String(60))
    responsible: Mapped[str] = mapped_column(String(300), default="")
    next_deadline: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)  # deadlines count from here
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # the lifecycle stage the rules computed (signaleren ... afgesloten), for the overview
    stage: Mapped[str | None] = mapped_column(String(40))
    next_deadline_kind: Mapped[str | None] = mapped_column(String(20))  # school, veilig_thuis
    # flagged as acute danger (anyone who may see the dossier, at any step; audited)
    acute_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    acute_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # the protocol's other ``flag:`` facts as recorded (JSON: fact id -> value), e.g.
    # Veilig Thuis's response
    flags: Mapped[str] = mapped_column(Text, default="{}")
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)
    # --- daily work (issue 14): the dossier number per school, ``2026-014`` (numbering.py)
    number_year: Mapped[int | None] = mapped_column(Integer)
    number_seq: Mapped[int | None] = mapped_column(Integer)
    # a route about a person counts in a series of its own ("V": 2026-V001), so that the
    # numbers others see do not betray that such a dossier exists (numbering.py)
    number_series: Mapped[str] = mapped_column(String(4), default="", server_default="")
    # the route it follows (fixed when it is opened; the pinned version's protocol id)
    protocol_id: Mapped[str | None] = mapped_column(String(60))
    # a route about a person (the staff route): the account it is about, who never sees it
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # another dossier about the same pupil (e.g. a staff-route dossier beside a Meldcode one)
    linked_dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"),
                                                          index=True)
    # renewed by every write of the dossier or its rows (revisions.py): kept pages of the
    # dossier are filed under it (pagecache.py)
    revision: Mapped[int] = mapped_column(BigInteger, default=revisions.new_revision,
                                          server_default="0")

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    acute_by: Mapped[User | None] = relationship(foreign_keys=[acute_by_id])
    records: Mapped[list[StepRecord]] = relationship(
        back_populates="dossier", order_by="(StepRecord.step_id, StepRecord.version)")
    decisions: Mapped[list[DossierDecision]] = relationship(
        order_by="DossierDecision.id", viewonly=True)
    # read with the dossier (one statement for the dossier page): the named people in
    # force, and the dossiers linked to this one (a link is made from the newer dossier)
    assignments: Mapped[list[DossierAssignment]] = relationship(
        primaryjoin="and_(DossierAssignment.dossier_id == Dossier.id, "
                    "DossierAssignment.removed_at.is_(None))",
        order_by="DossierAssignment.id", viewonly=True)
    linked_from: Mapped[list[Dossier]] = relationship(
        primaryjoin="Dossier.linked_dossier_id == Dossier.id",
        foreign_keys=[linked_dossier_id], viewonly=True)
    linked_to: Mapped[Dossier | None] = relationship(
        primaryjoin="Dossier.linked_dossier_id == Dossier.id",
        foreign_keys=[linked_dossier_id], remote_side=[id], viewonly=True)

    __mapper_args__ = {"version_id_col": row_version}


class StepRecord(Base):
    """One saved version of one step's answers. Never updated: a change is a new version."""

    __tablename__ = "step_records"
    __table_args__ = (UniqueConstraint("dossier_id", "step_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    step_id: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(EncryptedText)  # JSON: field id -> value
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # the school's configuration when this was recorded (contacts as they were then)
    school_config_id: Mapped[int | None] = mapped_column(ForeignKey("config_versions.id"))
    board_config_id: Mapped[int | None] = mapped_column(ForeignKey("config_versions.id"))

    dossier: Mapped[Dossier] = relationship(back_populates="records")
    author: Mapped[User] = relationship()


class DossierDecision(Base):
    """A decision about the dossier itself with its reason: closed, reopened, the acute
    flag taken off. Never updated; the reason is content (encrypted)."""

    __tablename__ = "dossier_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # close, reopen, acute_off
    reason: Mapped[str] = mapped_column(EncryptedText)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    author: Mapped[User] = relationship()


class SiteRevision(Base):
    """One row: renewed by every write of what pages show besides dossiers (people, roles,
    school configurations; revisions.py)."""

    __tablename__ = "site_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)


class KeyCheck(Base):
    """One row: which key set the encrypted columns are written with. ``fingerprint``
    names the newest key (a hash, never the key); ``canary`` is a known text encrypted
    with it. A start whose keys cannot read the canary is refused (``key_check.py``)."""

    __tablename__ = "key_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    canary: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DossierNote(Base):
    """A dated note on a dossier ("Veilig Thuis gebeld, ..."): never changed or removed; a
    correction is a new note that names the one it corrects. The text is content
    (encrypted)."""

    __tablename__ = "dossier_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    text: Mapped[str] = mapped_column(EncryptedText)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("dossier_notes.id"))

    author: Mapped[User] = relationship()


# --- daily work (issue 14): dossier numbers, named people, reminders sent -------------------

class DossierCounter(Base):
    """The last dossier number handed out per school and year (numbering.py bumps it in
    one statement, so that two dossiers opened at once never get the same number)."""

    __tablename__ = "dossier_counters"

    school_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    series: Mapped[str] = mapped_column(String(4), primary_key=True, default="",
                                        server_default="")
    last: Mapped[int] = mapped_column(Integer)


class DossierAssignment(Base):
    """A named person on a dossier: a member of staff (``user_id``), or someone outside
    the school recorded by name and organisation (encrypted). Removal ends it; the row
    stays, so that who was assigned when can be told."""

    __tablename__ = "dossier_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    person_name: Mapped[str | None] = mapped_column(EncryptedText)
    organisation: Mapped[str | None] = mapped_column(EncryptedText)
    task: Mapped[str] = mapped_column(String(40))  # assignments.TASKS
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class ReminderSent(Base):
    """One reminder mailed: to whom, about which dossier's deadline, on which day (never
    the same one twice a day)."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("user_id", "dossier_id", "subject", "sent_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    dossier_id: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(64))  # which deadline (a digest, no text)
    sent_on: Mapped[dt.date] = mapped_column(Date)


class OidcLink(Base):
    """An account signed in through a school's identity provider (OpenID Connect): the
    provider and a hash of the configured claim's value (``oidc.subject_hash``), made at
    the first sign-in that matched an account the school had made (or made one)."""

    __tablename__ = "oidc_links"
    __table_args__ = (UniqueConstraint("provider_id", "subject_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(40))
    subject_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # the school the first sign-in came for (an account made without a role waits there)
    school_id: Mapped[str] = mapped_column(String(40), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


revisions.install()  # every process that writes renews the revisions
