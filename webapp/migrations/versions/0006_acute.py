"""dossiers: the acute-danger flag, the other recorded flags and the lifecycle stage

Revision ID: 0006_acute
Revises: 0005_key_fingerprint
Create Date: 2026-11-29 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006_acute'
down_revision = '0005_key_fingerprint'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('next_deadline_kind', sa.String(length=20),
                                      nullable=True))
        batch_op.add_column(sa.Column('acute_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('acute_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('flags', sa.Text(), nullable=False, server_default='{}'))
        batch_op.create_foreign_key(batch_op.f('fk_dossiers_acute_by_id_users'), 'users',
                                    ['acute_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_dossiers_acute_by_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('flags')
        batch_op.drop_column('acute_by_id')
        batch_op.drop_column('acute_at')
        batch_op.drop_column('next_deadline_kind')
        batch_op.drop_column('stage')
