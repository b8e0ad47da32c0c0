"""Where a kab/kota is: the bounds and a centre of its region (TileJSON `bounds`/`center` with `?tenant=`)."""

from __future__ import annotations

from psycopg import AsyncConnection, sql

_BOUNDS = sql.SQL(
    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM regions "
    "WHERE code = %(t)s OR code LIKE %(prefix)s) s WHERE e IS NOT NULL")


async def tenant_bounds(conn: AsyncConnection, tenant: str) -> list[float] | None:
    """[west, south, east, north] of the kab/kota `tenant` and its regions; None when none is loaded."""
    cur = await conn.execute(_BOUNDS, {"t": tenant, "prefix": f"{tenant}.%"})
    row = await cur.fetchone()
    return [round(float(v), 6) for v in row] if row else None


def centre(bounds: list[float], zoom: int) -> list[float | int]:
    return [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6), zoom]


async def collection_bounds(conn: AsyncConnection, table: str, subset: sql.Composable) -> list[float] | None:
    """[west, south, east, north] of a collection's rows (all of them: bounds only), None when it is empty."""
    cur = await conn.execute(sql.SQL(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(t.geom) AS e FROM {} t "
        "WHERE {}) s WHERE e IS NOT NULL").format(sql.Identifier(table), subset))
    row = await cur.fetchone()
    return [round(float(v), 6) for v in row] if row else None
