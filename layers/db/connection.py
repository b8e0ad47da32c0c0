"""Which database the app talks to, and connections to it.

DATABASE_URL wins: the app uses that server and starts nothing. Without it, the private cluster under
`var/` is brought up on demand.

The app's connections work as the restricted role APP_ROLE (`kotaku_app`, made by migration 0002): it may
read and write data but never change or delete audit entries. They log in as the owner of DATABASE_URL and
take the role at start-up (`options=-c role=...`); migrations and reference seeds ask for `owner=True`.
"""

from __future__ import annotations

import os

import psycopg
from psycopg.conninfo import conninfo_to_dict

from geo.errors import ServiceUnavailable
from layers.db.cluster import Cluster

REQUIRED_EXTENSIONS = ("postgis", "btree_gist")
APP_ROLE = os.environ.get("KOTAKU_APP_ROLE") or "kotaku_app"


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


def app_role_kwargs(url: str) -> dict[str, str]:
    """Connection keyword arguments that make a session work as APP_ROLE (kept with the URL's own options)."""
    options = conninfo_to_dict(url).get("options") or ""
    return {"options": f"{options} -c role={APP_ROLE}".strip()}


def connect(url: str | None = None, *, owner: bool = False, **kwargs) -> psycopg.Connection:
    """A connection working as APP_ROLE; `owner=True` for migrations and maintenance only."""
    url = url or database_url()
    if not owner:
        kwargs = {**app_role_kwargs(url), **kwargs}
    try:
        return psycopg.connect(url, **kwargs)
    except psycopg.OperationalError as exc:
        raise _unavailable(exc) from exc


async def connect_async(url: str | None = None, *, owner: bool = False, **kwargs) -> psycopg.AsyncConnection:
    url = url or database_url()
    if not owner:
        kwargs = {**app_role_kwargs(url), **kwargs}
    try:
        return await psycopg.AsyncConnection.connect(url, **kwargs)
    except psycopg.OperationalError as exc:
        raise _unavailable(exc) from exc


def _unavailable(exc: psycopg.OperationalError) -> ServiceUnavailable:
    if f'role "{APP_ROLE}" does not exist' in str(exc):
        return ServiceUnavailable(f"the database role '{APP_ROLE}' the app works as does not exist yet: "
                                  "run 'kotaku db migrate'")
    return ServiceUnavailable(f"cannot connect to the database: {exc}".strip())


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
