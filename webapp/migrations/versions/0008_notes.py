"""notes on a dossier: dated, never changed (a correction is a new note), encrypted

Revision ID: 0008_notes
Revises: 0007_grants
Create Date: 2026-11-29 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008_notes'
down_revision = '0007_grants'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dossier_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('corrects_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'],
                                name=op.f('fk_dossier_notes_dossier_id_dossiers')),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name=op.f('fk_dossier_notes_author_id_users')),
        sa.ForeignKeyConstraint(['corrects_id'], ['dossier_notes.id'],
                                name=op.f('fk_dossier_notes_corrects_id_dossier_notes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_notes')),
    )
    with op.batch_alter_table('dossier_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_notes_dossier_id'), ['dossier_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dossier_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_notes_dossier_id'))
    op.drop_table('dossier_notes')
