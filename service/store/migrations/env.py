"""Alembic environment: the engine comes from the caller (service.store.db.upgrade)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from service.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` run by hand: take the URL from -x url=...
    engine = create_engine(context.get_x_argument(as_dictionary=True)["url"])

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
