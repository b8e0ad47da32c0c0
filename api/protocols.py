"""uvicorn's HTTP protocols with a deadline for a request's headers (slow or half-sent headers: "slowloris").

uvicorn closes idle keep-alive connections (timeout_keep_alive) but waits for ever for the rest of a request's
headers, and for the first byte of a new connection: a client can hold a connection (and the server's memory for
it) by sending a header line every few seconds. These subclasses start a timer when a connection opens and when a
response completes (the next request may begin); the request's headers must be complete before it fires, else
the connection is closed. The deadline is KOTAKU_HEADER_TIMEOUT_S (api/server.py sets it on the uvicorn config as
`kotaku_header_timeout_s`, which workers receive with the config). Slow bodies: api/limits.py.
"""

from __future__ import annotations

import asyncio
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency; h11 is uvicorn's own fallback
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

logger = logging.getLogger("kotaku.http")
CONFIG_ATTRIBUTE = "kotaku_header_timeout_s"


class _HeaderDeadline:
    """The timer, shared by both protocols (a mixin: it only uses the transport and the loop)."""

    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    _header_seconds: float | None = None
    _header_timer: asyncio.TimerHandle | None = None

    def _start_header_deadline(self) -> None:
        self._cancel_header_deadline()
        if self._header_seconds:
            self._header_timer = self.loop.call_later(self._header_seconds, self._header_deadline_passed)

    def _cancel_header_deadline(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_deadline_passed(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            peer = self.transport.get_extra_info("peername")
            logger.warning("closed a connection from %s: request headers not complete within %g s "
                           "(KOTAKU_HEADER_TIMEOUT_S)", peer, self._header_seconds)
            self.transport.close()


if HttpToolsProtocol is not None:
    class HeaderTimeoutHttpToolsProtocol(_HeaderDeadline, HttpToolsProtocol):
        def __init__(self, config, *args, **kwargs) -> None:
            super().__init__(config, *args, **kwargs)
            self._header_seconds = getattr(config, CONFIG_ATTRIBUTE, None)

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._start_header_deadline()

        def on_headers_complete(self) -> None:
            self._cancel_header_deadline()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._start_header_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_deadline()
            super().connection_lost(exc)


class HeaderTimeoutH11Protocol(_HeaderDeadline, H11Protocol):
    def __init__(self, config, *args, **kwargs) -> None:
        super().__init__(config, *args, **kwargs)
        self._header_seconds = getattr(config, CONFIG_ATTRIBUTE, None)

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._start_header_deadline()

    def handle_events(self) -> None:
        super().handle_events()
        if self._header_timer is not None and self.conn.their_state is not h11.IDLE:
            self._cancel_header_deadline()  # the request line and headers are in

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._start_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)


def protocol_class() -> type[asyncio.Protocol]:
    """httptools when installed (what uvicorn's "auto" picks), else h11."""
    if HttpToolsProtocol is not None:
        return HeaderTimeoutHttpToolsProtocol
    return HeaderTimeoutH11Protocol
