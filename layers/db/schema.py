"""Migrations (Alembic, run programmatically) and the seeding of reference tables from data/reference."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import psycopg
from psycopg import sql

from data import data_path
from layers.db.accounts_repair import repair_skipped_accounts
from layers.db.app_login import ensure_app_login
from layers.db.connection import APP_ROLE, connect, ensure_extensions, sqlalchemy_url
from layers.db.rows import one

logger = logging.getLogger("kotaku.db")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
REFERENCE_TABLES = {  # table -> (file, columns stored as arrays)
    "roles": ("roles.csv", ()),
    "programs": ("programs.csv", ()),
    "funding_sources": ("funding_sources.csv", ()),
    "activity_kinds": ("activity_kinds.csv", ("criteria",)),
}


def _alembic_config(app_role: str):
    # Alembic and SQLAlchemy are imported only when a migration runs: every CLI command calls migrate(),
    # and at the newest revision it needs neither (a third of a second of start-up saved).
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["app_role"] = app_role  # read by migration 0002
    return config


# Tables in the database that the declared schema (layers/db/tables.py) does not own.
FOREIGN_TABLES = frozenset({"alembic_version", "spatial_ref_sys"})


def include_object(obj, name, obj_type, reflected, compare_to) -> bool:
    """Autogenerate filter: PostGIS's own tables (and tiger/topology schemas) and Alembic's are not kotaku's."""
    from geoalchemy2 import alembic_helpers

    if obj_type == "table" and (name in FOREIGN_TABLES or getattr(obj, "schema", None) in ("tiger", "topology")):
        return False
    return alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to)


def autogenerate_options() -> dict:
    """What env.py and compare_declared_schema hand Alembic: the declared tables and how to compare them."""
    from geoalchemy2 import alembic_helpers

    from layers.db.tables import metadata

    return {
        "target_metadata": metadata,
        "include_object": include_object,
        "include_schemas": False,
        "compare_type": True,
        "compare_server_default": True,
        "render_item": alembic_helpers.render_item,
        "process_revision_directives": alembic_helpers.writer,
    }


def compare_declared_schema(url: str) -> list:
    """Differences between the database at `url` and layers/db/tables.py ([] when they agree): `alembic check`."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    options = autogenerate_options()
    metadata = options.pop("target_metadata")
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection, opts=options), metadata)
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest revision: the highest-numbered file in migrations/versions (linear history, 0001, 0002...)."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def current_revision(conn: psycopg.Connection) -> str | None:
    exists = one(conn.execute("SELECT to_regclass('alembic_version')").fetchone(), "to_regclass")[0]
    if not exists:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def migrate(url: str, app_role: str = APP_ROLE, app_database_url: str | None = None) -> str:
    """Bring the schema to the newest revision and seed reference tables; returns the revision.

    `app_role` is the role the app works as (setting KOTAKU_APP_ROLE): created and granted by migration 0002,
    hardened by 0006, and given its own login here (KOTAKU_APP_DATABASE_URL's password, else derived from the
    owner's) where the owner may; where it may not, a warning says what to ask the administrator for."""
    with connect(url, autocommit=True, owner=True) as conn:  # one connection when at head (every command)
        ensure_extensions(conn)
        repair_skipped_accounts(conn, app_role)
        if current_revision(conn) == head_revision():  # the common case: skip Alembic's start-up
            _finish(conn, url, app_role, app_database_url)
            return head_revision()
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as connection:
            config = _alembic_config(app_role)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            revision = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    if revision is None:
        raise RuntimeError("alembic upgrade to head left the database without a revision")
    with connect(url, autocommit=True, owner=True) as conn:
        _finish(conn, url, app_role, app_database_url)
    return revision


def _finish(conn: psycopg.Connection, url: str, app_role: str, app_database_url: str | None) -> None:
    """Seed the reference tables and give the app role its login, on an autocommit connection."""
    seed_reference(conn)
    state = ensure_app_login(conn, url, app_role, app_database_url)
    if not state.ok:
        logger.warning("%s", state.message)


def reset(url: str, app_role: str = APP_ROLE, app_database_url: str | None = None) -> str:
    """Drop every kotaku table and migrate again: all data is lost."""
    from alembic import command
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as connection:
            config = _alembic_config(app_role)
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
    finally:
        engine.dispose()
    return migrate(url, app_role, app_database_url)


def seed_reference(conn: psycopg.Connection) -> dict[str, int]:
    """Upsert each reference table from its CSV in data/reference, all in one transaction. Returns rows per
    table."""
    with conn.transaction():
        return _upsert_reference(conn)


def _upsert_reference(conn: psycopg.Connection) -> dict[str, int]:
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
        updates = sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                                     for c in columns if c != "code")
        statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (code) DO UPDATE SET {}").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            sql.SQL(", ").join([sql.Placeholder()] * len(columns)), updates)
        with conn.cursor() as cur:
            cur.executemany(statement, values)
        counts[table] = len(rows)
    return counts
