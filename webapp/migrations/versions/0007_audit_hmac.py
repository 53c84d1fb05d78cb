"""audit trail: the switch from plain SHA-256 chain values to HMACs with the audit key

Appends the marker entry ``audit.hmac`` (chained with a plain SHA-256, like every entry
before it); ``meldroute audit verify`` expects an HMAC with the audit key from the entry
after it on. No table changes. A fresh database gets the marker as its first entry.

Revision ID: 0007_audit_hmac
Revises: 0006_acute
Create Date: 2026-11-29 09:00:00
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import sqlalchemy as sa
from alembic import op


revision = '0007_audit_hmac'
down_revision = '0006_acute'
branch_labels = None
depends_on = None

events = sa.table(
    'audit_events',
    sa.column('seq', sa.Integer()), sa.column('at', sa.DateTime(timezone=True)),
    sa.column('actor_id', sa.Integer()), sa.column('actor', sa.String()),
    sa.column('on_behalf_of', sa.String()), sa.column('action', sa.String()),
    sa.column('school_id', sa.String()), sa.column('dossier_id', sa.Integer()),
    sa.column('result', sa.String()), sa.column('address', sa.String()),
    sa.column('detail', sa.String()), sa.column('prev_hash', sa.String()),
    sa.column('hash', sa.String()))
head = sa.table('audit_head', sa.column('id', sa.Integer()), sa.column('seq', sa.Integer()),
                sa.column('last_hash', sa.String()))


def upgrade() -> None:
    connection = op.get_bind()
    seq, prev = connection.execute(sa.select(head.c.seq, head.c.last_hash)
                                   .where(head.c.id == 1)).one()
    seq += 1
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    row = {'seq': seq, 'at': at, 'actor_id': None, 'actor': 'meldroute',
           'on_behalf_of': None, 'action': 'audit.hmac', 'school_id': None,
           'dossier_id': None, 'result': 'ok', 'address': '-',
           'detail': f'vanaf regel {seq + 1}: ketenwaarde is een HMAC met de auditsleutel',
           'prev_hash': prev}
    # the plain SHA-256 of audit.py at this revision (kept here: the code may move on)
    fields = [seq, at.isoformat(timespec='microseconds'), None, 'meldroute', None,
              'audit.hmac', None, None, 'ok', '-', row['detail'], prev]
    row['hash'] = hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()
    connection.execute(events.insert().values(**{**row, 'at': at.replace(tzinfo=dt.UTC)}))
    connection.execute(head.update().where(head.c.id == 1)
                       .values(seq=seq, last_hash=row['hash']))


def downgrade() -> None:
    # The marker and the signed entries after it stay: the audit trail is append-only.
    pass
