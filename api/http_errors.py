"""FastAPI exception handlers: every error becomes JSON {"code", "description", "details"} with its status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import http_status
from geo.errors import KotakuError


def error_body(code: str, description: str, details=None) -> dict:
    return {"code": code, "description": description, "details": details}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KotakuError)
    async def kotaku_error(request: Request, error: KotakuError) -> JSONResponse:
        return JSONResponse(error.as_dict(), status_code=http_status(error))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "body", "path")),
             "reason": e.get("msg")}
            for e in error.errors()
        ]
        description = "; ".join(f"{d['field']}: {d['reason']}" for d in details)
        return JSONResponse(error_body("invalid_input", description, details), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code,
                            headers=getattr(error, "headers", None))
