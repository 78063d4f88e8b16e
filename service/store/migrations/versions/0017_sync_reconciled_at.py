"""When a source's sync last read its recent past again (the reconciliation sweep), so the
worker's ticks sweep once per `reconcile_every`.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_state') as batch:
        batch.add_column(sa.Column('reconciled_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_state') as batch:
        batch.drop_column('reconciled_at')
