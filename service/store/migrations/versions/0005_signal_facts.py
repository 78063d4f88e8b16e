"""Signal facts, the dated observations behind every behaviour's signal, and their monthly sums.

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
    op.create_index('ix_signal_facts_month_measure', 'signal_facts', ['month', 'measure'], unique=False)
    op.create_index('ix_signal_facts_measure_person_at', 'signal_facts', ['measure', 'person_id', 'at'], unique=False)
    op.create_table('signal_rollups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure', sa.String(length=40), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('partner', sa.String(length=200), nullable=False),
    sa.Column('project', sa.String(length=200), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('other_person_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.Column('c', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('measure', 'month', 'partner', 'project', 'side', 'person_id', 'other_person_id',
                        name='uq_signal_rollups_key')
    )
    op.create_index('ix_signal_rollups_month', 'signal_rollups', ['month'], unique=False)
    op.create_table('settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    # Facts exist for tickets attributed from now on. A database that already holds attributions
    # owes a `partnerscope classify`; until it runs, every report says so (data quality).
    if op.get_bind().execute(sa.text("SELECT 1 FROM attributions LIMIT 1")).first() is not None:
        op.execute("INSERT INTO settings (key, value) VALUES ('signals_need_classify', 'since migration 0005')")


def downgrade() -> None:
    op.drop_table('settings')
    op.drop_index('ix_signal_rollups_month', table_name='signal_rollups')
    op.drop_table('signal_rollups')
    op.drop_index('ix_signal_facts_measure_person_at', table_name='signal_facts')
    op.drop_index('ix_signal_facts_month_measure', table_name='signal_facts')
    op.drop_index('ix_signal_facts_ticket', table_name='signal_facts')
    op.drop_table('signal_facts')
