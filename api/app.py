"""The FastAPI application: a connection pool opened at start-up, routers, the error mapping, request ids."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from api.body_checks import NulInUrlGuard
from api.cache_purge import CachePurgeMiddleware
from api.compression import PageAssetsGZip, PrecompressedStaticFiles
from api.http_errors import install_error_handlers
from api.limits import ExportSlots, LimitsMiddleware
from api.logs import RequestIdMiddleware
from api.models.errors import ERROR_STATUSES, ErrorBody
from api.pools import APPLICATION_NAME, RequestAsyncPool, RequestPool
from api.read_routing import ReadRoutingMiddleware, RoutedPool, open_replicas, read_urls, route_sync
from api.routes import (
    activities,
    assets,
    auth,
    basemap,
    catalogue,
    decrees,
    drawing,
    exports,
    features,
    health,
    keterpaduan,
    ogc,
    pages,
    plans,
    scores,
    styles,
    tiles,
    users,
)
from layers.db.connection import resolve_app_login
from layers.serving.purge import parse_urls
from layers.settings import Settings
from maps.static_files import STATIC_DIR

POOL_MAX = 16
SYNC_POOL_MAX = 8
# Database restarts: every connection is checked (one empty round trip) when taken from a pool, so one that died
# with the server is replaced instead of failing a request; lost ones are reconnected with backoff (1 s doubling
# to 10 s), and an attempt given up after RECONNECT_TIMEOUT_S starts again with the next request. Connections are
# renewed after MAX_LIFETIME_S (server-side memory, a moved server) and closed after MAX_IDLE_S unused.
MAX_LIFETIME_S = 1800.0
MAX_IDLE_S = 300.0
RECONNECT_TIMEOUT_S = 60.0
ERROR_BODY_REF = "#/components/schemas/ErrorBody"


class KotakuAPI(FastAPI):
    """FastAPI whose /openapi.json tells the truth about invalid requests: the handler in api/http_errors.py
    answers them 400 with ErrorBody, not FastAPI's automatic 422 HTTPValidationError."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = validation_errors_as_400(super().openapi())
        return self.openapi_schema


