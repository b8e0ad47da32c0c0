"""Running the app under uvicorn for `kotaku serve`, with one or several worker processes.

uvicorn's `--workers N` binds the listening socket without `proto=IPPROTO_TCP`; accepted sockets inherit
proto 0 and asyncio then skips TCP_NODELAY, so every keep-alive response after the first waits ~40 ms for the
client's delayed ACK (Kludex/uvicorn#3149; DESIGN.md "Measured pitfalls"). With several workers we bind the
socket ourselves, as a TCP socket with TCP_NODELAY set (Linux accepted sockets inherit it), and hand it to
uvicorn's supervisor. A single worker lets asyncio bind, which sets TCP_NODELAY on every connection. (uvloop,
used when installed, sets it on every connection too; the setting KOTAKU_SERVE_LOOP=asyncio runs the plain
loop, as the e2e test does to prove the socket fix.)

The settings are built once, by `kotaku serve`, and handed to every worker with the database URL (pickled with
the app factory: a worker reads no environment of its own). Logging is ours (api/logs.py), set up in each
worker as in the parent; uvicorn's own access log is off: the request-id middleware writes one line a request.
"""

from __future__ import annotations

import functools
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from api.app import create_app
from api.logs import configure_logging
from api.protocols import CONFIG_ATTRIBUTE as HEADER_TIMEOUT_ATTRIBUTE
from api.protocols import protocol_class
from layers.db.connection import database_url as resolve_database_url
from layers.settings import Settings


def app_factory(database_url: str, settings: Settings, access_log: bool = True):
    """Build the app in a server process (each worker calls it once): logging first, then the app."""
    configure_logging(settings)
    return create_app(database_url, settings, access_log=access_log)


def app_from_environment():
    """A zero-argument factory for `uvicorn api.server:app_from_environment --factory` run by hand (and the
    benchmarks): settings from the environment, the database from them (DATABASE_URL or the running cluster)."""
    settings = Settings()
    return app_factory(resolve_database_url(settings, start=False), settings)


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def run_server(database_url: str, host: str, port: int, workers: int = 1, access_log: bool = True,
               settings: Settings | None = None) -> None:
    settings = settings if settings is not None else Settings()
    factory = functools.partial(app_factory, database_url, settings, access_log)
    config = uvicorn.Config(factory, factory=True, host=host, port=port, workers=workers,
                            log_config=None, log_level=settings.log_level.lower(), access_log=False,
                            loop=settings.serve_loop, http=protocol_class(),
                            timeout_keep_alive=settings.keep_alive_s,
                            # X-Forwarded-For of these proxies only: behind a shared cache every request comes
                            # from the cache's address, and the login limit per address must count the client
                            proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips,
                            # uvicorn kills a worker that has not answered its supervisor's ping in 5 s: on a
                            # loaded machine importing the app takes longer, and workers were restarted forever
                            timeout_worker_healthcheck=60)
    # slow or half-sent headers are cut after this (api/protocols.py; workers get it with the config)
    setattr(config, HEADER_TIMEOUT_ATTRIBUTE, settings.header_timeout_s)
    if workers <= 1:
        uvicorn.Server(config).run()
        return
    Multiprocess(config, sockets=[listening_socket(host, port)]).run()
