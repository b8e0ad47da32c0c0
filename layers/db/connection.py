"""Which database the app talks to, and connections to it.

The settings' database URL (DATABASE_URL) wins: the app uses that server and starts nothing. Without it, the
private cluster under `var/` is brought up on demand.

The app's connections work as the restricted role `app_role` (setting KOTAKU_APP_ROLE, default APP_ROLE
`kotaku_app`, made by migration 0002): it may read and write data but never change or delete audit entries. They
log in as the owner of DATABASE_URL and take the role at start-up (`options=-c role=...`); migrations and
reference seeds ask for `owner=True`.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from geo.errors import ServiceUnavailable
from layers.db.cluster import Cluster
from layers.settings import Settings

REQUIRED_EXTENSIONS = ("postgis", "btree_gist")
APP_ROLE = Settings.model_fields["app_role"].default  # the default role; the one in use is settings.app_role


def database_url(settings: Settings, start: bool = True) -> str:
    """The URL to use: the settings' database URL, else the local cluster's (started first when `start`)."""
    if settings.database_url:
        return normalise_url(settings.database_url)
    cluster = Cluster.from_settings(settings)
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


def app_role_kwargs(url: str, app_role: str = APP_ROLE) -> dict[str, str]:
    """Connection keyword arguments that make a session work as `app_role` (kept with the URL's own options)."""
    options = conninfo_to_dict(url).get("options") or ""
    return {"options": f"{options} -c role={app_role}".strip()}


def connect(url: str, *, owner: bool = False, app_role: str = APP_ROLE, **kwargs) -> psycopg.Connection:
    """A connection working as `app_role`; `owner=True` for migrations and maintenance only."""
    if not owner:
        kwargs = {**app_role_kwargs(url, app_role), **kwargs}
    try:
        return psycopg.connect(url, **kwargs)
    except psycopg.OperationalError as exc:
        raise _unavailable(exc, app_role) from exc


async def connect_async(url: str, *, owner: bool = False, app_role: str = APP_ROLE,
                        **kwargs) -> psycopg.AsyncConnection:
    if not owner:
        kwargs = {**app_role_kwargs(url, app_role), **kwargs}
    try:
        return await psycopg.AsyncConnection.connect(url, **kwargs)
    except psycopg.OperationalError as exc:
        raise _unavailable(exc, app_role) from exc


def _unavailable(exc: psycopg.OperationalError, app_role: str = APP_ROLE) -> ServiceUnavailable:
    if f'role "{app_role}" does not exist' in str(exc):
        return ServiceUnavailable(f"the database role '{app_role}' the app works as does not exist yet: "
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
        conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(name)))
