"""Signal facts: the dated observations behind every behaviour's signal.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signal_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('measure', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('project', sa.String(length=200), nullable=False),
    sa.Column('partner', sa.String(length=200), nullable=True),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('other_person_id', sa.Integer(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.Column('x', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_signal_facts_ticket', 'signal_facts', ['ticket_id'], unique=False)
    op.create_index('ix_signal_facts_measure_at', 'signal_facts', ['measure', 'at'], unique=False)
    # Facts exist for tickets attributed from now on: `partnerscope classify` fills them for the rest.


def downgrade() -> None:
    op.drop_index('ix_signal_facts_measure_at', table_name='signal_facts')
    op.drop_index('ix_signal_facts_ticket', table_name='signal_facts')
    op.drop_table('signal_facts')
