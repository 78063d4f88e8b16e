"""Where a killed Jira Cloud sync resumes: beside the bookmark, how far the search had got and
the issues still waiting for their bulk changelog, committed with each page.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-09
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sync_state') as batch:
        batch.add_column(sa.Column('resume_after', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('waiting', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_state') as batch:
        batch.drop_column('waiting')
        batch.drop_column('resume_after')
