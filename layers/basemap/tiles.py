"""Basemap vector tiles: five layers (roads, buildings, water, landuse, places) in one MVT, made by PostGIS.

Each layer is one ST_AsMVT over the features whose class is drawn at the tile's zoom (`min_zoom`, from
layers/basemap/classes.py: primary roads from 10, residential from 14, paths from 16, buildings from 15),
generalised with ST_Simplify to about two tile units at that zoom (then clipped and snapped by ST_AsMVTGeom),
at most MAX_FEATURES_PER_LAYER a layer, the most important first (`rank`). Roads carry `name` and `class` (line
labels), places `name` and `class` (point labels); `places` also holds the kab/kota, kecamatan and
kelurahan/desa names of `regions` as label points (ST_PointOnSurface; class kabkota from zoom 8, kecamatan 10,
kelurahan/desa 12), read live so a boundary import shows at once. The tile box travels as bind parameters; the
statement text is constant (prepared once per connection).
"""

from __future__ import annotations

from functools import cache

from psycopg import AsyncConnection, sql

from layers.basemap.classes import LAYERS, REGION_LABELS

TILE_EXTENT = 4096
TILE_BUFFER = 64
MAX_FEATURES_PER_LAYER = 5_000
MAX_ZOOM = 22
# fields of each layer's features (TileJSON vector_layers)
LAYER_FIELDS = {
    "roads": {"class": "String", "name": "String"},
    "buildings": {"class": "String", "name": "String"},
    "water": {"class": "String", "name": "String"},
    "landuse": {"class": "String", "name": "String"},
    "places": {"class": "String", "name": "String", "code": "String"},
}
LAYER_DESCRIPTIONS = {
    "roads": "Jalan (OSM highway): class dan nama; primer dari zoom 10, lingkungan dari 14, jalan setapak dari 16",
    "buildings": "Bangunan, dari zoom 15",
    "water": "Sungai, kanal, saluran dan badan air",
    "landuse": "Penggunaan lahan (permukiman, taman, hutan ...)",
    "places": "Nama tempat (OSM place) dan nama kab/kota, kecamatan, kelurahan/desa dari batas wilayah",
}
MIN_ZOOMS = {"roads": 8, "buildings": 15, "water": 10, "landuse": 10, "places": 6}

_TILE = sql.SQL(
    "WITH tile AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS box, "
    "ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {margin}), 4326) AS query_box)"
).format(margin=sql.Literal(TILE_BUFFER / TILE_EXTENT))


def _geom(column: sql.Composable) -> sql.Composable:
    return sql.SQL("ST_AsMVTGeom(ST_Transform(ST_Simplify({column}, %(tolerance)s, true), 3857), tile.box, "
                   "{extent}, {buffer}, true)").format(column=column, extent=sql.Literal(TILE_EXTENT),
                                                       buffer=sql.Literal(TILE_BUFFER))


def _layer_rows(layer: str) -> sql.Composable:
    rows = sql.SQL(
        "SELECT t.id, t.class, t.name, NULL::text AS code, {geom} AS geom FROM ("
        "SELECT f.* FROM basemap_features f, tile WHERE f.layer = {layer} AND f.min_zoom <= %(z)s "
        "AND f.geom && tile.query_box AND (%(tenant)s::text IS NULL OR f.tenant IS NULL OR f.tenant = %(tenant)s) "
        "ORDER BY f.rank DESC, f.id LIMIT {cap}) t CROSS JOIN tile"
    ).format(geom=_geom(sql.SQL("t.geom")), layer=sql.Literal(layer), cap=sql.Literal(MAX_FEATURES_PER_LAYER))
    if layer != "places":
        return rows
    levels = sql.SQL(" ").join(
        sql.SQL("WHEN {} THEN CASE WHEN %(z)s >= {} THEN {} END").format(
            sql.Literal(level), sql.Literal(zoom), sql.Literal(cls)) for level, cls, zoom in REGION_LABELS)
    labels = sql.SQL(
        "SELECT -replace(r.code, '.', '')::bigint AS id, r.cls AS class, r.name, r.code, "
        "ST_AsMVTGeom(ST_Transform(ST_PointOnSurface(r.geom), 3857), tile.box, {extent}, {buffer}, true) AS geom "
        "FROM (SELECT g.code, g.name, g.geom, CASE g.kind WHEN 'desa' THEN 'desa' ELSE c.cls END AS cls "
        "FROM regions g CROSS JOIN tile CROSS JOIN LATERAL (SELECT CASE g.level {levels} END AS cls) c "
        "WHERE c.cls IS NOT NULL AND g.geom && tile.query_box "
        "AND (%(tenant)s::text IS NULL OR g.code = %(tenant)s OR g.code LIKE %(tenant_prefix)s) "
        "ORDER BY g.area_ha DESC NULLS LAST LIMIT {cap}) r CROSS JOIN tile "
        "WHERE ST_Intersects(ST_PointOnSurface(r.geom), tile.query_box)"
    ).format(extent=sql.Literal(TILE_EXTENT), buffer=sql.Literal(TILE_BUFFER), levels=levels,
             cap=sql.Literal(MAX_FEATURES_PER_LAYER))
    return sql.SQL("{} UNION ALL {}").format(rows, labels)


