"""dossier_decisions: closing, reopening and taking off the acute flag, with a reason

Revision ID: 0007_closing
Revises: 0007_audit_hmac
Create Date: 2026-11-29 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007_closing'
down_revision = '0007_audit_hmac'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dossier_decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name=op.f('fk_dossier_decisions_author_id_users')),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'],
                                name=op.f('fk_dossier_decisions_dossier_id_dossiers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_decisions')),
    )
    with op.batch_alter_table('dossier_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_decisions_dossier_id'), ['dossier_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dossier_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_decisions_dossier_id'))
    op.drop_table('dossier_decisions')
