"""Small FastAPI dependencies shared by routers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from fastapi import Request
from psycopg import AsyncConnection, Connection


async def connection(request: Request) -> AsyncIterator[AsyncConnection]:
    async with request.app.state.pool.connection() as conn:
        yield conn


def sync_connection(request: Request) -> Iterator[Connection]:
    """A pooled sync connection for handlers that call the sync layers/ functions (run in the thread pool)."""
    with request.app.state.sync_pool.connection() as conn:
        yield conn
