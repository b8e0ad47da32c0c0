"""Secrets: password hashes, bearer tokens and browser sessions, stored only as argon2 hashes (argon2-cffi).

A token reads `ktk_<id>_<secret>` (bearer) or `kss_<id>_<secret>` (session cookie): the id finds the row, the
32-byte random secret is checked against its argon2 hash. Passwords use argon2id's default (RFC 9106) cost;
token secrets are 256 random bits, beyond any guessing whatever the hash cost, so they use a light one.

Every request still reads its token row (revoked, expired, user disabled: refused at once), but argon2 runs once
per token per process: a verified token is remembered by the SHA-256 of the token beside the hash it matched,
and a token is taken as verified only while its row still holds that very hash.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import secrets
from collections import OrderedDict
from datetime import datetime
from typing import Any

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from layers.db.rows import one

PASSWORD_HASHER = PasswordHasher()
SECRET_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PREFIX = {"token": "ktk", "session": "kss"}
_TOKEN_RE = re.compile(r"^(ktk|kss)_(\d{1,18})_([A-Za-z0-9_-]{43})$")
_VERIFIED_MAX = 4096
_verified: OrderedDict[bytes, str] = OrderedDict()


@functools.cache
def _dummy_password_hash() -> str:
    """Verified against when the user does not exist, so that takes as long as a wrong password."""
    return PASSWORD_HASHER.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return PASSWORD_HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(stored_hash or _dummy_password_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def format_token(kind: str, token_id: int, secret: str) -> str:
    return f"{PREFIX[kind]}_{token_id}_{secret}"


def parse_token(token: str) -> tuple[str, int, str] | None:
    """(kind, id, secret), or None when the text is not a kotaku token."""
    match = _TOKEN_RE.match(token.strip())
    if not match:
        return None
    kind = "token" if match.group(1) == "ktk" else "session"
    return kind, int(match.group(2)), match.group(3)


def _verify_secret(token: str, secret: str, stored_hash: str) -> bool:
    key = hashlib.sha256(token.encode()).digest()
    if _verified.get(key) == stored_hash:
        _verified.move_to_end(key)
        return True
    try:
        SECRET_HASHER.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False
    _verified[key] = stored_hash
    while len(_verified) > _VERIFIED_MAX:
        _verified.popitem(last=False)
    return True


async def issue(conn: psycopg.AsyncConnection, user_id: int, kind: str, *, label: str | None = None,
                expires_at: datetime | None = None) -> tuple[int, str]:
    """A new token or session for the user: (id, the token text, shown once and never stored)."""
    secret = secrets.token_urlsafe(32)
    secret_hash = await asyncio.to_thread(SECRET_HASHER.hash, secret)
    cur = await conn.execute(
        "INSERT INTO api_tokens (user_id, kind, secret_hash, label, expires_at) VALUES (%s, %s, %s, %s, %s) "
        "RETURNING id",
        [user_id, kind, secret_hash, label, expires_at],
    )
    token_id = one(await cur.fetchone(), "INSERT INTO api_tokens ... RETURNING id")[0]
    return token_id, format_token(kind, token_id, secret)


async def revoke(conn: psycopg.AsyncConnection, user_id: int, token_id: int | None = None,
                 kind: str | None = None) -> list[int]:
    """Revoke one token of the user, or all (of one kind); returns the ids revoked."""
    cur = await conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL "
        "AND (%s::bigint IS NULL OR id = %s) AND (%s::text IS NULL OR kind = %s) RETURNING id",
        [user_id, token_id, token_id, kind, kind],
    )
    return sorted(row[0] for row in await cur.fetchall())


USER_COLUMNS = ("id", "username", "role", "area_code", "tenant", "agency", "tenants")
_LOOKUP = """
SELECT t.id, t.kind, t.secret_hash, u.id, u.username, u.role, u.area_code, u.tenant, u.agency,
       ARRAY(SELECT ut.tenant::text FROM user_tenants ut WHERE ut.user_id = u.id ORDER BY 1)
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.id = %s AND t.revoked_at IS NULL AND NOT u.disabled AND (t.expires_at IS NULL OR t.expires_at > now())
"""


async def lookup(conn: psycopg.AsyncConnection, token: str, kind: str) -> tuple[int, dict[str, Any]] | None:
    """(token id, the user's columns) for a live token of this kind, or None (unknown, wrong secret, revoked,
    expired, user disabled)."""
    parsed = parse_token(token)
    if parsed is None or parsed[0] != kind:
        return None
    _, token_id, secret = parsed
    cur = await conn.execute(_LOOKUP, [token_id])
    row = await cur.fetchone()
    if row is None or row[1] != kind:
        return None
    if not await _verified_async(token, secret, row[2]):
        return None
    return token_id, dict(zip(USER_COLUMNS, row[3:], strict=True))


async def _verified_async(token: str, secret: str, stored_hash: str) -> bool:
    key = hashlib.sha256(token.encode()).digest()
    if _verified.get(key) == stored_hash:  # the common case: no thread hop
        return True
    return await asyncio.to_thread(_verify_secret, token, secret, stored_hash)
