"""The app role's own login: made (LOGIN, password) when migrating, where the owner may.

Roles are server-wide and `kotaku` commands migrate on every start, so the login is tried first (one
connection) and the role is changed only when that is refused, under an advisory lock: several processes
starting at once do not race on ALTER ROLE. Where the owner may not change roles (an external server), the
result says what to ask the database administrator for; the app then falls back to switching role (with a
warning, layers/db/connection.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from layers.db.connection import APP_ROLE, app_login_url, login_refused
from layers.db.rows import one

LOCK_KEY = 7_700_006


@dataclass(frozen=True)
class LoginState:
    ok: bool  # the app role logs in by itself
    message: str  # what was done, or what to ask for


def _try_login(login: str) -> Exception | None:
    try:
        psycopg.connect(login, connect_timeout=10).close()
    except psycopg.OperationalError as exc:
        return exc
    return None


def ensure_app_login(conn: psycopg.Connection, owner_url: str, app_role: str = APP_ROLE,
                     app_database_url: str | None = None) -> LoginState:
    """Make `app_role` log in with its password (KOTAKU_APP_DATABASE_URL's, else the one derived from the owner's).

    `conn` is the owner's (autocommit). Nothing changes when the login already works or cannot be fixed here."""
    login = app_login_url(owner_url, app_role, app_database_url)
    if login is None:
        return LoginState(False, "the owner's URL has no password to derive the app role's from: set "
                                 "KOTAKU_APP_DATABASE_URL")
    params = conninfo_to_dict(login)
    user, password = params.get("user"), params.get("password")
    if user != app_role:
        return LoginState(False, f"KOTAKU_APP_DATABASE_URL logs in as '{user}', not as KOTAKU_APP_ROLE "
                                 f"'{app_role}': make them the same role")
    owner = one(conn.execute("SELECT current_user").fetchone(), "current_user")[0]
    if owner == app_role:
        return LoginState(False, f"the owner '{owner}' is the app role itself: set KOTAKU_APP_ROLE to another role")
    refused = _try_login(login)
    if refused is None:
        return LoginState(True, f"the app logs in as '{app_role}'")
    if not login_refused(refused):
        return LoginState(False, f"the app role's login could not be tried: {refused}".strip())
    may = one(conn.execute(
        "SELECT r.rolsuper OR (r.rolcreaterole AND NOT coalesce(a.rolsuper, false)) "
        "FROM pg_roles r LEFT JOIN pg_roles a ON a.rolname = %s WHERE r.rolname = current_user",
        [app_role]).fetchone(), "may")[0]
    statement = sql.SQL("ALTER ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                        "PASSWORD {}").format(sql.Identifier(app_role), sql.Literal(password))
    if not may or not password:
        return LoginState(False, f"'{owner}' may not give the role '{app_role}' a login: ask the database "
                                 f"administrator to run: ALTER ROLE {app_role} LOGIN PASSWORD '...'; and set "
                                 "KOTAKU_APP_DATABASE_URL with that password")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        if _try_login(login) is not None:  # not done meanwhile by another process
            conn.execute(statement)
    return LoginState(True, f"the app role '{app_role}' may now log in (its own password)")
