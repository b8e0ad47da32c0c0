"""Limits every request meets before a route reads its body (an ASGI middleware, inside the error net of
api/http_errors.py so that a database down while identifying the caller is still a 503 in the error shape).

- Who: an anonymous POST, PUT, PATCH or DELETE to a route that needs a user is 401 before its body is read or
  validated (a broken body without a token tells nothing about the body). The caller is identified from the headers
  alone (api/auth.py `identify`); the CSRF check of a session stays with the route's dependency. Public writes:
  PUBLIC_WRITES (log in, log out, the overlap check, which anyone may run).
- How big: a `Content-Length` over the route's limit is 413 without reading a byte of the body; a chunked body is
  counted while it streams and cut with 413 at the limit. Limits (settings): uploads of photos and videos
  KOTAKU_UPLOAD_MAX_MB, the login form KOTAKU_LOGIN_BODY_MAX_KB, every other body KOTAKU_BODY_MAX_MB.
- How many exports at once: ExportSlots (KOTAKU_EXPORT_CONCURRENCY per process); one more waits up to
  KOTAKU_EXPORT_WAIT_S for a slot, then 503 with Retry-After. An export holds its rows and the file it draws in
  memory: twelve at once took the server from 0.3 to 1.9 GB.
- How slow: a body that stalls longer than KOTAKU_BODY_TIMEOUT_S between two chunks is 408. (Slow headers are
  the server's: api/server.py.)

A refused request is answered `Connection: close`, so the server does not read the rest of a body nobody wants.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import current_principal, identify
from api.errors import http_status
from geo.errors import KotakuError, ServiceUnavailable
from layers.accounts.access import Principal
from layers.settings import Settings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC_WRITES = frozenset({"/auth/login", "/auth/logout", "/overlap-check", "/drawing/snap"})
# Uploads: proposal photos/videos; an asset's berita acara or as-built file and inspection photos (issue 12); a
# track to draw a proposal with (issue 13).
UPLOAD_PATH = re.compile(r"^/(activities/[^/]+/attachments|assets/[^/]+(/inspections)?|drawing/track)/?$")
LOGIN_PATH = "/auth/login"
# room for the multipart framing around the largest file
MULTIPART_OVERHEAD = 64 * 1024


class _Refused(Exception):
    """Raised inside the app's body reading; the middleware answers its response instead of the app's."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def _error(status: int, code: str, description: str, details: Any = None) -> JSONResponse:
    return JSONResponse({"code": code, "description": description, "details": details}, status_code=status,
                        headers={"Connection": "close"})


def _size(limit: int) -> str:
    return f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit / 2**10:g} KB"


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.body_max = int(settings.body_max_mb * 2**20)
        self.upload_max = int(settings.upload_max_mb * 2**20) + MULTIPART_OVERHEAD
        self.login_max = int(settings.login_body_max_kb * 2**10)
        self.body_timeout = settings.body_timeout_s

    def limit_for(self, path: str) -> tuple[int, str]:
        """(bytes, what the message says: the limit and its setting)."""
        if UPLOAD_PATH.match(path):
            return self.upload_max, f"{_size(self.upload_max - MULTIPART_OVERHEAD)} (KOTAKU_UPLOAD_MAX_MB)"
        if path == LOGIN_PATH:
            return self.login_max, f"{_size(self.login_max)} (KOTAKU_LOGIN_BODY_MAX_KB)"
        return self.body_max, f"{_size(self.body_max)} (KOTAKU_BODY_MAX_MB)"

    def needs_user(self, scope: Scope) -> bool:
        """A write to a route of the app that is not public (unknown paths keep their 404/405, static files theirs):
        the app's own routing decides, as it will for the request."""
        if scope["method"] not in WRITE_METHODS or scope["path"] in PUBLIC_WRITES:
            return False
        return any(not isinstance(route, Mount) and route.matches(scope)[0] is Match.FULL
                   for route in scope["app"].router.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.needs_user(scope):
            request = Request(scope)  # no receive: the body stays unread
            try:
                principal = await _caller(request)
            except KotakuError as error:  # a wrong or expired token: the route's answer, before the body
                await JSONResponse(error.as_dict(), status_code=http_status(error))(scope, receive, send)
                return
            if principal.is_public:
                await _error(401, "unauthorized",
                             f"{scope['method']} {scope['path']} needs a user: send 'Authorization: Bearer TOKEN' "
                             "(kotaku user token) or log in at /auth/login; the body was not read")(
                    scope, receive, send)
                return
            if request.headers.get("authorization"):
                request.state.principal = principal  # a bearer needs no CSRF check: the route reuses it
        limit, shown = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _error(413, "too_large",
                         f"the request body is {declared:,} bytes; {scope['path']} takes at most {shown}",
                         {"content_length": declared, "limit_bytes": limit})(scope, receive, send)
            return
        refused: JSONResponse | None = None
        received = 0
        body_done = False

        async def limited_receive() -> Message:
            nonlocal refused, received, body_done
            if body_done:  # after the body: the app only listens for a disconnect, as long as it likes
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                refused = _error(408, "request_timeout",
                                 f"the request body stalled for more than {self.body_timeout:g} s "
                                 f"(KOTAKU_BODY_TIMEOUT_S) after {received:,} bytes", {"received_bytes": received})
                raise _Refused(refused) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = _error(413, "too_large",
                                     f"the request body is too large: {scope['path']} takes at most {shown}; "
                                     f"cut after {received:,} bytes",
                                     {"received_bytes": received, "limit_bytes": limit})
                    raise _Refused(refused)
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        answered = False

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if refused is None:
                await send(message)
                return
            if not answered:  # whatever the app makes of the broken-off body, the answer is ours
                answered = True
                await refused(scope, receive, send)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _Refused:
            if not answered:
                answered = True
                assert refused is not None
                await refused(scope, receive, send)


async def _caller(request: Request) -> Principal:
    """The caller from the headers; an app whose `current_principal` dependency is overridden (tests acting as a
    given user) is asked through the override, as its routes are."""
    override = request.app.dependency_overrides.get(current_principal)
    if override is None:
        return await identify(request)
    principal = override()
    return await principal if inspect.isawaitable(principal) else principal


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class ExportSlots:
    """At most `slots` exports written at once in this process (the export routes run in the thread pool)."""

    def __init__(self, slots: int, wait_s: float) -> None:
        self.slots = slots
        self.wait_s = wait_s
        self._semaphore = threading.BoundedSemaphore(slots)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._semaphore.acquire(timeout=self.wait_s):
            retry = max(1, math.ceil(self.wait_s))
            raise ServiceUnavailable(
                f"Server sedang membuat {self.slots} ekspor lain; coba lagi dalam {retry} detik. / "
                f"The server is writing {self.slots} other exports (KOTAKU_EXPORT_CONCURRENCY); try again in "
                f"{retry} seconds.", details={"retry_after_s": retry, "concurrent_exports": self.slots},
                retry_after=retry)
        try:
            yield
        finally:
            self._semaphore.release()
