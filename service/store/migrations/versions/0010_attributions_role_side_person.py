"""The attributions' role-and-side index gains the person, so an area's top people are counted
from the index alone: 268 ms against 85 ms for quality assurance at 100,000 demo tickets (SQLite).
The counts by role and side still read its first two columns.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
from __future__ import annotations

from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_attributions_role_side_person', 'attributions', ['role', 'side', 'person_id'], unique=False)
    op.drop_index('ix_attributions_role_side', table_name='attributions')


def downgrade() -> None:
    op.create_index('ix_attributions_role_side', 'attributions', ['role', 'side'], unique=False)
    op.drop_index('ix_attributions_role_side_person', table_name='attributions')
