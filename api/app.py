"""The FastAPI application: a connection pool opened at start-up, routers, and the error mapping."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from api.http_errors import install_error_handlers
from api.routes import activities, auth, exports, features, health, keterpaduan, ogc, pages, scores, tiles, users
from layers.db.connection import app_role_kwargs
from maps.static_files import STATIC_DIR

POOL_MAX = 16
SYNC_POOL_MAX = 8


def create_app(database_url: str) -> FastAPI:
    """An app bound to one database; `kotaku serve` passes it once the database is up and migrated."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = AsyncConnectionPool(database_url, min_size=1, max_size=POOL_MAX, open=False,
                                   kwargs={"autocommit": True, **app_role_kwargs(database_url)})
        await pool.open()
        app.state.pool = pool
        # Writes (proposals, workflow) call the same sync functions as the CLI, from FastAPI's thread pool.
        sync_pool = ConnectionPool(database_url, min_size=1, max_size=SYNC_POOL_MAX, open=False,
                                   kwargs=app_role_kwargs(database_url))
        sync_pool.open()
        app.state.sync_pool = sync_pool
        try:
            yield
        finally:
            await pool.close()
            sync_pool.close()

    app = FastAPI(
        title="kotaku-gis",
        version="0.1.0",
        description="Peta kawasan kumuh, usulan dan keterpaduan program KOTAKU (OGC API Features, GeoJSON).",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(tiles.router)  # first: tiles are the hottest path, and routes are matched in order
    app.include_router(health.router)
    app.include_router(ogc.router)
    app.include_router(features.router)
    app.include_router(activities.router)
    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(scores.router)
    app.include_router(keterpaduan.router)
    app.include_router(exports.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
