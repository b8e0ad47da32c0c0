"""Shared set-up of the scoring tests (surveys, scores, progress, priority): clean scoring tables, files written
in the test. The demo itself comes from `demo_url`/`demo_conn` (tests/conftest.py). Not a test module."""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg

TENANT = "12.71"
SCORING_TABLES = ("strategic_zones", "priority_matrices", "scoring_state")


def clean_scoring(conn: psycopg.Connection) -> None:
    """Tables of migration 0003 that the suite's TRUNCATE ... CASCADE does not reach."""
    conn.execute(f"TRUNCATE {', '.join(SCORING_TABLES)}")
    conn.commit()


def write_csv(path: Path, rows: list[dict]) -> Path:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def scalar(conn: psycopg.Connection, query: str, *params):
    return conn.execute(query, params).fetchone()[0]
