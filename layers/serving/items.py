"""GeoJSON items of a collection, built inside PostGIS and streamed row by row.

Features are serialised by PostgreSQL (json_build_object + ST_AsGeoJSON) and read through a server-side cursor,
so memory stays flat however many features are asked for. Every query ANDs `row_filter(principal, ...)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from psycopg import AsyncConnection, sql

from layers.accounts.access import PUBLIC, Principal, row_filter
from layers.db.rows import one
from layers.serving.collections import COORDINATE_DECIMALS, Collection, Join, render_joins
from layers.serving.filters import ItemsQuery, where_clause


# -- items ----------------------------------------------------------------------------------------------
def _feature_sql(collection: Collection) -> sql.Composed:
    pairs = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(p.name), p.sql) for p in collection.properties)
    return sql.SQL(
        "json_build_object('type', 'Feature', 'id', {key}, 'geometry', ST_AsGeoJSON(t.geom, {decimals})::json, "
        "'properties', json_build_object({pairs}))::text"
    ).format(key=collection.key, decimals=sql.Literal(COORDINATE_DECIMALS), pairs=pairs)


def _from(collection: Collection, principal: Principal, joins: tuple[Join, ...]) -> sql.Composed:
    return sql.SQL("FROM {} t {}").format(sql.Identifier(collection.table), render_joins(joins, principal))


async def count_items(conn: AsyncConnection, collection: Collection, query: ItemsQuery) -> int:
    """numberMatched: only the joins the filters need are made (a lateral summary per row would be wasted)."""
    where, params = where_clause(collection, query)
    needed = collection.needed_joins(list(query.filters), query.datetime is not None) | query.cql_joins
    joins = collection.joins_for(needed)
    statement = sql.SQL("SELECT count(*) {} WHERE {}").format(_from(collection, query.principal, joins), where)
    cur = await conn.execute(statement, params)
    return one(await cur.fetchone(), "SELECT count(*)")[0]


def _select(collection: Collection, principal: Principal, where: sql.Composable) -> sql.Composed:
    return sql.SQL("SELECT {} {} WHERE {} ORDER BY {} LIMIT %s OFFSET %s").format(
        _feature_sql(collection),
        _from(collection, principal, collection.joins),
        where,
        collection.order_by,
    )


async def fetch_item(conn: AsyncConnection, collection: Collection, fid: str, principal: Principal = PUBLIC
                     ) -> str | None:
    """One feature by its id, as GeoJSON text, or None (also when the caller may not see it)."""
    statement = _select(collection, principal, sql.SQL("{}::text = %s AND {} AND {}").format(
        collection.key, row_filter(principal, collection.access_id), collection.where))
    cur = await conn.execute(statement, [fid, 1, 0])
    row = await cur.fetchone()
    return row[0] if row else None


async def stream_items(conn: AsyncConnection, collection: Collection, query: ItemsQuery) -> AsyncIterator[str]:
    """Yield each feature as GeoJSON text, in a stable order, through a server-side cursor."""
    where, params = where_clause(collection, query)
    statement = _select(collection, query.principal, where)
    async with conn.transaction(), conn.cursor(name="items") as cur:
        cur.itersize = 500
        await cur.execute(statement, [*params, query.limit, query.offset])
        async for (feature,) in cur:
            yield feature
