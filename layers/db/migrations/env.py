"""Alembic environment: runs with the connection handed over by layers.migrate (no alembic.ini needed)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
