"""Migrations (Alembic, run programmatically) and the seeding of reference tables from data/reference."""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg

from data import data_path
from layers.db.accounts_repair import repair_skipped_accounts
from layers.db.connection import connect, database_url, ensure_extensions, sqlalchemy_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
REFERENCE_TABLES = {  # table -> (file, columns stored as arrays)
    "roles": ("roles.csv", ()),
    "programs": ("programs.csv", ()),
    "funding_sources": ("funding_sources.csv", ()),
    "activity_kinds": ("activity_kinds.csv", ("criteria",)),
}


def _alembic_config():
    # Alembic and SQLAlchemy are imported only when a migration runs: every CLI command calls migrate(),
    # and at the newest revision it needs neither (a third of a second of start-up saved).
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision: the highest-numbered file in migrations/versions (linear history, 0001, 0002...)."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def current_revision(conn: psycopg.Connection) -> str | None:
    exists = conn.execute("SELECT to_regclass('alembic_version')").fetchone()[0]
    if not exists:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def migrate(url: str | None = None) -> str:
    """Bring the schema to the newest revision and seed reference tables; returns the revision."""
    url = url or database_url()
    with connect(url, autocommit=True, owner=True) as conn:
        ensure_extensions(conn)
        repair_skipped_accounts(conn)
        at_head = current_revision(conn) == head_revision()
    if at_head:  # the common case on every command: skip Alembic's start-up
        with connect(url, owner=True) as conn:
            seed_reference(conn)
        return head_revision()
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            revision = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    with connect(url, owner=True) as conn:
        seed_reference(conn)
    return revision


def reset(url: str | None = None) -> str:
    """Drop every kotaku table and migrate again: all data is lost."""
    from alembic import command
    from sqlalchemy import create_engine

    url = url or database_url()
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
    finally:
        engine.dispose()
    return migrate(url)


def seed_reference(conn: psycopg.Connection) -> dict[str, int]:
    """Upsert each reference table from its CSV in data/reference. Returns rows per table."""
    counts = {}
    for table, (filename, array_columns) in REFERENCE_TABLES.items():
        with open(data_path("reference", filename), newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        columns = list(rows[0].keys())
        values = [
            [
                (row[c].split(";") if c in array_columns else (row[c] if row[c] != "" else None))
                for c in columns
            ]
            for row in rows
        ]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "code")
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON CONFLICT (code) DO UPDATE SET {updates}"
        )
        with conn.cursor() as cur:
            cur.executemany(sql, values)
        counts[table] = len(rows)
    conn.commit()
    return counts
