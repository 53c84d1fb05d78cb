"""web_sessions: the address and browser a session was used from (the account page
lists a user's sessions); an index for purging expired ones

Revision ID: 0007_sessions
Revises: 0007_closing
Create Date: 2026-11-29 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007_sessions'
down_revision = '0007_closing'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('agent', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_web_sessions_last_seen_at'), ['last_seen_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_last_seen_at'))
        batch_op.drop_column('agent')
        batch_op.drop_column('address')
