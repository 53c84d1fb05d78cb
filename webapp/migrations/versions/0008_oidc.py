"""sign-in through a school's identity provider: links of accounts to a provider's subject

Revision ID: 0008_oidc
Revises: 0008_daily
Create Date: 2026-11-29 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008_oidc'
down_revision = '0008_daily'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'oidc_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.String(length=40), nullable=False),
        sa.Column('subject_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_oidc_links_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_links')),
        sa.UniqueConstraint('provider_id', 'subject_hash',
                            name=op.f('uq_oidc_links_provider_id')),
    )
    with op.batch_alter_table('oidc_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_links_user_id'), ['user_id'])
        batch_op.create_index(batch_op.f('ix_oidc_links_school_id'), ['school_id'])


def downgrade() -> None:
    op.drop_table('oidc_links')
