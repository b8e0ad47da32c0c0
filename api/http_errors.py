"""FastAPI exception handlers: every error becomes JSON {"code", "description", "details"} with its status.

`description` is in the language the request's Accept-Language asks for (id or en, geo/messages.py), with a
Content-Language header; when it names neither, English (500 and 503: both languages, "id / en").

A database that is down is 503 "database_unavailable" from any route (psycopg's OperationalError, the pool's
timeout: api/errors.py DATABASE_UNAVAILABLE). Anything else unexpected is logged with its traceback and answered
500 "internal_error" with the request id in `details`, never the traceback (CatchAllMiddleware: it runs inside
the request-id middleware, so the log line and the answer carry the request's id).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import (
    DATABASE_UNAVAILABLE,
    DATABASE_UNAVAILABLE_CODE,
    DATABASE_UNAVAILABLE_DESCRIPTION,
    DATABASE_UNAVAILABLE_STATUS,
    INTERNAL_ERROR_CODE,
    INTERNAL_ERROR_DESCRIPTION,
    http_status,
)
from api.logs import request_id
from geo.errors import KotakuError
from geo.messages import Lang, describe, message, negotiate

logger = logging.getLogger("kotaku.http")


def error_body(code: str, description: str, details=None) -> dict:
    return {"code": code, "description": description, "details": details}


def request_lang(headers) -> Lang | None:
    """id or en as the request's Accept-Language asks (geo/messages.py negotiate); None when it names neither."""
    value = headers.get("accept-language") if headers is not None else None
    return negotiate(value, default=None) if value else None  # type: ignore[arg-type]


def _scope_lang(scope: Scope) -> Lang | None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
    return request_lang(headers)


def _language(lang: Lang | None) -> dict[str, str]:
    return {"Content-Language": lang} if lang else {}


def database_unavailable_body(error: BaseException, lang: Lang | None = None) -> dict:
    """503: in the asked language; without one in both (Indonesian / English)."""
    text = message("http.database_unavailable", lang) if lang else DATABASE_UNAVAILABLE_DESCRIPTION
    return error_body(DATABASE_UNAVAILABLE_CODE, text, {"request_id": request_id.get(), "error": type(error).__name__})


def internal_error_body(lang: Lang | None = None) -> dict:
    """500: in the asked language; without one in both (Indonesian / English)."""
    text = message("http.internal_error", lang) if lang else INTERNAL_ERROR_DESCRIPTION
    return error_body(INTERNAL_ERROR_CODE, text, {"request_id": request_id.get()})


class CatchAllMiddleware:
    """The last net: an exception no handler took becomes a logged traceback and a 500 in the error shape (or a
    503 when the database is down). When the response had already started (a streamed body broke off), the
    error is logged and the connection is cut: a half-sent body cannot become a JSON error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as error:
            unavailable = isinstance(error, DATABASE_UNAVAILABLE)
            if unavailable:
                logger.warning("database unavailable during %s %s: %s", scope.get("method"), scope.get("path"),
                               error)
            else:
                logger.exception("unexpected error during %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            lang = _scope_lang(scope)
            if unavailable:
                response = JSONResponse(database_unavailable_body(error, lang), status_code=DATABASE_UNAVAILABLE_STATUS,
                                        headers=_language(lang))
            else:
                response = JSONResponse(internal_error_body(lang), status_code=500, headers=_language(lang))
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KotakuError)
    async def kotaku_error(request: Request, error: KotakuError) -> JSONResponse:
        retry = getattr(error, "retry_after", None)
        lang = request_lang(request.headers)
        body = {**error.as_dict(), "description": describe(error, lang or "en")}
        report = getattr(error, "report", None)
        if lang and report is not None:  # a failed import: the report's problems in the language too
            body["details"] = report.as_dict(lang)
        return JSONResponse(body, status_code=http_status(error),
                            headers={**({"Retry-After": str(retry)} if retry else {}), **_language(lang)})

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "body", "path")),
             "reason": e.get("msg")}
            for e in error.errors()
        ]
        lang = request_lang(request.headers)
        description = "; ".join(message("http.validation", lang or "en", field=d["field"], reason=d["reason"])
                                for d in details)
        return JSONResponse(error_body("invalid_input", description, details), status_code=400,
                            headers=_language(lang))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        lang = request_lang(request.headers)
        description = str(error.detail)
        if lang == "id" and code == "not_found":
            description = message("http.route_not_found", "id", path=request.url.path)
        elif lang == "id" and code == "method_not_allowed":
            description = message("http.method_not_allowed", "id", method=request.method)
        return JSONResponse(error_body(code, description), status_code=error.status_code,
                            headers={**(getattr(error, "headers", None) or {}), **_language(lang)})

    for database_error in DATABASE_UNAVAILABLE:
        @app.exception_handler(database_error)
        async def database_unavailable(request: Request, error: Exception) -> JSONResponse:
            logger.warning("database unavailable during %s %s: %s", request.method, request.url.path, error)
            lang = request_lang(request.headers)
            return JSONResponse(database_unavailable_body(error, lang), status_code=DATABASE_UNAVAILABLE_STATUS,
                                headers=_language(lang))

    app.add_middleware(CatchAllMiddleware)  # inside the request-id middleware (added after it, by create_app)