def validation_errors_as_400(document: dict[str, Any]) -> dict[str, Any]:
    """Every operation FastAPI documents with 422 documents 400 -> ErrorBody instead (in the 422's place, unless
    it already lists a 400); HTTPValidationError and ValidationError go when nothing refers to them any more."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if not responses or "422" not in responses:
                continue
            replaced: dict[str, Any] = {}
            for status, answer in responses.items():
                if status != "422":
                    replaced[status] = answer
                elif "400" not in responses:
                    replaced["400"] = {"description": ERROR_STATUSES[400],
                                       "content": {"application/json": {"schema": {"$ref": ERROR_BODY_REF}}}}
            operation["responses"] = replaced
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}"))
    rest = {key: value for key, value in document.items() if key != "components"}
    for name in ("HTTPValidationError", "ValidationError"):  # the second is referred to by the first only
        others = {key: value for key, value in schemas.items() if key != name}
        if f'"#/components/schemas/{name}"' not in json.dumps([rest, others]):
            schemas.pop(name, None)
    return document


def create_app(database_url: str, settings: Settings | None = None, *, access_log: bool = True) -> FastAPI:
    """An app bound to one database; `kotaku serve` passes it once the database is up and migrated, with the
    settings it built at start-up (tests may pass theirs; without, they are read from the environment now)."""
    settings = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # The app's own login (never the owner's: layers/db/connection.py), tried once; the owner switching role
        # only where the app role may not log in, with a warning.
        login = await asyncio.to_thread(resolve_app_login, database_url, settings.app_role,
                                        settings.app_database_url)
        app.state.own_login = login.own
        # prepare_threshold None: no server-side prepared statements (PgBouncer in transaction mode, docs/scaling.md)
        connection_kwargs = {**login.kwargs, "application_name": APPLICATION_NAME,
                             "prepare_threshold": settings.prepare_threshold}
        pool = RequestAsyncPool(login.url, min_size=1, max_size=POOL_MAX, open=False,
                                check=AsyncConnectionPool.check_connection, timeout=settings.pool_timeout_s,
                                max_lifetime=MAX_LIFETIME_S, max_idle=MAX_IDLE_S,
                                reconnect_timeout=RECONNECT_TIMEOUT_S,
                                kwargs={"autocommit": True, **connection_kwargs})
        await pool.open()
        app.state.pool = pool
        monitor = None
        if read_urls(settings.database_read_url):  # reads on streaming replicas (api/read_routing.py)
            def replica_pool(url: str) -> RequestAsyncPool:
                return RequestAsyncPool(url, min_size=1, max_size=POOL_MAX, open=False,
                                        check=AsyncConnectionPool.check_connection, timeout=settings.pool_timeout_s,
                                        max_lifetime=MAX_LIFETIME_S, max_idle=MAX_IDLE_S,
                                        reconnect_timeout=RECONNECT_TIMEOUT_S,
                                        kwargs={"autocommit": True, **connection_kwargs})
            app.state.pool, monitor = await open_replicas(pool, read_urls(settings.database_read_url),
                                                          settings.app_role, settings.replica_max_lag_s,
                                                          replica_pool)
        # Writes (proposals, workflow) call the same sync functions as the CLI, from FastAPI's thread pool.
        def sync_pool_on(url: str) -> RequestPool:
            return RequestPool(url, min_size=1, max_size=SYNC_POOL_MAX, open=False,
                               check=ConnectionPool.check_connection, timeout=settings.pool_timeout_s,
                               max_lifetime=MAX_LIFETIME_S, max_idle=MAX_IDLE_S,
                               reconnect_timeout=RECONNECT_TIMEOUT_S, kwargs=connection_kwargs)
        sync_pool = sync_pool_on(login.url)
        sync_pool.open()
        app.state.sync_pool = sync_pool
        if isinstance(app.state.pool, RoutedPool):  # exports and other sync reads follow the request's choice
            app.state.sync_pool = route_sync(sync_pool, app.state.pool, sync_pool_on)
        try:
            yield
        finally:
            if monitor is not None:
                await monitor.stop()
                for replica in app.state.pool.replicas:
                    await replica.pool.close()
            await pool.close()
            app.state.sync_pool.close()

    app = KotakuAPI(
        title="kotaku-gis",
        version="0.1.0",
        description="Peta kawasan kumuh, usulan dan keterpaduan program KOTAKU (OGC API Features, GeoJSON).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.export_slots = ExportSlots(settings.export_concurrency, settings.export_wait_s)
    app.add_middleware(ReadRoutingMiddleware)  # innermost: a read's target (replica or primary), a write's LSN
    # BAN the layers a write changed on the shared caches before its answer goes out (when configured)
    app.add_middleware(CachePurgeMiddleware, urls=parse_urls(settings.cache_purge_urls))
    app.add_middleware(LimitsMiddleware, settings=settings)  # inside the error net added next
    app.add_middleware(PageAssetsGZip)  # gzip for static files, vector tiles and styles (api/compression.py)
    install_error_handlers(app)
    app.add_middleware(NulInUrlGuard)  # a NUL in the URL never reaches a route (api/body_checks.py)
    app.add_middleware(RequestIdMiddleware, access_log=access_log)  # outermost: added last
    app.include_router(basemap.router)  # before tiles: /tiles/basemap/... is no collection
    app.include_router(tiles.router)  # first: tiles are the hottest path, and routes are matched in order
    app.include_router(health.router)
    app.include_router(ogc.router)
    app.include_router(catalogue.router)  # before features: /collections/programs... are explicit paths
    app.include_router(features.router)
    app.include_router(activities.router)
    app.include_router(drawing.router)
    app.include_router(assets.router)
    app.include_router(plans.router)
    app.include_router(decrees.router)
    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(scores.router)
    app.include_router(keterpaduan.router)
    app.include_router(exports.router)
    app.include_router(pages.router)
    app.include_router(styles.router)
    app.mount("/static", PrecompressedStaticFiles(directory=STATIC_DIR), name="static")  # gzipped once a file
    return app
