"""Small FastAPI dependencies shared by routers."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from psycopg import AsyncConnection


async def connection(request: Request) -> AsyncIterator[AsyncConnection]:
    async with request.app.state.pool.connection() as conn:
        yield conn
