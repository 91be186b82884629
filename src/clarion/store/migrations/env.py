"""Alembic runs migrations on the connection Clarion hands it (see store.database.migrate)."""

from alembic import context

from clarion.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
