"""The database: dossiers, their step records (append-only versions), users, protocols."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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
    """A member of staff. Until accounts exist only demo users are made (demo mode)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    school_id: Mapped[str] = mapped_column(String(40), index=True)
    role: Mapped[str] = mapped_column(String(60))
    demo: Mapped[bool] = mapped_column(Boolean, default=False)


class Dossier(Base):
    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[str] = mapped_column(String(40), index=True)
    pupil_initials: Mapped[str] = mapped_column(String(10))
    pupil_group: Mapped[str] = mapped_column(String(20))
    pupil_name: Mapped[str] = mapped_column(String(200))
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
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    created_by: Mapped[User] = relationship()
    records: Mapped[list[StepRecord]] = relationship(
        back_populates="dossier", order_by="(StepRecord.step_id, StepRecord.version)")

    __mapper_args__ = {"version_id_col": row_version}


class StepRecord(Base):
    """One saved version of one step's answers. Never updated: a change is a new version."""

    __tablename__ = "step_records"
    __table_args__ = (UniqueConstraint("dossier_id", "step_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    step_id: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)  # JSON: field id -> value
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    dossier: Mapped[Dossier] = relationship(back_populates="records")
    author: Mapped[User] = relationship()
