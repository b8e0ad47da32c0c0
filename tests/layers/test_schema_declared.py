"""The schema declared in layers/db/tables.py is exactly what the Alembic migrations make.

Two checks on the test database (migrated by the `database_url` fixture, like every test run):
- Alembic's autogenerate comparison (what `alembic check` runs) finds nothing to change: tables, columns, types
  (geometry type and SRID included), nullability, server defaults, keys, foreign keys, unique constraints, indexes;
- Alembic does not compare check constraints, the method (GiST) and predicate of an index or generated columns'
  expressions, so the declared tables are also created in a scratch schema with `metadata.create_all` and
  PostgreSQL's own rendering of both catalogues (pg_get_indexdef, pg_get_constraintdef, format_type) must match.
"""

from __future__ import annotations

import warnings

import psycopg
import pytest
from sqlalchemy import create_engine, text

from layers.db.connection import sqlalchemy_url
from layers.db.schema import compare_declared_schema
from layers.db.tables import KEMENDAGRI_CODE, TENANT_CODE, metadata

SCRATCH = "kotaku_declared"
DOMAINS = (KEMENDAGRI_CODE, TENANT_CODE)

CATALOGUE = """
SELECT 'column', c.relname, a.attname,
       format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(CASE WHEN a.attgenerated = 's' THEN ' GENERATED ' ELSE ' DEFAULT ' END
                   || pg_get_expr(d.adbin, d.adrelid), '')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
  AND c.relname = ANY(%(tables)s)
UNION ALL
SELECT 'constraint', c.relname, k.conname, k.contype::text || ' ' || pg_get_constraintdef(k.oid)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relname = ANY(%(tables)s)
UNION ALL
SELECT 'index', c.relname, i.relname,
       regexp_replace(pg_get_indexdef(i.oid), ' ON \\S+ USING ', ' USING ')
FROM pg_index x
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relname = ANY(%(tables)s)
"""


def _catalogue(conn: psycopg.Connection, schema: str) -> set[tuple[str, str, str, str]]:
    # Each side reads with its own schema first in the path, so names print unqualified on both.
    conn.execute(f'SET search_path = "{schema}", public')
    rows = conn.execute(CATALOGUE, {"schema": schema, "tables": sorted(metadata.tables)}).fetchall()
    return {tuple(row) for row in rows}


def test_migrations_make_the_declared_schema(database_url: str) -> None:
    with warnings.catch_warnings():
        # A changed generated-column expression is only a warning in Alembic: make it a failure.
        warnings.filterwarnings("error", message="Computed default")
        differences = compare_declared_schema(database_url)
    assert differences == []


def test_declared_tables_create_the_same_catalogue(database_url: str) -> None:
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCRATCH}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{SCRATCH}"'))
            connection.execute(text(f'SET LOCAL search_path = "{SCRATCH}", public'))
            scratch = connection.execution_options(schema_translate_map={None: SCRATCH})
            for domain in DOMAINS:  # made by migration 0001, not by create_all (create_type=False)
                domain.create(scratch)
            metadata.create_all(scratch)
        with psycopg.connect(database_url) as conn:
            migrated = _catalogue(conn, "public")
            declared = _catalogue(conn, SCRATCH)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCRATCH}" CASCADE'))
        engine.dispose()
    assert {row[1] for row in migrated} == set(metadata.tables)
    assert sorted(declared - migrated) == []
    assert sorted(migrated - declared) == []


@pytest.mark.parametrize("table", ["spatial_ref_sys", "alembic_version"])
def test_foreign_tables_are_not_declared(table: str) -> None:
    assert table not in metadata.tables
