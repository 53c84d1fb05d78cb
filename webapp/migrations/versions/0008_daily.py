"""daily work: dossier numbers per school, named people on a dossier, reminders sent

Revision ID: 0008_daily
Revises: 0008_notes
Create Date: 2026-11-29 12:15:00
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op


revision = '0008_daily'
down_revision = '0008_notes'
branch_labels = None
depends_on = None

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _year(value: object) -> int:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(AMSTERDAM).year


def _number_existing() -> None:
    """Existing dossiers get numbers per school and year of opening, oldest first."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, school_id, created_at FROM dossiers ORDER BY created_at, id")).all()
    last: dict[tuple[str, int], int] = {}
    for dossier_id, school_id, created_at in rows:
        key = (school_id, _year(created_at))
        last[key] = last.get(key, 0) + 1
        bind.execute(sa.text("UPDATE dossiers SET number_year = :y, number_seq = :n "
                             "WHERE id = :i"), {"y": key[1], "n": last[key], "i": dossier_id})
    for (school_id, year), seq in last.items():
        bind.execute(sa.text("INSERT INTO dossier_counters (school_id, year, last) "
                             "VALUES (:s, :y, :n)"), {"s": school_id, "y": year, "n": seq})


def upgrade() -> None:
    op.create_table(
        'dossier_counters',
        sa.Column('school_id', sa.String(length=40), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('series', sa.String(length=4), server_default='', nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('school_id', 'year', 'series',
                                name=op.f('pk_dossier_counters')),
    )
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('number_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('number_series', sa.String(length=4), server_default='',
                                      nullable=False))
    _number_existing()
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_dossiers_school_number',
                                          ['school_id', 'number_series', 'number_year',
                                           'number_seq'])
    op.create_table(
        'dossier_assignments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('person_name', sa.Text(), nullable=True),
        sa.Column('organisation', sa.Text(), nullable=True),
        sa.Column('task', sa.String(length=40), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('removed_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'],
                                name=op.f('fk_dossier_assignments_dossier_id_dossiers')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_dossier_assignments_user_id_users')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_dossier_assignments_created_by_id_users')),
        sa.ForeignKeyConstraint(['removed_by_id'], ['users.id'],
                                name=op.f('fk_dossier_assignments_removed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_assignments')),
    )
    with op.batch_alter_table('dossier_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_assignments_dossier_id'), ['dossier_id'])
        batch_op.create_index(batch_op.f('ix_dossier_assignments_user_id'), ['user_id'])
    op.create_table(
        'reminders_sent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=64), nullable=False),
        sa.Column('sent_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_reminders_sent_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders_sent')),
        sa.UniqueConstraint('user_id', 'dossier_id', 'subject', 'sent_on',
                            name=op.f('uq_reminders_sent_user_id')),
    )
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminders_sent_user_id'), ['user_id'])


def downgrade() -> None:
    op.drop_table('reminders_sent')
    op.drop_table('dossier_assignments')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_constraint('uq_dossiers_school_number', type_='unique')
        batch_op.drop_column('number_series')
        batch_op.drop_column('number_seq')
        batch_op.drop_column('number_year')
    op.drop_table('dossier_counters')
