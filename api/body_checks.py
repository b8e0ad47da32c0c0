"""The shared guard of every JSON request body: values no route can use are a 400 naming the field, before any
route, model or database sees them.

Python's json (which FastAPI and Starlette use) accepts `NaN`, `Infinity` and `-Infinity` and reads `1e999` as
infinity; PostgreSQL cannot store a NUL character in text; a text field sent as an object, array or number, or
longer than its limit, would otherwise reach the database or a model's error. The checks themselves are
layers/values/fields.py `json_value_problems` (field limits in TEXT_LIMITS); this module applies them to every
route of a router made with `route_class=CheckedJSONRoute` (api/routes: every router with a write route; a test
checks that every POST, PUT and PATCH route is one).

How big a body may be is not checked here (api/limits.py bounds sizes before the body is read).

A NUL character in the URL (`%00` in a path segment such as `/users/{name}` or `/items/{fid}`, or in any query
parameter) is refused by NulInUrlGuard, an ASGI middleware in front of every route (api/app.py), with a 400 naming
the path or the parameter: no route, CQL2 filter or query then passes it on to PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from geo.errors import InvalidInput
from layers.values.fields import json_value_problems

MAX_REPORTED = 20


def is_json(request: Request) -> bool:
    """FastAPI reads a body as JSON when it has no content type or a json one (application/json, ...+json)."""
    kind = request.headers.get("content-type")
    if not kind:
        return True
    main = kind.split(";", 1)[0].strip().lower()
    return main == "application/json" or main.endswith("+json")


def check_json_body(body: bytes) -> None:
    """InvalidInput naming every field with an unusable value; a body that is not JSON at all is left to FastAPI
    (its own 400)."""
    if not body.strip():
        return
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return  # not JSON: FastAPI answers its own 400 for it
    problems = json_value_problems(value)
    if problems:
        shown = "; ".join(reason for _, reason in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InvalidInput(f"the request body has values that cannot be used: {shown}{more}",
                           details=[{"field": field, "reason": reason} for field, reason in problems[:MAX_REPORTED]])


class CheckedJSONRoute(APIRoute):
    """An APIRoute that runs check_json_body on a JSON body before FastAPI parses it into the route's model."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            if request.method in ("POST", "PUT", "PATCH", "DELETE") and is_json(request):
                check_json_body(await request.body())  # read once: Starlette keeps it for the route
            return await handler(request)

        return checked


def url_nul_problem(path: str, query_string: bytes) -> tuple[str, str] | None:
    """(field, reason) when the decoded path or a query parameter holds a NUL character, else None."""
    if "\x00" in path:
        return "path", f"the path {path.replace(chr(0), '%00')!r} contains a NUL character (%00)"
    if b"%00" not in query_string.lower() and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            shown = name.replace("\x00", "%00")
            return shown, f"the query parameter {shown!r} contains a NUL character (%00)"
    return "query", "the query string contains a NUL character (%00)"


class NulInUrlGuard:
    """400 {code, description, details} for a request whose URL holds a NUL character, before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = url_nul_problem(scope.get("path", ""), scope.get("query_string", b""))
            if problem:
                field, reason = problem
                body = {"code": InvalidInput.code, "description": reason,
                        "details": [{"field": field, "reason": reason}]}
                await JSONResponse(body, status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)
