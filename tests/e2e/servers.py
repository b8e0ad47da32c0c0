"""Real `kotaku serve` processes for end-to-end tests: start on a free loopback port, wait until healthy, stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

KOTAKU = str(Path(sys.executable).with_name("kotaku"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int, *options: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([KOTAKU, "serve", "--port", str(port), *options], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stdout.read()}")
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("serve did not become healthy")


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def running_server(database_url: str, *options: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`kotaku serve` on DATABASE_URL=database_url (plus `env`); yields its base URL and stops it afterwards."""
    port = free_port()
    process = start(port, *options, env={**os.environ, **(env or {}), "DATABASE_URL": database_url})
    try:
        wait_healthy(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
