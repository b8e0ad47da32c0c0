"""Which database the app talks to, and connections to it.

The settings' database URL (DATABASE_URL) wins: the app uses that server and starts nothing. Without it, the
private cluster under `var/` is brought up on demand.

Two logins. The URL above is the owner's: migrations, reference seeds and maintenance ask for `owner=True`. The
app's connections (the HTTP pools, imports, exports, the CLI's data commands) log in as the restricted role
`app_role` itself (setting KOTAKU_APP_ROLE, default APP_ROLE `kotaku_app`, made by migration 0002, given LOGIN by
`ensure_app_login` when migrating): no superuser, owner of nothing, no CREATE, and no other role to `SET ROLE`
to, so injected SQL cannot take more rights than the app has. Its password is KOTAKU_APP_DATABASE_URL's when
that is set, else derived from the owner's (`app_password`: an HMAC, so knowing it reveals nothing of the
owner's; the private cluster keeps it in var/cluster.json too). Where the app role may not log in (an external
server whose owner may not create roles, and no KOTAKU_APP_DATABASE_URL), connections fall back to the old way
with a warning: the owner logs in and switches role (`options=-c role=...`), which `RESET ROLE` undoes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from geo.errors import ServiceUnavailable
from layers.db.cluster import Cluster
from layers.db.passwords import app_password
from layers.settings import Settings

REQUIRED_EXTENSIONS = ("postgis", "btree_gist")
APP_ROLE = Settings.model_fields["app_role"].default  # the default role; the one in use is settings.app_role
# What the server says when a login is refused (bad password, NOLOGIN role, no such role, pg_hba): then the
# app role may not log in by itself and the owner switches role instead.
LOGIN_REFUSED = ("password authentication failed", "is not permitted to log in", "does not exist",
                 "no pg_hba.conf entry", "no password supplied")
logger = logging.getLogger("kotaku.db")
_warned: set[tuple[str, str]] = set()


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


def app_login_url(url: str, app_role: str = APP_ROLE, app_database_url: str | None = None) -> str | None:
    """The conninfo of the app's own login: `app_database_url` when given; `url` itself when it already logs in
    as `app_role`; else `url` with user `app_role` and the derived password; None when `url` has no password."""
    if app_database_url:
        return normalise_url(app_database_url)
    url = normalise_url(url)
    params = conninfo_to_dict(url)
    if params.get("user") == app_role:
        return url
    owner_password = params.get("password")
    if not owner_password:
        return None
    return make_conninfo(url, user=app_role, password=app_password(str(owner_password), app_role))


@dataclass(frozen=True)
class AppLogin:
    """How the app's connections log in: `url` plus `kwargs`; `own` False when the owner switches role."""
    url: str
    kwargs: dict[str, str] = field(default_factory=dict)
    own: bool = True


def login_refused(exc: BaseException) -> bool:
    return isinstance(exc, psycopg.OperationalError) and any(text in str(exc) for text in LOGIN_REFUSED)


def owner_fallback(url: str, app_role: str = APP_ROLE, reason: str = "") -> AppLogin:
    """The old way, with a warning (once a process): the owner logs in and switches to `app_role`."""
    url = normalise_url(url)
    key = (str(conninfo_to_dict(url).get("host") or ""), app_role)
    if key not in _warned:
        _warned.add(key)
        logger.warning(
            "the app role %s cannot log in by itself (%s): the app's connections log in as the owner and switch "
            "role, which RESET ROLE undoes. Give the app its own login: set KOTAKU_APP_DATABASE_URL "
            "(user %s) and run 'kotaku db migrate' as an owner that may create roles, or ask the database "
            "administrator for: ALTER ROLE %s LOGIN PASSWORD '...'", app_role, reason.strip() or "no password",
            app_role, app_role)
    return AppLogin(url, app_role_kwargs(url, app_role), own=False)


def resolve_app_login(url: str, app_role: str = APP_ROLE, app_database_url: str | None = None,
                      probe: bool = True) -> AppLogin:
    """How the app logs in. With `probe`, one connection tries the app's own login: refused (see LOGIN_REFUSED)
    means the owner fallback; a server that cannot be reached keeps the own login (the pools retry)."""
    login = app_login_url(url, app_role, app_database_url)
    if login is None:
        return owner_fallback(url, app_role, "the owner's URL has no password to derive it from")
    if probe:
        try:
            psycopg.connect(login, connect_timeout=5).close()
        except psycopg.OperationalError as exc:
            if login_refused(exc) and not app_database_url:
                return owner_fallback(url, app_role, str(exc).strip().splitlines()[-1])
    return AppLogin(login)


def connect(url: str, *, owner: bool = False, app_role: str = APP_ROLE, app_database_url: str | None = None,
            **kwargs) -> psycopg.Connection:
    """A connection of the app, logged in as `app_role` (the owner switching role where it may not log in);
    `owner=True` for migrations and maintenance only."""
    try:
        if owner:
            return psycopg.connect(url, **kwargs)
        login = app_login_url(url, app_role, app_database_url)
        if login is not None:
            try:
                return psycopg.connect(login, **kwargs)
            except psycopg.OperationalError as exc:
                if not login_refused(exc) or app_database_url:
                    raise
                fallback = owner_fallback(url, app_role, str(exc).strip().splitlines()[-1])
        else:
            fallback = owner_fallback(url, app_role)
        return psycopg.connect(fallback.url, **{**fallback.kwargs, **kwargs})
    except psycopg.OperationalError as exc:
        raise _unavailable(exc, app_role) from exc


async def connect_async(url: str, *, owner: bool = False, app_role: str = APP_ROLE,
                        app_database_url: str | None = None, **kwargs) -> psycopg.AsyncConnection:
    try:
        if owner:
            return await psycopg.AsyncConnection.connect(url, **kwargs)
        login = app_login_url(url, app_role, app_database_url)
        if login is not None:
            try:
                return await psycopg.AsyncConnection.connect(login, **kwargs)
            except psycopg.OperationalError as exc:
                if not login_refused(exc) or app_database_url:
                    raise
                fallback = owner_fallback(url, app_role, str(exc).strip().splitlines()[-1])
        else:
            fallback = owner_fallback(url, app_role)
        return await psycopg.AsyncConnection.connect(fallback.url, **{**fallback.kwargs, **kwargs})
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
