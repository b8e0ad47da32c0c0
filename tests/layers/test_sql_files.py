"""Functions, trigger functions and views are defined once, in layers/db/sql/*.sql, and the migrations load them."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import psycopg

from layers.db.sql import NAMES, load_sql

VERSIONS = Path(__file__).resolve().parents[2] / "layers" / "db" / "migrations" / "versions"

DEFINITION = """
SELECT 'function ' || p.oid::regprocedure::text, pg_get_functiondef(p.oid)
FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace AND p.proname = ANY(%(names)s)
UNION ALL
SELECT 'view ' || c.relname, pg_get_viewdef(c.oid)
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'v' AND c.relname = ANY(%(names)s)
"""


def _definitions(conn: psycopg.Connection) -> dict[str, str]:
    return dict(conn.execute(DEFINITION, {"names": list(NAMES)}).fetchall())


def test_every_file_is_named_and_installed() -> None:
    files = {entry.name.removesuffix(".sql") for entry in resources.files("layers.db.sql").iterdir()
             if entry.name.endswith(".sql")}
    assert files == set(NAMES)
    for name in NAMES:
        assert re.search(rf"CREATE OR REPLACE (FUNCTION|VIEW) {name}\b", load_sql(name)), name


def test_migrations_load_the_files_and_define_nothing_inline() -> None:
    migrations = "\n".join(path.read_text(encoding="utf-8") for path in sorted(VERSIONS.glob("*.py")))
    for name in NAMES:
        assert f'load_sql("{name}")' in migrations, name
    assert not re.search(r"CREATE (OR REPLACE )?(FUNCTION|VIEW)\b", migrations)


def test_the_migrated_database_holds_the_files_definitions(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        migrated = _definitions(conn)
        assert len(migrated) == len(NAMES)
        for name in NAMES:  # re-applying a file changes nothing: the database has the current definition
            conn.execute(load_sql(name))
        assert _definitions(conn) == migrated
        conn.rollback()
