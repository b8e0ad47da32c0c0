"""The FastAPI application: a connection pool opened at start-up, routers, and the error mapping."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from api.http_errors import install_error_handlers
from api.routes import features, health

POOL_MAX = 16


def create_app(database_url: str) -> FastAPI:
    """An app bound to one database; `kotaku serve` passes it once the database is up and migrated."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = AsyncConnectionPool(database_url, min_size=1, max_size=POOL_MAX, open=False,
                                   kwargs={"autocommit": True})
        await pool.open()
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="kotaku-gis",
        version="0.1.0",
        description="Peta kawasan kumuh, usulan dan keterpaduan program KOTAKU (OGC API Features, GeoJSON).",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(features.router)
    return app
