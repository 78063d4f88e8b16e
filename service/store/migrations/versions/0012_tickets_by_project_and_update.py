"""Indexes for the dashboard's pages at 100,000 tickets (the `dashboard` benchmark case).

- Tickets by project, then by their latest change: one project's ticket list reads this index in
  order rather than sorting every ticket of the project (29 ms for SHOP's 60,000 of 100,000 demo
  tickets on SQLite, 0.3 ms this way). It replaces the index on the project alone, whose lookups
  it answers as well.
- The incomplete tickets by project, beside the incomplete tickets by id: given a project,
  SQLite took the project's index and read every ticket of it (30 ms each for the list, the
  count and the acts of the data-quality section); this partial index holds the few incomplete
  tickets of each project. Without a project the one by id still lists them in order.
- The attributions' role-side-person index gains the act's time and ticket, so an area's top
  people within dates or a project, and the ticket list's acts, read the index alone: the
  quality-assurance area's people since a date took 430 ms reading each act's row, 29 ms now.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

INCOMPLETE = "incomplete IS NOT NULL"


def upgrade() -> None:
    op.create_index('ix_tickets_project_updated', 'tickets', ['project', 'updated', 'id'], unique=False)
    op.drop_index('ix_tickets_project', table_name='tickets')
    op.create_index('ix_tickets_incomplete_project', 'tickets', ['project', 'id'], unique=False,
                    sqlite_where=sa.text(INCOMPLETE), postgresql_where=sa.text(INCOMPLETE))
    op.create_index('ix_attributions_role_side_person_at', 'attributions',
                    ['role', 'side', 'person_id', 'at', 'ticket_id'], unique=False)
    op.drop_index('ix_attributions_role_side_person', table_name='attributions')


def downgrade() -> None:
    op.create_index('ix_attributions_role_side_person', 'attributions', ['role', 'side', 'person_id'], unique=False)
    op.drop_index('ix_attributions_role_side_person_at', table_name='attributions')
    op.drop_index('ix_tickets_incomplete_project', table_name='tickets')
    op.create_index('ix_tickets_project', 'tickets', ['project'], unique=False)
    op.drop_index('ix_tickets_project_updated', table_name='tickets')