@cache
def basemap_sql() -> sql.Composed:
    """One statement: the MVT of the five layers (concatenated) and the number of features."""
    parts = [sql.SQL("SELECT ST_AsMVT(q, {layer}, {extent}, 'geom', 'id') AS mvt, count(*) AS n FROM ({rows}) q "
                     "WHERE q.geom IS NOT NULL").format(layer=sql.Literal(layer), extent=sql.Literal(TILE_EXTENT),
                                                        rows=_layer_rows(layer))
             for layer in LAYERS]
    ctes = sql.SQL(", ").join(sql.SQL("{} AS ({})").format(sql.Identifier(f"l_{layer}"), part)
                              for layer, part in zip(LAYERS, parts, strict=True))
    mvt = sql.SQL(" || ").join(sql.SQL("coalesce((SELECT mvt FROM {}), ''::bytea)").format(
        sql.Identifier(f"l_{layer}")) for layer in LAYERS)
    count = sql.SQL(" + ").join(sql.SQL("(SELECT n FROM {})").format(sql.Identifier(f"l_{layer}")) for layer in LAYERS)
    return sql.SQL("{tile}, {ctes} SELECT {mvt}, {count}").format(tile=_TILE, ctes=ctes, mvt=mvt, count=count)


@cache
def basemap_rows_sql(layers: tuple[str, ...] = LAYERS) -> sql.Composed:
    """One statement: the features of `layers` in the MVT of the same address as rows (layer, class, name, WKB in
    tile units 0..4096, y down), for the PNG tiles (maps/basemap_png.py): the same selection, generalisation and
    clipping."""
    parts = [sql.SQL("SELECT {layer} AS layer, q.class, q.name, ST_AsBinary(q.geom) FROM ({rows}) q "
                     "WHERE q.geom IS NOT NULL").format(layer=sql.Literal(layer), rows=_layer_rows(layer))
             for layer in layers]
    return sql.SQL("{tile} {rows}").format(tile=_TILE, rows=sql.SQL(" UNION ALL ").join(parts))


def tile_params(z: int, x: int, y: int, tenant: str | None) -> dict:
    # about two tile units at this zoom, in degrees (ST_Simplify works in the data's CRS, EPSG:4326)
    tolerance = 360.0 / (TILE_EXTENT * (1 << z)) * 2
    return {"z": z, "x": x, "y": y, "tenant": tenant, "tenant_prefix": f"{tenant}.%" if tenant else None,
            "tolerance": tolerance}


async def render_basemap(conn: AsyncConnection, z: int, x: int, y: int, tenant: str | None = None
                         ) -> tuple[bytes, int]:
    """(MVT bytes, features) of basemap tile z/x/y; the address is checked by the caller."""
    cur = await conn.execute(basemap_sql(), tile_params(z, x, y, tenant))
    row = await cur.fetchone()
    if row is None:
        return b"", 0
    return bytes(row[0] or b""), int(row[1] or 0)


async def basemap_rows(conn: AsyncConnection, z: int, x: int, y: int, tenant: str | None = None,
                       layers: tuple[str, ...] = LAYERS) -> list[tuple[str, str | None, str | None, bytes]]:
    """The rows of `layers` of basemap tile z/x/y (basemap_rows_sql); the address is checked by the caller."""
    cur = await conn.execute(basemap_rows_sql(layers), tile_params(z, x, y, tenant))
    return [(layer, cls, name, bytes(wkb)) for layer, cls, name, wkb in await cur.fetchall()]


async def basemap_bounds(conn: AsyncConnection, tenant: str | None) -> list[float] | None:
    """[west, south, east, north] of the basemap features (the tenant's and the shared ones), None when empty."""
    cur = await conn.execute(sql.SQL(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e "
        "FROM basemap_features WHERE %(t)s::text IS NULL OR tenant IS NULL OR tenant = %(t)s) s WHERE e IS NOT NULL"),
        {"t": tenant})
    row = await cur.fetchone()
    return [float(v) for v in row] if row else None
