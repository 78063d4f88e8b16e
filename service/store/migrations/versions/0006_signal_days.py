"""Signal sums by day and one row per ticket of what it added, in place of one row per fact.

A ticket yields a score of facts; storing each (with three indexes) made attributing a ticket
several times dearer than before the signals. Reports only ever read the facts summed (by month,
or by day for a month the dates cut), so the sums are what is kept, with each ticket's share of
them to take out again when it is attributed anew.

The facts of a database at 0005 are not carried over: it owes a `partnerscope classify`, which
every report says until it runs (roles are counted from the attributions meanwhile).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signal_tickets',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('project', sa.String(length=200), nullable=False),
    sa.Column('uncredited', sa.Boolean(), nullable=False),
    sa.Column('sums', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id')
    )
    op.create_index('ix_signal_tickets_uncredited', 'signal_tickets', ['ticket_id'], unique=False,
                    sqlite_where=sa.text('uncredited'), postgresql_where=sa.text('uncredited'))
    op.create_table('signal_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('measure', sa.String(length=40), nullable=False),
    sa.Column('partner', sa.String(length=200), nullable=False),
    sa.Column('project', sa.String(length=200), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('other_person_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.Column('c', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day', 'measure', 'partner', 'project', 'side', 'person_id', 'other_person_id',
                        name='uq_signal_days_key')
    )
    op.create_index('ix_signal_days_measure_person_day', 'signal_days', ['measure', 'person_id', 'day'],
                    unique=False)
    op.drop_index('ix_signal_facts_measure_person_at', table_name='signal_facts')
    op.drop_index('ix_signal_facts_month_measure', table_name='signal_facts')
    op.drop_index('ix_signal_facts_ticket', table_name='signal_facts')
    op.drop_table('signal_facts')
    op.execute("DELETE FROM signal_rollups")  # sums whose tickets' shares are gone could never be taken out
    if op.get_bind().execute(sa.text("SELECT 1 FROM attributions LIMIT 1")).first() is not None:
        op.execute("DELETE FROM settings WHERE key = 'signals_need_classify'")
        op.execute("INSERT INTO settings (key, value) VALUES ('signals_need_classify', 'since migration 0006')")


def downgrade() -> None:
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
    op.execute("DELETE FROM signal_rollups")
    op.drop_index('ix_signal_days_measure_person_day', table_name='signal_days')
    op.drop_table('signal_days')
    op.drop_index('ix_signal_tickets_uncredited', table_name='signal_tickets')
    op.drop_table('signal_tickets')
    op.execute("DELETE FROM settings WHERE key = 'signals_need_classify'")
    if op.get_bind().execute(sa.text("SELECT 1 FROM attributions LIMIT 1")).first() is not None:
        op.execute("INSERT INTO settings (key, value) VALUES ('signals_need_classify', 'since a downgrade from 0006')")
