"""Scheduled syncs and delivery retries: a run's rate-limit waits and the schedule tick it served
(one run per source and tick, however many workers fire it), and when a failed delivery is
tried again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_runs') as batch:
        batch.add_column(sa.Column('waits', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('tick', sa.DateTime(), nullable=True))
    op.create_index('uq_sync_runs_source_tick', 'sync_runs', ['source', 'tick'], unique=True)
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.add_column(sa.Column('retry_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.drop_column('retry_at')
    op.drop_index('uq_sync_runs_source_tick', table_name='sync_runs')
    with op.batch_alter_table('sync_runs') as batch:
        batch.drop_column('tick')
        batch.drop_column('waits')
