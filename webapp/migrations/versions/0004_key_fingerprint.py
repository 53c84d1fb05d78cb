"""the key set's fingerprint: refuse to start with keys that cannot read the database

Revision ID: 0004_key_fingerprint
Revises: 0003
Create Date: 2026-11-29 06:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_key_fingerprint"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the row is written by the app's first start with its keys (key_check.py)
    op.create_table(
        "key_check",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("canary", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_check")),
    )


def downgrade() -> None:
    op.drop_table("key_check")
