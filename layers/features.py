"""GeoJSON features of each collection, built inside PostGIS and streamed row by row.

Each collection is a table plus the SQL of its properties. Features are serialised by PostgreSQL
(json_build_object + ST_AsGeoJSON) and read through a server-side cursor, so memory stays flat however
many features are asked for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from psycopg import AsyncConnection, sql

from geo.bounds import INDONESIA
from geo.errors import InvalidInput, NotFound
from layers.access import PUBLIC, Principal, row_filter
from layers.codes import tenant_code

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
COORDINATE_DECIMALS = 7  # ~1 cm


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    table: str
    key: str
    properties: dict[str, str]
    tenant_column: str = "tenant"
    order_by: str = "t.id"
    joins: str = ""
    extra: dict[str, str] = field(default_factory=dict)


COLLECTIONS: dict[str, Collection] = {
    "regions": Collection(
        id="regions",
        title="Wilayah administrasi",
        description="Provinsi, kab/kota, kecamatan dan desa/kelurahan dengan kode Kemendagri",
        table="regions",
        key="t.code",
        order_by="t.code",
        properties={
            "code": "t.code",
            "bps_code": "t.bps_code",
            "name": "t.name",
            "level": "t.level",
            "kind": "t.kind",
            "parent_code": "t.parent_code",
            "tenant": "t.tenant",
            "area_ha": "round(t.area_ha::numeric, 4)",
        },
    ),
    "slum-areas": Collection(
        id="slum-areas",
        title="Kawasan kumuh",
        description="Deliniasi kawasan kumuh per SK Kumuh, dengan luas geodesik dan kelurahannya",
        table="slum_areas",
        key="t.id",
        joins="JOIN decrees d ON d.id = t.decree_id",
        properties={
            "id": "t.id",
            "tenant": "t.tenant",
            "decree": "d.number",
            "decree_published": "d.published",
            "kawasan": "t.kawasan",
            "unit_label": "t.unit_label",
            "kelurahan_code": "t.kelurahan_code",
            "kelurahan_codes": (
                "(SELECT coalesce(json_agg(json_build_object('code', sr.region_code, 'share', "
                "round(sr.share::numeric, 4)) ORDER BY sr.share DESC), '[]'::json) "
                "FROM slum_area_regions sr WHERE sr.slum_area_id = t.id)"
            ),
            "area_ha": "round(t.area_ha::numeric, 4)",
            "stated_area_ha": "t.stated_area_ha",
            "legality": "t.legality",
            "typology": "t.typology",
            "synthetic": "t.synthetic",
        },
    ),
}


def get_collection(collection_id: str) -> Collection:
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(
            f"collection '{collection_id}' does not exist; collections: {', '.join(COLLECTIONS)}"
        ) from None


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """'minLon,minLat,maxLon,maxLat' in EPSG:4326 (OGC API order); 6 numbers allowed (heights ignored)."""
    if text is None or not text.strip():
        return None
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        raise InvalidInput(f"bbox '{text}' must be four numbers: minLon,minLat,maxLon,maxLat") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise InvalidInput(f"bbox '{text}' must be four numbers: minLon,minLat,maxLon,maxLat")
    minx, miny, maxx, maxy = numbers
    if not _overlaps_indonesia(minx, miny, maxx, maxy) and _overlaps_indonesia(miny, minx, maxy, maxx):
        raise InvalidInput(f"bbox '{text}' lies outside Indonesia; latitude and longitude look swapped "
                           "(the order is minLon,minLat,maxLon,maxLat)")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidInput(f"bbox '{text}' is not longitude/latitude in degrees")
    if miny > maxy:
        raise InvalidInput(f"bbox '{text}': minLat is greater than maxLat")
    if minx > maxx:
        raise InvalidInput(f"bbox '{text}': minLon is greater than maxLon (antimeridian boxes are not supported)")
    return minx, miny, maxx, maxy


def _overlaps_indonesia(minx: float, miny: float, maxx: float, maxy: float) -> bool:
    x0, y0, x1, y1 = INDONESIA.box
    return minx <= x1 and maxx >= x0 and miny <= y1 and maxy >= y0


@dataclass(frozen=True)
class ItemsQuery:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    tenant: str | None = None
    principal: Principal = PUBLIC

    @classmethod
    def parse(cls, limit: int | None, offset: int | None, bbox: str | None, tenant: str | None,
              principal: Principal = PUBLIC) -> ItemsQuery:
        limit = DEFAULT_LIMIT if limit is None else limit
        offset = 0 if offset is None else offset
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1 (got {limit})")
        if offset < 0:
            raise InvalidInput(f"offset must be 0 or more (got {offset})")
        return cls(
            limit=min(limit, MAX_LIMIT),
            offset=offset,
            bbox=parse_bbox(bbox),
            tenant=tenant_code(tenant) if tenant else None,
            principal=principal,
        )


def _where(collection: Collection, query: ItemsQuery) -> tuple[sql.Composable, list]:
    clauses, params = [row_filter(query.principal, collection.id)], []
    if query.bbox:
        clauses.append(sql.SQL("t.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) "
                               "AND ST_Intersects(t.geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"))
        params += [*query.bbox, *query.bbox]
    if query.tenant:
        clauses.append(sql.SQL("t.{} = %s").format(sql.Identifier(collection.tenant_column)))
        params.append(query.tenant)
    return sql.SQL(" AND ").join(clauses), params


async def count_items(conn: AsyncConnection, collection: Collection, query: ItemsQuery) -> int:
    where, params = _where(collection, query)
    statement = sql.SQL("SELECT count(*) FROM {} t WHERE {}").format(sql.Identifier(collection.table), where)
    cur = await conn.execute(statement, params)
    return (await cur.fetchone())[0]


def _feature_sql(collection: Collection) -> sql.Composable:
    pairs = ", ".join(f"'{name}', {expression}" for name, expression in collection.properties.items())
    return sql.SQL(
        "json_build_object('type', 'Feature', 'id', " + collection.key + ", "
        "'geometry', ST_AsGeoJSON(t.geom, " + str(COORDINATE_DECIMALS) + ")::json, "
        "'properties', json_build_object(" + pairs + "))::text"
    )


def _select(collection: Collection, where: sql.Composable) -> sql.Composable:
    return sql.SQL("SELECT {} FROM {} t {} WHERE {} ORDER BY {} LIMIT %s OFFSET %s").format(
        _feature_sql(collection),
        sql.Identifier(collection.table),
        sql.SQL(collection.joins),
        where,
        sql.SQL(collection.order_by),
    )


async def fetch_item(conn: AsyncConnection, collection: Collection, fid: str, principal: Principal = PUBLIC
                     ) -> str | None:
    """One feature by its id, as GeoJSON text, or None (also when the caller may not see it)."""
    statement = _select(collection, sql.SQL("{}::text = %s AND {}").format(
        sql.SQL(collection.key), row_filter(principal, collection.id)))
    cur = await conn.execute(statement, [fid, 1, 0])
    row = await cur.fetchone()
    return row[0] if row else None


async def stream_items(conn: AsyncConnection, collection: Collection, query: ItemsQuery) -> AsyncIterator[str]:
    """Yield each feature as GeoJSON text, in a stable order, through a server-side cursor."""
    where, params = _where(collection, query)
    statement = _select(collection, where)
    async with conn.transaction(), conn.cursor(name="items") as cur:
        cur.itersize = 500
        await cur.execute(statement, [*params, query.limit, query.offset])
        async for (feature,) in cur:
            yield feature
