"""Logging: the standard `logging` module, configured once at start-up (the app's factory, the CLI's callback).

Human-readable lines by default, JSON lines with KOTAKU_LOG_FORMAT=json, level from KOTAKU_LOG_LEVEL; always
to stderr (the CLI's --json output on stdout stays clean). Every HTTP request gets a request id (a sane incoming
`X-Request-ID`, else a new one): it is answered in the `X-Request-ID` header, carried by every log record made
while the request runs (a contextvar and a logging filter), and is the database `application_name` of the
connections the request uses (api/pools.py). One access line per request: method, path, status, ms, request id.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from layers.settings import Settings

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,47}")  # fits application_name (63 bytes) with its prefix
request_id: ContextVar[str | None] = ContextVar("kotaku_request_id", default=None)
access_logger = logging.getLogger("kotaku.access")
_HANDLER_MARK = "_kotaku_handler"
# Libraries that talk at INFO about routine work (every pooled connection returned, every migration context):
# WARNING and above unless KOTAKU_LOG_LEVEL=DEBUG.
QUIET_LIBRARIES = ("psycopg", "alembic", "httpx", "httpcore", "asyncio", "matplotlib", "PIL", "rasterio",
                   "pyogrio", "fiona", "multipart", "python_multipart")
# Attributes every LogRecord has: anything else was passed in `extra=` and goes into the JSON line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or None outside a request) on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{line} [request_id={rid}]" if rid else line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, the record's extras, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Install the one handler on the root logger (replacing one installed before); returns it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if settings.log_level == "DEBUG" else logging.WARNING)
    return handler


def sane_request_id(incoming: str | None) -> str:
    """The client's id when it is short and plain (letters, digits, . _ : -), else a new one."""
    if incoming and _SANE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """A pure ASGI middleware (no BaseHTTPMiddleware: streaming bodies pass through untouched): request id in,
    header out, one access log line when the response is complete."""

    def __init__(self, app: ASGIApp, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = sane_request_id(incoming)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                ms = (time.perf_counter() - started) * 1000
                path = scope.get("path", "")
                access_logger.info("%s %s %s %.1f ms", scope.get("method"), path, status, ms,
                                   extra={"method": scope.get("method"), "path": path, "status": status,
                                          "ms": round(ms, 1)})
            request_id.reset(token)
