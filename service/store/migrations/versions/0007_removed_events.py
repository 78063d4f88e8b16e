"""Removed events: acts the tracker deleted (comments), so no later copy brings them back.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Deletions applied before this revision left no record. Replaying their stored deliveries
    # (`partnerscope deliveries replay`) records them; nothing here parses old payloads.
    op.create_table('removed_events',
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('ticket_external_id', sa.String(length=200), nullable=False),
    sa.Column('event_external_id', sa.String(length=200), nullable=False),
    sa.Column('removed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('source', 'ticket_external_id', 'event_external_id')
    )


def downgrade() -> None:
    op.drop_table('removed_events')
