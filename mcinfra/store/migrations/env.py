"""Alembic environment: run on the connection the Store hands over (see Store._migrate)."""

from alembic import context

from mcinfra.store import catalog_tables  # noqa: F401  (its tables join Base.metadata)
from mcinfra.store.tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
