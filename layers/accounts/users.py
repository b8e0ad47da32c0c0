"""Users: one role each, scoped to an area; passwords, bearer tokens and browser sessions.

The `kotaku user` commands and the /users and /auth routes call these functions; each write checks
`user.manage` (admin) where it manages someone else, and appends an audit entry in its own transaction.
Users are disabled, never deleted, so the names in the audit trail keep meaning someone.

Areas by role (`--area`): kepling 'KELURAHAN/LABEL' (its lingkungan or RT, e.g. '12.71.01.1001/Lingkungan 02');
lurah a kelurahan/desa code; camat a kecamatan code; opd, bappeda and pokja a kab/kota code (opd with its agency,
'12.71/Dinas PU' or agency=...); konsultan one or more kab/kota codes ('12.71,73.07'); admin none.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from geo.errors import Conflict, InvalidInput, NotFound
from layers.accounts import tokens
from layers.accounts.access import AREA_LABEL_SEPARATOR, ROLES, Principal
from layers.accounts.audit import record_async
from layers.accounts.permissions import Target, require, require_role
from layers.db.rows import one
from layers.values.codes import normalise_code

USER_ROLES = tuple(r for r in ROLES if r != "publik")
AREA_PARTS = {"kepling": 4, "lurah": 4, "camat": 3, "opd": 2, "bappeda": 2, "pokja": 2}
AREA_EXAMPLES = {"kepling": "12.71.01.1001/Lingkungan 02", "lurah": "12.71.01.1001", "camat": "12.71.01",
                 "opd": "12.71/Dinas PU", "bappeda": "12.71", "pokja": "12.71", "konsultan": "12.71,73.07"}
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD = 8
SESSION_HOURS = 12

_SELECT = sql.SQL("""
SELECT u.id, u.username, u.display_name, u.role, u.area_code, u.tenant, u.agency, u.disabled, u.created_at,
       ARRAY(SELECT ut.tenant::text FROM user_tenants ut WHERE ut.user_id = u.id ORDER BY 1)
