"""GET /healthz: is the database reachable, and is its schema the newest?"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from layers.db.schema import head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Database reachable and schema version")
async def healthz(request: Request) -> JSONResponse:
    head = head_revision()
    try:
        async with request.app.state.pool.connection(timeout=5) as conn:
            cur = await conn.execute(
                "SELECT (SELECT version_num FROM alembic_version), postgis_lib_version(), "
                "current_setting('server_version')"
            )
            schema, postgis, server = await cur.fetchone()
    except Exception as exc:  # any failure to reach the database is the answer, not a crash
        return JSONResponse(
            {"status": "error", "database": "unreachable", "detail": str(exc)[:300], "schema_head": head},
            status_code=503,
        )
    ok = schema == head
    return JSONResponse(
        {
            "status": "ok" if ok else "degraded",
            "database": "ok",
            "schema_version": schema,
            "schema_head": head,
            "postgres": server,
            "postgis": postgis,
        },
        status_code=200 if ok else 503,
    )
