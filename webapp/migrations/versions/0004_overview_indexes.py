"""indexes for the dossier overview (filtered by school and author, newest change first)

Revision ID: 0004_overview_indexes
Revises: 0003
Create Date: 2026-11-29 06:35:00
"""

from __future__ import annotations

from alembic import op

revision = '0004_overview_indexes'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index('ix_dossiers_school_updated', ['school_id', 'updated_at'],
                              unique=False)
        batch_op.create_index('ix_dossiers_school_creator_updated',
                              ['school_id', 'created_by_id', 'updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('ix_dossiers_school_creator_updated')
        batch_op.drop_index('ix_dossiers_school_updated')