FROM users u
""")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str | None
    role: str
    area_code: str | None
    tenant: str | None
    agency: str | None
    disabled: bool
    created_at: datetime | None = None
    tenants: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_row(cls, row: tuple) -> User:
        user_id, username, display_name, role, area_code, tenant, agency, disabled, created_at = row[:9]
        return cls(user_id, username, display_name, role, area_code, tenant, agency, disabled, created_at,
                   tenants=tuple(row[9] or ()))

    def principal(self) -> Principal:
        return Principal(role=self.role, username=self.username, tenant=self.tenant, area_code=self.area_code,
                         tenants=self.tenants, agency=self.agency)

    def as_dict(self) -> dict[str, Any]:
        """What the audit trail and the API show: never a hash."""
        return {"username": self.username, "display_name": self.display_name, "role": self.role,
                "area_code": self.area_code, "tenant": self.tenant, "tenants": list(self.tenants),
                "agency": self.agency, "disabled": self.disabled}


def principal_of(columns: dict[str, Any]) -> Principal:
    """The Principal of a user row as layers.accounts.tokens.lookup returns it."""
    return Principal(role=columns["role"], username=columns["username"], tenant=columns["tenant"],
                     area_code=columns["area_code"], tenants=tuple(columns["tenants"] or ()),
                     agency=columns["agency"])


def parse_area(role: str, area: str | None, agency: str | None = None
               ) -> tuple[str | None, str | None, tuple[str, ...], str | None]:
    """(area_code, tenant, assigned tenants, agency) for a role and its --area; InvalidInput naming what is wrong."""
    if role not in USER_ROLES:
        raise InvalidInput(f"role '{role}' does not exist; roles: {', '.join(USER_ROLES)}", details={"field": "role"})
    area = (area or "").strip()
    if role == "admin":
        if area:
            raise InvalidInput("an admin is not scoped to an area: leave --area out", details={"field": "area"})
        return None, None, (), None
    if not area:
        raise InvalidInput(f"a {role} needs --area, e.g. {AREA_EXAMPLES[role]}", details={"field": "area"})
    if role == "konsultan":
        tenants = []
        for part in re.split(r"[,\s]+", area):
            code = normalise_code(part) if part else None
            if code is None or code.count(".") != 1:
                raise InvalidInput(f"'{part}' is not a kab/kota code; a konsultan's --area lists the kab/kota it is "
                                   f"assigned to, e.g. {AREA_EXAMPLES[role]}", details={"field": "area"})
            tenants.append(code)
        return None, None, tuple(sorted(set(tenants))), None
    code_text, _, label = area.partition(AREA_LABEL_SEPARATOR)
    label = " ".join(label.split())
    code = normalise_code(code_text)
    parts = AREA_PARTS[role]
    levels = {2: "kab/kota", 3: "kecamatan", 4: "kelurahan/desa"}
    if code is None or code.count(".") + 1 != parts:
        raise InvalidInput(f"'{code_text}' is not a {levels[parts]} code; a {role}'s --area looks like "
                           f"{AREA_EXAMPLES[role]}", details={"field": "area"})
    if role == "opd":
        agency = " ".join((agency or label).split()) or None
        if not agency:
            raise InvalidInput("an opd needs its agency: --area 12.71/Dinas PU (or --agency)",
                               details={"field": "agency"})
        return code, code[:5], (), agency
    if role == "kepling":
        if not label:
            raise InvalidInput("a kepling's --area names its lingkungan or RT inside the kelurahan, e.g. "
                               f"{AREA_EXAMPLES[role]}", details={"field": "area"})
        return f"{code}{AREA_LABEL_SEPARATOR}{label}", code[:5], (), None
    if label:
        raise InvalidInput(f"a {role}'s area is a {levels[parts]} code without a label (got '{area}')",
                           details={"field": "area"})
    return code, code[:5], (), None


async def _check_region_known(conn: psycopg.AsyncConnection, code: str | None) -> None:
    """With the kab/kota's regions loaded, the area's code must be one of them (a typo is caught early)."""
    if code is None:
        return
    code = code.split(AREA_LABEL_SEPARATOR, 1)[0]
    cur = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM regions WHERE tenant = %s), EXISTS (SELECT 1 FROM regions WHERE code = %s)",
        [code[:5], code])
    loaded, known = one(await cur.fetchone(), "SELECT EXISTS (regions)")
    if loaded and not known:
        raise InvalidInput(f"region {code} is not among the loaded regions of kab/kota {code[:5]}",
                           details={"field": "area"})


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters", details={"field": "password"})


async def get_user(conn: psycopg.AsyncConnection, username: str) -> User:
    cur = await conn.execute(_SELECT + sql.SQL(" WHERE u.username = %s"), [username.strip().lower()])
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"user '{username}' does not exist")
    return User.from_row(row)


async def _managed_user(conn: psycopg.AsyncConnection, actor: Principal, username: str) -> User:
    """The user `actor` wants to manage, once it may manage that user (its kab/kota)."""
    user = await get_user(conn, username)
    require(actor, "user.manage", Target(tenant=user.tenant, area_code=user.area_code))
    return user


async def list_users(conn: psycopg.AsyncConnection, actor: Principal) -> list[User]:
    require(actor, "user.manage")
    cur = await conn.execute(_SELECT + sql.SQL(" ORDER BY u.username"))
    return [User.from_row(row) for row in await cur.fetchall()]


async def add_user(conn: psycopg.AsyncConnection, actor: Principal, username: str, role: str,
                   area: str | None = None, *, password: str | None = None, display_name: str | None = None,
                   agency: str | None = None) -> tuple[User, str | None]:
    """Create a user; returns it and the generated password (None when one was given)."""
    require_role(actor, "user.manage")
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise InvalidInput(f"user name '{username}' must be 2-63 characters: lowercase letters, digits, '.', '_' "
                           "or '-', starting with a letter or digit", details={"field": "username"})
    area_code, tenant, tenants, agency = parse_area(role, area, agency)
    require(actor, "user.manage", Target(tenant=tenant, area_code=area_code))
    generated = None
    if password is None:
        password = generated = tokens.generate_password()
    _check_password(password)
    password_hash = await asyncio.to_thread(tokens.hash_password, password)
    async with conn.transaction():
        await _check_region_known(conn, area_code)
        try:
            cur = await conn.execute(
                "INSERT INTO users (username, display_name, role, area_code, tenant, agency, password_hash) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                [username, display_name, role, area_code, tenant, agency, password_hash])
        except psycopg.errors.UniqueViolation:
            raise Conflict(f"user '{username}' already exists") from None
        user_id = one(await cur.fetchone(), "INSERT INTO users ... RETURNING id")[0]
        for assigned in tenants:
            await conn.execute("INSERT INTO user_tenants (user_id, tenant) VALUES (%s, %s)", [user_id, assigned])
        user = await get_user(conn, username)
        await record_async(conn, actor, "user.add", "user", username, None, user.as_dict(), tenant=tenant)
    return user, generated


async def set_disabled(conn: psycopg.AsyncConnection, actor: Principal, username: str, disabled: bool = True
                       ) -> User:
    """Disable (every token and session revoked at once) or enable a user."""
    require_role(actor, "user.manage")
    async with conn.transaction():
        before = await _managed_user(conn, actor, username)
        await conn.execute("UPDATE users SET disabled = %s, updated_at = now() WHERE id = %s",
                           [disabled, before.id])
        revoked = await tokens.revoke(conn, before.id) if disabled else []
        after = await get_user(conn, username)
        await record_async(conn, actor, "user.disable" if disabled else "user.enable", "user", after.username,
                           before.as_dict(), {**after.as_dict(), "revoked_tokens": revoked}, tenant=after.tenant)
    return after


async def set_password(conn: psycopg.AsyncConnection, actor: Principal, username: str, password: str | None = None
                       ) -> str | None:
    """A new password (generated and returned when none is given); the user's sessions end."""
    require_role(actor, "user.manage")
    generated = None
    if password is None:
        password = generated = tokens.generate_password()
    _check_password(password)
    password_hash = await asyncio.to_thread(tokens.hash_password, password)
    async with conn.transaction():
        user = await _managed_user(conn, actor, username)
        await conn.execute("UPDATE users SET password_hash = %s, updated_at = now() WHERE id = %s",
                           [password_hash, user.id])
        revoked = await tokens.revoke(conn, user.id, kind="session")
        await record_async(conn, actor, "user.password", "user", user.username, None,
                           {"password_changed": True, "revoked_sessions": revoked}, tenant=user.tenant)
    return generated


