"""The app's connection pools, whose connections carry the current request id as their `application_name`.

A connection taken from the pool while a request runs gets `application_name = 'kotaku <request id>'` (so a
slow or stuck query in pg_stat_activity, or a server log line, names the request); given back, it returns to
plain `kotaku`. The name is compared with what the server last reported (psycopg keeps it: application_name is
a reported parameter), so a connection that already has the right name costs no round trip.
"""

from __future__ import annotations

import contextlib

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from api.logs import request_id

APPLICATION_NAME = "kotaku"
_SET = "SELECT set_config('application_name', %s, false)"


def application_name() -> str:
    """`kotaku <request id>` inside a request, `kotaku` outside one."""
    rid = request_id.get()
    return f"{APPLICATION_NAME} {rid}" if rid else APPLICATION_NAME


def _current(conn: psycopg.Connection | psycopg.AsyncConnection) -> str | None:
    return conn.info.parameter_status("application_name")


def _idle(conn: psycopg.Connection | psycopg.AsyncConnection) -> bool:
    return not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE


class RequestAsyncPool(AsyncConnectionPool):
    """The async pool of the API's reads (autocommit connections)."""

    async def getconn(self, timeout: float | None = None) -> psycopg.AsyncConnection:
        conn = await super().getconn(timeout)
        name = application_name()
        if _current(conn) != name:
            try:
                await conn.execute(_SET, [name])
            except BaseException:
                await super().putconn(conn)
                raise
        return conn

    async def putconn(self, conn: psycopg.AsyncConnection) -> None:
        if _idle(conn) and _current(conn) != APPLICATION_NAME:
            with contextlib.suppress(psycopg.Error):  # a broken connection: the pool finds out and replaces it
                await conn.execute(_SET, [APPLICATION_NAME])
        await super().putconn(conn)


class RequestPool(ConnectionPool):
    """The sync pool of the writes (transactions): the name is set and committed before the caller's work."""

    def getconn(self, timeout: float | None = None) -> psycopg.Connection:
        conn = super().getconn(timeout)
        name = application_name()
        if _current(conn) != name:
            try:
                conn.execute(_SET, [name])
                conn.commit()
            except BaseException:
                super().putconn(conn)
                raise
        return conn

    def putconn(self, conn: psycopg.Connection) -> None:
        if _idle(conn) and _current(conn) != APPLICATION_NAME:
            with contextlib.suppress(psycopg.Error):
                conn.execute(_SET, [APPLICATION_NAME])
                conn.commit()
        super().putconn(conn)
