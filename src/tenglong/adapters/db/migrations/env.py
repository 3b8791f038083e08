"""Alembic environment: the package's metadata, batch mode for SQLite ALTERs."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from tenglong.adapters.db.tables import metadata

config = context.config


def run() -> None:
    """Run migrations on the connection handed in by ``engine.upgrade``, or on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


run()
