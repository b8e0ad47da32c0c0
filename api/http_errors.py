"""FastAPI exception handlers: every error becomes JSON {"code", "description", "details"} with its status.

`description` is in the language the request's Accept-Language asks for (id or en, geo/messages.py), with a
Content-Language header; when it names neither, English (500 and 503: both languages, "id / en"). A browser that
asks for HTML gets the same error as a page, in Indonesian by default (api/error_pages.py).

A database that is down is 503 "database_unavailable" from any route (psycopg's OperationalError, the pool's
timeout: api/errors.py DATABASE_UNAVAILABLE). Anything else unexpected is logged with its traceback and answered
500 "internal_error" with the request id in `details`, never the traceback (CatchAllMiddleware: it runs inside
the request-id middleware, so the log line and the answer carry the request's id).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.error_pages import error_page, page_lang, wants_html
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


def _language(lang: Lang | None) -> dict[str, str]:
    return {"Content-Language": lang} if lang else {}


def answer(request: StarletteRequest, status: int, body_in, headers: dict[str, str] | None = None) -> Response:
    """The error as JSON in the language Accept-Language asks (None: the body's default), or as an HTML page for a
    browser (in Indonesian unless it asks for English). `body_in(lang)` builds the body in a language."""
    if wants_html(request.headers, request.query_params):
        return error_page(status, body_in(page_lang(request.headers, request.query_params)), page_lang(
            request.headers, request.query_params), headers)
    lang = request_lang(request.headers)
    return JSONResponse(body_in(lang), status_code=status, headers={**(headers or {}), **_language(lang)})


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
            request = StarletteRequest(scope)
            if unavailable:
                cause = error
                response = answer(request, DATABASE_UNAVAILABLE_STATUS,
                                  lambda lang: database_unavailable_body(cause, lang))
            else:
                response = answer(request, 500, internal_error_body)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KotakuError)
    async def kotaku_error(request: Request, error: KotakuError) -> Response:
        retry = getattr(error, "retry_after", None)

        def body(lang: Lang | None) -> dict:
            out = {**error.as_dict(), "description": describe(error, lang or "en")}
            report = getattr(error, "report", None)
            if lang and report is not None:  # a failed import: the report's problems in the language too
                out["details"] = report.as_dict(lang)
            return out

        return answer(request, http_status(error), body, {"Retry-After": str(retry)} if retry else None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "body", "path")),
             "reason": e.get("msg")}
            for e in error.errors()
        ]

        def body(lang: Lang | None) -> dict:
            description = "; ".join(message("http.validation", lang or "en", field=d["field"], reason=d["reason"])
                                    for d in details)
            return error_body("invalid_input", description, details)

        return answer(request, 400, body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")

        def body(lang: Lang | None) -> dict:
            description = str(error.detail)  # JSON without a language: as it always was ("Not Found")
            if lang and code == "not_found":
                description = message("http.route_not_found", lang, path=request.url.path)
            elif lang and code == "method_not_allowed":
                description = message("http.method_not_allowed", lang, method=request.method)
            return error_body(code, description)

        return answer(request, error.status_code, body, getattr(error, "headers", None))

    for database_error in DATABASE_UNAVAILABLE:
        @app.exception_handler(database_error)
        async def database_unavailable(request: Request, error: Exception) -> Response:
            logger.warning("database unavailable during %s %s: %s", request.method, request.url.path, error)
            return answer(request, DATABASE_UNAVAILABLE_STATUS, lambda lang: database_unavailable_body(error, lang))

    app.add_middleware(CatchAllMiddleware)  # inside the request-id middleware (added after it, by create_app)
