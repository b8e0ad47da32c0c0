"""Who is calling: `current_principal`, the FastAPI dependency every route takes.

- `Authorization: Bearer ktk_...` (clients, from `kotaku user token`): a wrong, revoked or expired token is 401.
- The `kotaku_session` cookie (pages, from POST /auth/login): HttpOnly, SameSite=Lax. An unknown or expired cookie
  is simply anonymous. Requests that change something (POST, PUT, PATCH, DELETE) with a session must carry the
  session's CSRF token, in the `X-CSRF-Token` header or a `csrf_token` form field, else 403: another site can make
  the browser send the cookie, but cannot read the token. Bearer requests need none (no ambient credential).
- Otherwise the caller is anonymous (`publik`).

Routes take `principal: Principal = Depends(current_principal)` and pass it to layers/ for row filters
(layers/accounts/access.py) and permissions (layers/accounts/permissions.py).
Pages put `csrf_token(request)` into their forms.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from api.read_routing import primary_of
from geo.errors import Forbidden, Unauthorized
from layers.accounts.access import PUBLIC, Principal
from layers.accounts.users import resolve

SESSION_COOKIE = "kotaku_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def session_csrf_token(session_token: str) -> str:
    """The CSRF token of a session: derived from its secret, so nothing more is stored."""
    return hmac.new(session_token.encode(), b"kotaku-csrf", hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str | None:
    """The CSRF token for the caller's session (for pages' forms), or None without a session."""
    token = request.cookies.get(SESSION_COOKIE)
    return session_csrf_token(token) if token else None


async def current_principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = await _authenticate(request)
    request.state.principal = principal
    return principal


async def identify(request: Request) -> Principal:
    """Who is calling, from the headers alone (never the body: no CSRF check, which may read a form field). The
    limits middleware (api/limits.py) uses it to refuse an anonymous write before its body is read."""
    return await _authenticate(request, check_csrf=False)


async def _authenticate(request: Request, *, check_csrf: bool = True) -> Principal:
    request.state.session_id = None
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, credential = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise Unauthorized("the Authorization header must read 'Bearer TOKEN' (a token from 'kotaku user token')")
        async with primary_of(request.app.state.pool).connection() as conn:  # a revocation counts at once
            found = await resolve(conn, credential.strip(), "token")
        if found is None:
            raise Unauthorized("the bearer token is unknown, revoked or expired, or its user is disabled")
        return found[0]
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        return PUBLIC
    async with primary_of(request.app.state.pool).connection() as conn:
        found = await resolve(conn, session, "session")
    if found is None:
        return PUBLIC  # an ended session: the visitor is anonymous again
    if check_csrf and request.method not in SAFE_METHODS:
        await _check_csrf(request, session)
    request.state.session_id = found[1]
    return found[0]


async def _check_csrf(request: Request, session: str) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        field = (await request.form()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None  # an uploaded file is no token
    if not sent or not hmac.compare_digest(str(sent), session_csrf_token(session)):
        raise Forbidden(f"CSRF token missing or wrong: send the session's token (GET /auth/me) in the {CSRF_HEADER} "
                        f"header or the {CSRF_FIELD} form field")
