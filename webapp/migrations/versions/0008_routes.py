"""dossiers: the route they follow, the person a staff-route dossier is about, a link

Revision ID: 0008_routes
Revises: 0008_oidc
Create Date: 2026-11-29 12:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008_routes'
down_revision = '0008_oidc'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('protocol_id', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('subject_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('linked_dossier_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_dossiers_subject_user_id_users'),
                                    'users', ['subject_user_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_dossiers_linked_dossier_id_dossiers'),
                                    'dossiers', ['linked_dossier_id'], ['id'])
    # every dossier so far follows the protocol of the version it pinned
    op.execute("UPDATE dossiers SET protocol_id = (SELECT protocol_id FROM protocol_versions "
               "WHERE protocol_versions.digest = dossiers.protocol_digest)")


def downgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_dossiers_linked_dossier_id_dossiers'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_dossiers_subject_user_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('linked_dossier_id')
        batch_op.drop_column('subject_user_id')
        batch_op.drop_column('protocol_id')
