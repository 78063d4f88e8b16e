"""Ticket sites, resolutions and incomplete histories; aliases of tracker accounts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('resolution', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('incomplete', sa.Text(), nullable=True))
    op.create_table('account_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tracker', sa.String(length=20), nullable=False),
    sa.Column('alias', sa.String(length=200), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tracker', 'alias', name='uq_account_aliases_tracker_alias')
    )
    # Tickets stored before kept their site only in their link (`<site>/browse/KEY`).
    connection = op.get_bind()
    tickets = sa.table('tickets', sa.column('id', sa.Integer), sa.column('url', sa.Text),
                       sa.column('site', sa.String))
    rows = connection.execute(sa.select(tickets.c.id, tickets.c.url).where(tickets.c.url.like('%/browse/%'))).all()
    if rows:
        connection.execute(
            tickets.update().where(tickets.c.id == sa.bindparam('b_id')).values(site=sa.bindparam('b_site')),
            [{'b_id': row.id, 'b_site': row.url.rsplit('/browse/', 1)[0][:300]} for row in rows],
        )


def downgrade() -> None:
    op.drop_table('account_aliases')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('incomplete')
        batch_op.drop_column('resolution')
        batch_op.drop_column('site')
