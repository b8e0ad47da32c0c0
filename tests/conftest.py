"""Test fixtures: a real PostGIS for the whole test session, never a mock.

Without KOTAKU_TEST_DATABASE_URL the suite uses the app's own cluster manager on a separate folder
(var/test-cluster, fsync off) and a database of its own per pytest process, so parallel runs do not meet.
The cluster is stopped at the end by the last session still using it (a shared file lock counts them).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import psycopg
import pytest

from layers.db.cluster import Cluster, project_root
from layers.db.schema import migrate

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
DATA_TABLES = (
    "audit_log", "users", "activities", "surveys", "survey_units", "slum_area_regions", "slum_areas", "decrees",
    "regions",
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data when present (developers and CI); skipped on a user's machine without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def database_url() -> str:
    external = os.environ.get("KOTAKU_TEST_DATABASE_URL")
    if external:
        migrate(external)
        yield external
        return
    cluster = Cluster(var_dir=project_root() / "var" / "test-cluster", database=f"kotaku_test_{os.getpid()}",
                      fast=True)
    cluster.var_dir.mkdir(parents=True, exist_ok=True)
    users = open(cluster.var_dir / "sessions.lock", "w")  # noqa: SIM115 (held for the whole session)
    fcntl.flock(users, fcntl.LOCK_SH)
    cluster.up()
    url = cluster.url()
    migrate(url)
    try:
        yield url
    finally:
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{cluster.database}" WITH (FORCE)')
        fcntl.flock(users, fcntl.LOCK_UN)
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            cluster.down()  # no other test session is using it
        except BlockingIOError:
            pass
        users.close()


@pytest.fixture
def empty_db(database_url: str) -> str:
    """The test database with every data table emptied (reference tables kept)."""
    with psycopg.connect(database_url) as conn:
        conn.execute(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE")
    return database_url


@pytest.fixture
def conn(empty_db: str):
    with psycopg.connect(empty_db) as connection:
        yield connection
