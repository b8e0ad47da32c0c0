"""Alembic environment: runs with the connection handed over by layers.db.schema (no alembic.ini needed).

`target_metadata` is the declared schema (layers/db/tables.py), so `alembic check` and autogenerate compare the
database with it. Without a handed-over connection (the `alembic` command line), `sqlalchemy.url` is used.
"""

from alembic import context
from sqlalchemy import create_engine

from layers.db.schema import autogenerate_options

connection = context.config.attributes.get("connection")
if connection is None:  # the alembic command line: alembic -x ... with sqlalchemy.url set
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no database: set sqlalchemy.url for the alembic command line")
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True, **autogenerate_options())
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()
else:
    context.configure(connection=connection, transaction_per_migration=True, **autogenerate_options())
    with context.begin_transaction():
        context.run_migrations()
