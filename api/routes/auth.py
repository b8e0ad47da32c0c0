"""Log in and out: GET/POST /auth/login (form for pages, JSON for scripts), POST /auth/logout, GET /auth/me.

A form login is protected against login CSRF by a double-submit token: GET /auth/login sets it in a cookie and in
the form, and POST must bring both. A JSON login needs none: another site cannot send JSON without the browser
asking first (CORS), and this API allows no other origin.
"""

from __future__ import annotations

import hmac
import html
import secrets

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from api.auth import CSRF_FIELD, SESSION_COOKIE, current_principal, session_csrf_token
from api.body_checks import CheckedJSONRoute
from geo.errors import Forbidden, InvalidInput, TooManyRequests, Unauthorized, UnsupportedFormat
from layers.accounts import throttle
from layers.accounts.access import Principal
from layers.accounts.users import SESSION_HOURS, login, logout

router = APIRouter(prefix="/auth", tags=["auth"], route_class=CheckedJSONRoute)
LOGIN_CSRF_COOKIE = "kotaku_login_csrf"
WRONG = "Nama pengguna atau kata sandi salah (wrong user name or password)."
_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object", "required": ["username", "password"],
                                                             "properties": {"username": {"type": "string"},
                                                                            "password": {"type": "string"},
                                                                            CSRF_FIELD: {"type": "string"},
                                                                            "next": {"type": "string"}}}},
            "application/json": {"schema": {"type": "object", "required": ["username", "password"],
                                            "properties": {"username": {"type": "string"},
                                                           "password": {"type": "string"}}}},
        },
    }
}


def login_limits(request: Request) -> throttle.LoginLimits:
    settings = request.app.state.settings
    return throttle.LoginLimits(settings.login_max_failures, settings.login_max_failures_address,
                                settings.login_window_s)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never '//other.example' or 'https://...' (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(csrf: str, next_path: str, error: str | None = None, username: str = "") -> str:
    message = f'<p class="galat" role="alert">{html.escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Masuk - kotaku-gis</title>
<style>body{{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}}
label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.4rem;box-sizing:border-box}}
button{{margin-top:1rem;padding:.5rem 1.2rem}}.galat{{color:#a40000}}</style></head>
<body><h1>Masuk</h1>{message}
<form method="post" action="/auth/login">
<input type="hidden" name="{CSRF_FIELD}" value="{html.escape(csrf)}">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<label for="username">Nama pengguna</label>
<input id="username" name="username" autocomplete="username" required value="{html.escape(username)}">
<label for="password">Kata sandi</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Masuk</button>
</form></body></html>"""


def _page_with_csrf(next_path: str, error: str | None = None, username: str = "", status: int = 200,
                    secure: bool = False) -> HTMLResponse:
    csrf = secrets.token_urlsafe(24)
    response = HTMLResponse(_login_page(csrf, next_path, error, username), status_code=status,
                            headers={"Cache-Control": "no-store"})
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, max_age=3600, path="/auth/login", httponly=True,
                        samesite="strict", secure=secure)
    return response


@router.get("/login", response_class=HTMLResponse, summary="Halaman masuk")
async def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return _page_with_csrf(_safe_next(next), secure=request.url.scheme == "https")


@router.post("/login", summary="Masuk: sesi (cookie) untuk halaman", openapi_extra=_LOGIN_BODY,
             responses={200: {"description": "JSON login: the user and the session's CSRF token"},
                        303: {"description": "form login: to `next`"}, 401: {"description": "wrong name/password"},
                        429: {"description": "too many failed logins of the account or from the address "
                                             "(Retry-After)"}})
async def login_route(request: Request) -> Response:
    content_type = request.headers.get("content-type", "")
    secure = request.url.scheme == "https"
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        username, password = str(form.get("username") or ""), str(form.get("password") or "")
        next_path = _safe_next(str(form.get("next") or "/"))
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
        sent = str(form.get(CSRF_FIELD) or "")
        if not expected or not sent or not hmac.compare_digest(expected, sent):
            raise Forbidden("the login form is stale or came from another site: open /auth/login and try again")
        as_form = True
    elif content_type.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise InvalidInput("the body is not JSON: send {\"username\": ..., \"password\": ...}") from None
        if not isinstance(body, dict) or not isinstance(body.get("username"), str) or not isinstance(
                body.get("password"), str):
            raise InvalidInput("send {\"username\": ..., \"password\": ...} (both text)")
        username, password, next_path, as_form = body["username"], body["password"], "/", False
    else:
        raise UnsupportedFormat("log in with a form (application/x-www-form-urlencoded) or JSON (application/json)")

    limits = login_limits(request)
    address = request.client.host if request.client else "-"
    async with request.app.state.pool.connection() as conn:
        try:
            attempt = await throttle.begin(conn, username, address, limits)  # 429 before the password is checked
        except TooManyRequests as refused:
            if not as_form:
                raise
            page = _page_with_csrf(next_path, refused.message, username, status=429, secure=secure)
            page.headers["Retry-After"] = str(refused.retry_after)
            return page
        result = await login(conn, username, password)
        await throttle.finish(conn, attempt, result is not None, limits)
    if result is None:
        if as_form:
            return _page_with_csrf(next_path, WRONG, username, status=401, secure=secure)
        raise Unauthorized(WRONG)
    user, _, session, expires_at = result
    if as_form:
        response: Response = RedirectResponse(next_path, status_code=303)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/auth/login")
    else:
        response = JSONResponse({**user.as_dict(), "csrf_token": session_csrf_token(session),
                                 "expires_at": expires_at.isoformat()})
    response.set_cookie(SESSION_COOKIE, session, max_age=SESSION_HOURS * 3600, path="/", httponly=True,
                        samesite="lax", secure=secure)
    return response


@router.post("/logout", summary="Keluar: mengakhiri sesi", status_code=204,
             responses={303: {"description": "form logout: to `next`"}})
async def logout_route(request: Request, principal: Principal = Depends(current_principal)) -> Response:
    session_id = getattr(request.state, "session_id", None)
    if session_id is None:
        if not principal.is_public:
            raise InvalidInput("logout ends a browser session; a bearer token is revoked with 'kotaku user revoke' "
                               "or DELETE /users/{username}/tokens/{id}")
        error = Unauthorized("not logged in: there is no session to end")
        response: Response = JSONResponse(error.as_dict(), status_code=401)
    else:
        async with request.app.state.pool.connection() as conn:
            await logout(conn, principal, session_id)
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            response = RedirectResponse(_safe_next(str((await request.form()).get("next") or "/")), status_code=303)
        else:
            response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", summary="Siapa saya: peran, wilayah, token CSRF sesi")
async def me(request: Request, principal: Principal = Depends(current_principal)) -> dict:
    session_id = getattr(request.state, "session_id", None)
    auth = None if principal.is_public else ("session" if session_id is not None else "token")
    return {
        "username": principal.username,
        "role": principal.role,
        "tenant": principal.tenant,
        "area_code": principal.area_code,
        "tenants": list(principal.tenants),
        "agency": principal.agency,
        "auth": auth,
        "csrf_token": session_csrf_token(request.cookies[SESSION_COOKIE]) if auth == "session" else None,
    }