async def issue_token(conn: psycopg.AsyncConnection, actor: Principal, username: str, *, label: str | None = None,
                      expires_days: int | None = None) -> tuple[int, str]:
    """A new bearer token for the user: (id, token). The token is shown once; only its hash is kept."""
    require_role(actor, "user.manage")
    if expires_days is not None and expires_days < 1:
        raise InvalidInput("expires_days must be at least 1", details={"field": "expires_days"})
    expires_at = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    async with conn.transaction():
        user = await _managed_user(conn, actor, username)
        if user.disabled:
            raise Conflict(f"user '{username}' is disabled: enable it before giving it a token")
        token_id, token = await tokens.issue(conn, user.id, "token", label=label, expires_at=expires_at)
        await record_async(conn, actor, "token.issue", "api_token", token_id, None,
                           {"user": user.username, "label": label, "expires_at": expires_at}, tenant=user.tenant)
    return token_id, token


async def revoke_tokens(conn: psycopg.AsyncConnection, actor: Principal, username: str,
                        token_id: int | None = None) -> list[int]:
    """Revoke one bearer token of the user, or all its tokens and sessions; returns the ids revoked."""
    require_role(actor, "user.manage")
    async with conn.transaction():
        user = await _managed_user(conn, actor, username)
        revoked = await tokens.revoke(conn, user.id, token_id)
        if token_id is not None and not revoked:
            raise NotFound(f"user '{username}' has no live token {token_id}")
        await record_async(conn, actor, "token.revoke", "api_token", token_id, None,
                           {"user": user.username, "revoked": revoked}, tenant=user.tenant)
    return revoked


async def list_tokens(conn: psycopg.AsyncConnection, actor: Principal, username: str) -> list[dict[str, Any]]:
    require_role(actor, "user.manage")
    user = await _managed_user(conn, actor, username)
    cur = await conn.execute(
        "SELECT id, kind, label, created_at, expires_at, revoked_at FROM api_tokens WHERE user_id = %s ORDER BY id",
        [user.id])
    names = ("id", "kind", "label", "created_at", "expires_at", "revoked_at")
    return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]


async def login(conn: psycopg.AsyncConnection, username: str, password: str
                ) -> tuple[User, int, str, datetime] | None:
    """Check the password and open a session: (user, session id, session token, expiry), or None when the name or
    password is wrong or the user is disabled (one answer for all three, taking as long)."""
    cur = await conn.execute("SELECT password_hash, disabled FROM users WHERE username = %s",
                             [(username or "").strip().lower()])
    row = await cur.fetchone()
    stored, disabled = row if row else (None, True)
    if not await asyncio.to_thread(tokens.verify_password, stored, password or "") or disabled:
        return None
    expires_at = datetime.now(UTC) + timedelta(hours=SESSION_HOURS)
    async with conn.transaction():
        user = await get_user(conn, username)
        session_id, token = await tokens.issue(conn, user.id, "session", expires_at=expires_at)
        await record_async(conn, user.principal(), "auth.login", "session", session_id, None,
                           {"user": user.username, "expires_at": expires_at}, tenant=user.tenant)
    return user, session_id, token, expires_at


async def logout(conn: psycopg.AsyncConnection, principal: Principal, session_id: int) -> None:
    async with conn.transaction():
        cur = await conn.execute(
            "UPDATE api_tokens SET revoked_at = now() WHERE id = %s AND kind = 'session' AND revoked_at IS NULL "
            "RETURNING id", [session_id])
        if await cur.fetchone():
            await record_async(conn, principal, "auth.logout", "session", session_id, None,
                               {"user": principal.username})


async def resolve(conn: psycopg.AsyncConnection, token: str, kind: str) -> tuple[Principal, int] | None:
    """The caller behind a bearer token (kind 'token') or a session cookie ('session'), with the token's id."""
    found = await tokens.lookup(conn, token, kind)
    if found is None:
        return None
    token_id, columns = found
    return principal_of(columns), token_id
