"""People merges, ticket links (pull request -> ticket) and GitHub organisation members.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('github_members',
    sa.Column('org', sa.String(length=200), nullable=False),
    sa.Column('login', sa.String(length=200), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('org', 'login')
    )
    op.create_table('identity_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('account_a', sa.String(length=250), nullable=False),
    sa.Column('account_b', sa.String(length=250), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('ticket_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('target_key', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'target_key', name='uq_ticket_links_ticket_target')
    )
    with op.batch_alter_table('ticket_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_links_target_key'), ['target_key'], unique=False)

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_person_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_accounts_home_person_id', 'people', ['home_person_id'], ['id'])
    # Every account so far still belongs to the person it was created with.
    op.execute("UPDATE accounts SET home_person_id = person_id")




def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_constraint('fk_accounts_home_person_id', type_='foreignkey')
        batch_op.drop_column('home_person_id')

    with op.batch_alter_table('ticket_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_links_target_key'))

    op.drop_table('ticket_links')
    op.drop_table('identity_actions')
    op.drop_table('github_members')

