"""A one-off repair for databases migrated past 0002 while it was still an empty placeholder.

Until the accounts work filled it in, revision 0002 did nothing, so a database upgraded then to 0003 or later has
no accounts schema and no app role grants, and Alembic will never run 0002 again. `repair_skipped_accounts` (called
by `layers.db.schema.migrate`) applies 0002's SQL once to such a database; on every other database it is one query.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

import psycopg

from geo.errors import ServiceUnavailable
from layers.db.rows import one

MIGRATION = Path(__file__).resolve().parent / "migrations" / "versions" / "0002_accounts.py"
LOCK_KEY = 7_700_002


@cache
def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kotaku_migration_0002", MIGRATION)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load migration {MIGRATION}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _skipped(conn: psycopg.Connection) -> bool:
    candidate = one(conn.execute(
        "SELECT to_regclass('alembic_version') IS NOT NULL AND to_regclass('api_tokens') IS NULL"
    ).fetchone(), "to_regclass")[0]
    return candidate and (conn.execute("SELECT version_num FROM alembic_version").fetchone() or ("",))[0] >= "0002"


def repair_skipped_accounts(conn: psycopg.Connection, app_role: str) -> bool:
    """Apply migration 0002 to a database that skipped it (as the owner), for `app_role`; returns whether it did."""
    if not _skipped(conn):
        return False
    migration = _migration()
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        if not _skipped(conn):  # repaired meanwhile by another process
            return False
        try:
            conn.execute(migration.ROLE.replace("{role}", app_role.replace("'", "''")))
        except psycopg.errors.RaiseException as error:  # no right to create the role: what to ask a DBA for
            raise ServiceUnavailable(f"{error.diag.message_primary}. {error.diag.message_hint or ''}".strip()) from None
        conn.execute(migration.SCHEMA)
        conn.execute(migration.GRANTS.replace("{role}", migration._quoted(app_role)))
    return True
