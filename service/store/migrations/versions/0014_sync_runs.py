"""Sync runs: each run of a source's sync with its trigger, times, outcome and counts, for
`partnerscope runs` and the data-quality page.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sync_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('trigger', sa.String(length=20), nullable=False),
        sa.Column('started', sa.DateTime(), nullable=False),
        sa.Column('ended', sa.DateTime(), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('tickets', sa.Integer(), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('requests', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_sync_runs_source_started', 'sync_runs', ['source', 'started'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sync_runs_source_started', table_name='sync_runs')
    op.drop_table('sync_runs')
