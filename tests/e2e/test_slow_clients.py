"""Slow and half-sent connections against a real `kotaku serve` (raw sockets): a client that sends its headers a
byte at a time, one that connects and says nothing, an idle keep-alive connection and a stalled body are all cut
within their limits (KOTAKU_HEADER_TIMEOUT_S, KOTAKU_KEEP_ALIVE_S, KOTAKU_BODY_TIMEOUT_S), while the server keeps
answering others."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from tests.e2e.servers import running_server

HEADER_S, KEEP_ALIVE_S, BODY_S = 2, 1, 2
MARGIN_S = 3  # the server's timer fires within its limit; this is room for a loaded test machine


@pytest.fixture(scope="module")
def server(database_url):
    env = {"KOTAKU_HEADER_TIMEOUT_S": str(HEADER_S), "KOTAKU_KEEP_ALIVE_S": str(KEEP_ALIVE_S),
           "KOTAKU_BODY_TIMEOUT_S": str(BODY_S)}
    with running_server(database_url, env=env) as base:
        yield base


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=HEADER_S + MARGIN_S + 5)
    return sock


def closed_after(sock: socket.socket, started: float, drip: bytes = b"") -> tuple[float, bytes]:
    """Seconds from `started` until the server closes the connection (dripping `drip` a byte a 0.5 s meanwhile),
    and what it sent."""
    received = b""
    sock.settimeout(0.5)
    deadline = started + HEADER_S + MARGIN_S + 10
    position = 0
    while time.monotonic() < deadline:
        if position < len(drip):
            try:
                sock.sendall(drip[position:position + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started, received
            position += 1
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started, received
        if not chunk:
            return time.monotonic() - started, received
        received += chunk
    raise AssertionError(f"the connection was still open after {deadline - started:.0f} s")


def test_headers_sent_a_byte_at_a_time_are_cut(server):
    sock = connect(server)
    started = time.monotonic()
    slow = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(f"X-Pad-{i}: {i}\r\n".encode() for i in range(100))
    with sock:
        seconds, received = closed_after(sock, started, drip=slow)
    assert seconds <= HEADER_S + MARGIN_S and received == b"", (seconds, received)
    assert httpx.get(f"{server}/healthz", timeout=5).status_code == 200  # the server answers others


def test_a_connection_that_sends_nothing_is_cut(server):
    sock = connect(server)
    with sock:
        seconds, _ = closed_after(sock, time.monotonic())
    assert seconds <= HEADER_S + MARGIN_S


def test_an_idle_keep_alive_connection_is_closed(server):
    sock = connect(server)
    with sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        seconds, received = closed_after(sock, started)
    assert received.startswith(b"HTTP/1.1 200") and seconds <= KEEP_ALIVE_S + MARGIN_S


def test_a_stalled_body_is_408_in_the_error_shape(server):
    sock = connect(server)
    with sock:
        sock.sendall(b"POST /overlap-check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"type\": \"Feat")
        started = time.monotonic()
        seconds, received = closed_after(sock, started)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408") and seconds <= BODY_S + MARGIN_S, received
    assert json.loads(body)["code"] == "request_timeout"


def test_a_declared_huge_body_is_413_at_once_and_the_connection_closed(server):
    sock = connect(server)
    with sock:
        sock.sendall(b"POST /overlap-check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 5000000000\r\n\r\n")
        started = time.monotonic()
        seconds, received = closed_after(sock, started)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and seconds < MARGIN_S, received
    assert json.loads(body)["code"] == "too_large"
