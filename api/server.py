"""Running the app under uvicorn for `kotaku serve`, with one or several worker processes.

uvicorn's `--workers N` binds the listening socket without `proto=IPPROTO_TCP`; accepted sockets inherit
proto 0 and asyncio then skips TCP_NODELAY, so every keep-alive response after the first waits ~40 ms for the
client's delayed ACK (Kludex/uvicorn#3149; DESIGN.md "Measured pitfalls"). With several workers we bind the
socket ourselves, as a TCP socket with TCP_NODELAY set (Linux accepted sockets inherit it), and hand it to
uvicorn's supervisor. A single worker lets asyncio bind, which sets TCP_NODELAY on every connection. (uvloop,
used when installed, sets it on every connection too; KOTAKU_SERVE_LOOP=asyncio runs the plain loop, as the
e2e test does to prove the socket fix.)
"""

from __future__ import annotations

import os
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from api.app import create_app

DATABASE_URL_ENV = "KOTAKU_SERVE_DATABASE_URL"
LOOP_ENV = "KOTAKU_SERVE_LOOP"  # auto (uvloop when installed) or asyncio


def app_from_environment():
    """The app factory the worker processes import (they get the database URL through the environment)."""
    return create_app(os.environ[DATABASE_URL_ENV])


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def run_server(database_url: str, host: str, port: int, workers: int = 1, access_log: bool = True) -> None:
    os.environ[DATABASE_URL_ENV] = database_url
    config = uvicorn.Config("api.server:app_from_environment", factory=True, host=host, port=port,
                            workers=workers, log_level="info", access_log=access_log,
                            loop=os.environ.get(LOOP_ENV, "auto"))
    if workers <= 1:
        uvicorn.Server(config).run()
        return
    Multiprocess(config, sockets=[listening_socket(host, port)]).run()
