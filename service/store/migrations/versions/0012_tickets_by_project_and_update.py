"""Tickets by project, then by their latest change: the ticket list of one project, newest first,
reads this index in order rather than sorting every ticket of the project. It replaces the index
on the project alone, whose lookups it answers as well.

Measured on 100,000 demo tickets (SQLite): the first page of SHOP (60,000 tickets) took 29 ms
sorting them, 0.3 ms reading this index.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07
"""
from __future__ import annotations

from alembic import op


revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_tickets_project_updated', 'tickets', ['project', 'updated', 'id'], unique=False)
    op.drop_index('ix_tickets_project', table_name='tickets')


def downgrade() -> None:
    op.create_index('ix_tickets_project', 'tickets', ['project'], unique=False)
    op.drop_index('ix_tickets_project_updated', table_name='tickets')
