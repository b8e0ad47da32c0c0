"""Which database the app talks to, and connections to it.

DATABASE_URL wins: the app uses that server and starts nothing. Without it, the private cluster under
`var/` is brought up on demand.
"""

from __future__ import annotations

import os

import psycopg

from geo.errors import ServiceUnavailable
from layers.cluster import Cluster

REQUIRED_EXTENSIONS = ("postgis", "btree_gist")


def configured_url() -> str | None:
    return os.environ.get("DATABASE_URL") or None


def database_url(start: bool = True) -> str:
    """The URL to use; with no DATABASE_URL, the local cluster's (started first when `start`)."""
    url = configured_url()
    if url:
        return normalise_url(url)
    cluster = Cluster()
    if start:
        cluster.up()
    return cluster.url()


def normalise_url(url: str) -> str:
    """psycopg wants postgresql://; accept SQLAlchemy-style postgresql+psycopg:// too."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + normalise_url(url)[len("postgresql://"):]


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    url = url or database_url()
    try:
        return psycopg.connect(url, **kwargs)
    except psycopg.OperationalError as exc:
        raise ServiceUnavailable(f"cannot connect to the database: {exc}".strip()) from exc


def ensure_extensions(conn: psycopg.Connection) -> None:
    """Create postgis and btree_gist when missing (needs the right to CREATE EXTENSION)."""
    have = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
    for name in REQUIRED_EXTENSIONS:
        if name in have:
            continue
        available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", [name]).fetchone()
        if not available:
            raise ServiceUnavailable(
                f"the PostgreSQL extension '{name}' is not installed on the server "
                "(Debian package postgresql-15-postgis-3 for postgis)"
            )
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
