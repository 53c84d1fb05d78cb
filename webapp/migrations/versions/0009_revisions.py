"""revisions: of each dossier and of the site, for kept pages (issue 13)

Revision ID: 0009_revisions
Revises: 0008_routes
Create Date: 2026-11-29 15:45:00
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op


revision = '0009_revisions'
down_revision = '0008_routes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.BigInteger(), server_default='0',
                                      nullable=False))
        batch_op.create_index(batch_op.f('ix_dossiers_linked_dossier_id'),
                              ['linked_dossier_id'], unique=False)
    site = op.create_table(
        'site_revision',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('revision', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_site_revision')))
    op.bulk_insert(site, [{'id': 1, 'revision': secrets.randbits(62)}])


def downgrade() -> None:
    op.drop_table('site_revision')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossiers_linked_dossier_id'))
        batch_op.drop_column('revision')
