"""Ticket sites, resolutions and incomplete histories; aliases of tracker accounts; one id per merge.

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
    for name, table, where in (
        ('ix_tickets_incomplete', 'tickets', "incomplete IS NOT NULL"),
        ('ix_tickets_closed', 'tickets', "phase IN ('done', 'deployed')"),
        ('ix_attributions_unknown_person', 'attributions', "side = 'unknown'"),
    ):
        column = 'person_id' if table == 'attributions' else 'id'
        op.create_index(name, table, [column], unique=False, sqlite_where=sa.text(where),
                        postgresql_where=sa.text(where))
    op.create_table('account_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tracker', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('alias', sa.String(length=200), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tracker', 'kind', 'alias', name='uq_account_aliases_tracker_kind_alias')
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


    _one_merge_id(connection)


def _one_merge_id(connection: sa.engine.Connection) -> None:
    """A pull request's merge is one act with one id, `merged`, whether the `merged` issue event
    or the pull request's `merged_by` reported it (connectors.github_pulls). Merges stored
    before under the issue event's id (`e<id>`) take the new one, and so does their evidence."""
    events = sa.table('events', sa.column('id', sa.Integer), sa.column('ticket_id', sa.Integer),
                      sa.column('kind', sa.String), sa.column('external_id', sa.String))
    attributions = sa.table('attributions', sa.column('id', sa.Integer), sa.column('ticket_id', sa.Integer),
                            sa.column('rule', sa.String), sa.column('event_external_id', sa.String))
    merges = connection.execute(sa.select(events.c.id, events.c.ticket_id, events.c.external_id)
                                .where(events.c.kind == 'merge').order_by(events.c.id)).all()
    renamed: dict[tuple[int, str], str] = {}
    kept: set[int] = set()
    for row in merges:
        if row.external_id == 'merged' or row.ticket_id in kept:
            kept.add(row.ticket_id)
            continue
        kept.add(row.ticket_id)
        renamed[(row.ticket_id, row.external_id)] = 'merged'
        connection.execute(events.update().where(events.c.id == row.id).values(external_id='merged'))
    for row in connection.execute(sa.select(attributions.c.id, attributions.c.ticket_id, attributions.c.rule,
                                            attributions.c.event_external_id)
                                  .where(attributions.c.rule.in_(('merges', 'merges-linked-pr')))).all():
        key, sep, event_id = (row.event_external_id or '').rpartition(':')
        if row.rule == 'merges' and (row.ticket_id, row.event_external_id) in renamed:
            connection.execute(attributions.update().where(attributions.c.id == row.id)
                               .values(event_external_id='merged'))
        elif row.rule == 'merges-linked-pr' and sep and event_id.startswith('e'):
            connection.execute(attributions.update().where(attributions.c.id == row.id)
                               .values(event_external_id=f'{key}:merged'))


def downgrade() -> None:
    op.drop_table('account_aliases')
    for name, table in (('ix_attributions_unknown_person', 'attributions'), ('ix_tickets_closed', 'tickets'),
                        ('ix_tickets_incomplete', 'tickets')):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('incomplete')
        batch_op.drop_column('resolution')
        batch_op.drop_column('site')
