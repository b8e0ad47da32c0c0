"""Vector tiles (MVT) of every collection, made by PostGIS in one statement per tile.

What a tile holds depends on its zoom, so that a map stays light at every scale:
- from FEATURE_MIN_ZOOM: the features themselves, with the collection's scalar properties (those maps style by:
  level, score, priority, programme, funding source, stage, year ...), at most MAX_FEATURES_PER_TILE of them,
  the most important first (largest areas, costliest activities). ST_AsMVTGeom clips each geometry to the tile
  (plus a 64-unit buffer) after ST_Simplify to half a pixel of a 512-pixel tile (simplify_tolerance), so geometry
  is generalised to the zoom;
- below it: one polygon per kelurahan (zoom 10-11), kecamatan (8-9) or kab/kota (< 8) that has features, with
  counts and sums of all its features (not only those inside the tile, so neighbouring tiles agree), read from
  per-kelurahan tallies kept fresh by layers/serving/tallies.py. Features are grouped by their kelurahan code (set
  by the imports' spatial join; features without one are left out of aggregates); `regions` shows coarser
  administrative levels at lower zooms instead.
The layer name is the collection id; feature ids are integers (region codes without dots for regions and
aggregates). Tile boxes travel as bind parameters (ST_TileEnvelope(z, x, y)), never inlined: the statement
text per collection and zoom band is constant, so PostgreSQL plans it once per connection (psycopg prepares it).
Every fragment is a psycopg.sql Composable (sql.SQL / Identifier / Literal composed); only constants of the code
(extent, buffer, cap, level names) become literals, never a request's values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from psycopg import AsyncConnection, sql

from geo.errors import NotFound
from layers.accounts.access import Principal, row_filter
from layers.serving.collections import Collection, get_collection, render_joins
from layers.serving.tallies import TALLIES_OF, level_order_sql, priority_order_sql, refresh_tallies
from layers.values.codes import tenant_code

TILE_EXTENT = 4096
TILE_BUFFER = 64
SIMPLIFY_UNITS = 4  # tile units: see simplify_tolerance
MIN_ZOOM, MAX_ZOOM = 0, 22
FEATURE_MIN_ZOOM = 12
MAX_FEATURES_PER_TILE = 5_000
TILE_MATRIX_SET = "WebMercatorQuad"
# Below FEATURE_MIN_ZOOM, from which zoom each region level is the aggregate, and its key over a feature row `t`.
AGGREGATE_LEVELS = (
    (10, "desa_kelurahan", sql.SQL("{t}.kelurahan_code")),
    (8, "kecamatan", sql.SQL("left({t}.kelurahan_code, 8)")),
    (0, "kabkota", sql.SQL("left({t}.kelurahan_code, 5)")),
)
# regions: which administrative levels a tile shows from which zoom.
REGION_LEVEL_MIN_ZOOM = {"provinsi": 0, "kabkota": 5, "kecamatan": 8, "desa_kelurahan": 11}
AGGREGATE_NOTE = (f"Di bawah zoom {FEATURE_MIN_ZOOM} ubin berisi agregat per kelurahan (zoom 10-11), kecamatan (8-9) "
                  "atau kab/kota (di bawah 8): poligon wilayah dengan jumlah dan total fiturnya; atribut 'aggregate' "
                  "menyebut tingkatnya")


@dataclass(frozen=True)
class AggregateField:
    name: str
    type: str  # JSON Schema type
    title: str


class Measures(NamedTuple):
    """What an aggregate's measures are written over: the region key over its row, over a second tally row `g2`,
    and the caller's row filter over its row."""

    key: sql.Composable
    key2: sql.Composable
    row_filter: sql.Composable


@dataclass(frozen=True)
class Aggregate:
    """`measures` makes a SELECT of one row of `fields` for one region `r` (a correlated LATERAL subquery), over
    the tallies `g` or the features `t`, from Measures. A region is drawn when its `present` field is above zero.

    Per-region lookups, not one join over all regions: a prepared statement runs a generic plan that cannot
    know how many regions a tile holds, and index lookups per region stay fast whatever that number is."""

    fields: tuple[AggregateField, ...]
    measures: Callable[[Measures], sql.Composable]
    present: str


SLUM_AREA_FIELDS = (
    AggregateField("slum_areas", "integer", "Jumlah kawasan kumuh"),
    AggregateField("area_ha", "number", "Luas kawasan kumuh (ha)"),
    AggregateField("level", "string", "Tingkat kekumuhan terberat"),
    AggregateField("score", "number", "Rata-rata skor"),
    AggregateField("priority", "string", "Kelas prioritas paling mendesak"),
)
ACTIVITY_FIELDS = (
    AggregateField("activities", "integer", "Jumlah kegiatan"),
    AggregateField("total_cost", "number", "Perkiraan biaya kegiatan (Rp): usulan, bukan pagu atau realisasi"),
    AggregateField("program_count", "integer", "Jumlah program"),
    AggregateField("funding_source_count", "integer", "Jumlah sumber dana"),
    AggregateField("year_min", "integer", "Tahun pertama"),
    AggregateField("year_max", "integer", "Tahun terakhir"),
)


def _slum_area_measures(m: Measures) -> sql.Composable:
    return sql.SQL(
        "SELECT sum(g.features) AS slum_areas, round(sum(g.area_ha)::numeric, 2) AS area_ha, "
        "({levels})[max(g.worst_level)] AS level, "
        "round((sum(g.score_sum) / nullif(sum(g.scored), 0))::numeric, 1) AS score, "
        "({priorities})[min(g.urgent_priority)] AS priority "
        "FROM slum_area_tallies g WHERE {key} = r.code AND {row_filter}"
    ).format(levels=level_order_sql(), priorities=priority_order_sql(), key=m.key, row_filter=m.row_filter)


def _activity_measures(m: Measures, live: bool) -> sql.Composable:
    """Activities of one region from their kelurahan tallies (all, or the live ones for keterpaduan); activities
    are public: no row filter. `m.key2` is the key over a second tally row `g2`."""
    p = "live_" if live else ""

    def column(alias: str, name: str) -> sql.Composable:
        return sql.Identifier(alias, p + name)

    def distinct(name: str) -> sql.Composable:
        return sql.SQL("(SELECT count(DISTINCT v) FROM activity_tallies g2 CROSS JOIN unnest({column}) v "
                       "WHERE {key2} = r.code)").format(column=column("g2", name), key2=m.key2)

    return sql.SQL(
        "SELECT sum({features}) AS activities, sum({cost}) AS total_cost, "
        "{programs} AS program_count, {funding} AS funding_source_count, "
        "min({year_min}) AS year_min, max({year_max}) AS year_max "
        "FROM activity_tallies g WHERE {key} = r.code"
    ).format(features=column("g", "features"), cost=column("g", "cost"), programs=distinct("programs"),
             funding=distinct("funding_sources"), year_min=column("g", "year_min"),
             year_max=column("g", "year_max"), key=m.key)


def _survey_unit_measures(m: Measures) -> sql.Composable:
    return sql.SQL(
        "SELECT count(*) AS survey_units, round(sum(t.area_ha)::numeric, 2) AS area_ha, "
        "sum(t.population) AS population, sum(t.households) AS households FROM survey_units t "
        "WHERE {key} = r.code AND {row_filter}"
    ).format(key=m.key, row_filter=m.row_filter)


def _keterpaduan_measures(m: Measures) -> sql.Composable:
    return sql.SQL(
        "SELECT s.slum_areas, s.level, coalesce(k.activities, 0) AS activities, "
        "coalesce(k.total_cost, 0) AS total_cost, coalesce(k.program_count, 0) AS program_count, "
        "coalesce(k.funding_source_count, 0) AS funding_source_count, k.year_min, k.year_max "
        "FROM ({slum_areas}) s CROSS JOIN ({activities}) k"
    ).format(slum_areas=_slum_area_measures(m), activities=_activity_measures(m, live=True))


def _aggregates() -> dict[str, Aggregate]:
    return {
        "slum-areas": Aggregate(SLUM_AREA_FIELDS, _slum_area_measures, "slum_areas"),
        "survey-units": Aggregate(
            (AggregateField("survey_units", "integer", "Jumlah unit survei"),
             AggregateField("area_ha", "number", "Luas (ha)"),
             AggregateField("population", "integer", "Penduduk"),
             AggregateField("households", "integer", "KK")),
            _survey_unit_measures,
            "survey_units",
        ),
        "activities": Aggregate(ACTIVITY_FIELDS, lambda m: _activity_measures(m, live=False), "activities"),
        "keterpaduan": Aggregate(
            (AggregateField("slum_areas", "integer", "Jumlah kawasan kumuh"),
             AggregateField("level", "string", "Tingkat kekumuhan terberat"),
             *ACTIVITY_FIELDS),
            _keterpaduan_measures,
            "slum_areas",
        ),
    }


AGGREGATES = _aggregates()


@dataclass(frozen=True)
class TileAddress:
    z: int
    x: int
    y: int

    @classmethod
    def checked(cls, z: int, x: int, y: int) -> TileAddress:
        if not MIN_ZOOM <= z <= MAX_ZOOM:
            raise NotFound(f"zoom {z} is outside {MIN_ZOOM}..{MAX_ZOOM} of {TILE_MATRIX_SET}")
        size = 1 << z
        if not (0 <= x < size and 0 <= y < size):
            raise NotFound(f"tile {z}/{x}/{y} does not exist: at zoom {z} column and row run from 0 to {size - 1}")
        return cls(z, x, y)


def tile_mode(collection: Collection, z: int) -> str:
    """'features', or the region level whose aggregates the tile shows ('regions' shows levels by zoom)."""
    if collection.id == "regions" or z >= FEATURE_MIN_ZOOM or collection.id not in AGGREGATES:
        return "features"
    return next(level for min_zoom, level, _ in AGGREGATE_LEVELS if z >= min_zoom)


def _region_levels(z: int) -> list[str]:
    return [level for level, min_zoom in REGION_LEVEL_MIN_ZOOM.items() if z >= min_zoom]


_TILE_CTE = sql.SQL(
    "WITH tile AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS box, "
    "ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {margin}), 4326) AS query_box)"
).format(margin=sql.Literal(TILE_BUFFER / TILE_EXTENT))


def _mvt_geom(column: sql.Composable) -> sql.Composable:
    """Simplified (Douglas-Peucker, small rings kept) before it is projected and clipped: see tile_params."""
    return sql.SQL("ST_AsMVTGeom(ST_Transform(ST_Simplify({column}, %(tolerance)s, true), 3857), tile.box, "
                   "{extent}, {buffer}, true)").format(column=column, extent=sql.Literal(TILE_EXTENT),
                                                       buffer=sql.Literal(TILE_BUFFER))


def _mvt_value(expression: sql.Composable, kind: str) -> sql.Composable:
    """MVT has integer, double and string values: numeric (sums, rounded areas, costs) would become a string."""
    if kind == "number":
        return sql.SQL("({})::float8").format(expression)
    if kind == "integer":
        return sql.SQL("({})::bigint").format(expression)
    return expression


def _features_rows(collection: Collection, principal: Principal) -> sql.Composable:
    """The rows of a feature tile: id, tile properties, geom (tile coordinates), capped and ordered."""
    columns = [sql.SQL("{} AS id").format(collection.tile_id)]
    for p in collection.tile_properties:
        columns.append(sql.SQL("{} AS {}").format(_mvt_value(p.tile_expression, p.type),
                                                  sql.Identifier(p.name)))
    columns.append(sql.SQL("{} AS geom").format(_mvt_geom(sql.SQL("t.geom"))))
    extra = sql.SQL(" AND t.level = ANY(%(levels)s)") if collection.id == "regions" else sql.SQL("")
    inner = sql.SQL(
        "SELECT t.* FROM {table} t, tile WHERE t.geom && tile.query_box AND {row_filter} AND {subset}"
        " AND (%(tenant)s::text IS NULL OR {tenant_column} = %(tenant)s){extra} ORDER BY {order} LIMIT {cap}"
    ).format(table=sql.Identifier(collection.table), row_filter=row_filter(principal, collection.access_id),
             subset=collection.where,
             tenant_column=collection.tenant_column, extra=extra, order=collection.tile_order,
             cap=sql.Literal(MAX_FEATURES_PER_TILE))
    needed = {p.join for p in collection.tile_properties if p.join}
    return sql.SQL("SELECT {columns} FROM ({inner}) t {joins} CROSS JOIN tile").format(
        columns=sql.SQL(", ").join(columns), inner=inner,
        joins=render_joins(collection.joins_for(needed), principal))


def _aggregate_rows(collection: Collection, level: str, principal: Principal) -> sql.Composable:
    """The rows of an aggregate tile: one per region of `level` that has features."""
    key = next(k for _, lv, k in AGGREGATE_LEVELS if lv == level)
    aggregate = AGGREGATES[collection.id]
    alias = "t" if collection.id == "survey-units" else "g"  # features or tallies
    measures = aggregate.measures(Measures(
        key=key.format(t=sql.Identifier(alias)),
        key2=key.format(t=sql.Identifier("g2")),
        row_filter=row_filter(principal, collection.access_id, alias),
    ))
    fields = sql.SQL(", ").join(
        sql.SQL("{} AS {}").format(_mvt_value(sql.SQL("m.{}").format(sql.Identifier(f.name)), f.type),
                                   sql.Identifier(f.name))
        for f in aggregate.fields)
    return sql.SQL(
        "SELECT replace(r.code, '.', '')::bigint AS id, r.code, r.name, {level} AS aggregate, {fields}, "
        "{geom} AS geom FROM regions_in_tile r CROSS JOIN LATERAL ({measures}) m CROSS JOIN tile "
        "WHERE m.{present} > 0"
    ).format(level=sql.Literal(level), fields=fields, geom=_mvt_geom(sql.SQL("r.geom")), measures=measures,
             present=sql.Identifier(aggregate.present))


def _regions_in_tile(level: str) -> sql.Composable:
    return sql.SQL(
        ", regions_in_tile AS (SELECT r.code, r.name, r.geom FROM regions r, tile "
        "WHERE r.level = {} AND r.geom && tile.query_box"
        " AND (%(tenant)s::text IS NULL OR r.code = %(tenant)s OR r.code LIKE %(tenant_prefix)s))"
    ).format(sql.Literal(level))


@lru_cache(maxsize=512)
def tile_rows_sql(collection_id: str, mode: str, principal: Principal) -> sql.Composed:
    """WITH ... SELECT of the tile's rows (id, properties, geom); constant text per collection/mode/caller."""
    collection = get_collection(collection_id)
    if mode == "features":
        return sql.SQL("{} {}").format(_TILE_CTE, _features_rows(collection, principal))
    return sql.SQL("{}{} {}").format(_TILE_CTE, _regions_in_tile(mode),
                                     _aggregate_rows(collection, mode, principal))


@lru_cache(maxsize=512)
def mvt_sql(collection_id: str, mode: str, principal: Principal) -> sql.Composed:
    rows = tile_rows_sql(collection_id, mode, principal)
    # OFFSET 0 keeps the rows a subquery: flattened, PostgreSQL would compute ST_AsMVTGeom twice per row
    # (once for the IS NOT NULL filter, once for the output).
    return sql.SQL("SELECT ST_AsMVT(q, {layer}, {extent}, 'geom', 'id'), count(*) FROM ({rows} OFFSET 0) q "
                   "WHERE q.geom IS NOT NULL").format(
        layer=sql.Literal(collection_id), extent=sql.Literal(TILE_EXTENT), rows=rows)


@lru_cache(maxsize=512)
def shapes_sql(collection_id: str, mode: str, principal: Principal, prop: str) -> sql.Composed:
    """The tile's geometries (WKB, tile coordinates) with one property, for PNG rendering."""
    rows = tile_rows_sql(collection_id, mode, principal)
    return sql.SQL("SELECT ST_AsBinary(q.geom), q.{prop} FROM ({rows} OFFSET 0) q WHERE q.geom IS NOT NULL").format(
        prop=sql.Identifier(prop), rows=rows)


def simplify_tolerance(z: int) -> float:
    """SIMPLIFY_UNITS tile units at zoom z, in degrees (the data's EPSG:4326; ST_Simplify works in it): half a pixel
    of a tile drawn 512 pixels wide (MapLibre; the pages' activity layers), a quarter of one at 256 (Leaflet).
    A city view's kelurahan polygons keep about half their vertices (zoom 10: 35,585 -> 16,645 in one tile of the
    bench kab/kota), which the server, the wire and the browser's decoding and drawing all spend less on."""
    return 360.0 / (TILE_EXTENT * (1 << z)) * SIMPLIFY_UNITS


def tile_params(collection: Collection, address: TileAddress, tenant: str | None) -> dict:
    params: dict[str, object] = {"z": address.z, "x": address.x, "y": address.y, "tenant": tenant,
              "tenant_prefix": f"{tenant}.%" if tenant else None, "tolerance": simplify_tolerance(address.z)}
    if collection.id == "regions":
        params["levels"] = _region_levels(address.z)
    return params


@dataclass(frozen=True)
class Tile:
    data: bytes
    features: int

    @property
    def empty(self) -> bool:
        return not self.data


async def _fresh_tallies(conn: AsyncConnection, collection: Collection, mode: str) -> None:
    if mode != "features" and collection.id in TALLIES_OF:
        await refresh_tallies(conn, TALLIES_OF[collection.id])


async def render_mvt(conn: AsyncConnection, collection: Collection, address: TileAddress, principal: Principal,
                     tenant: str | None = None) -> Tile:
    """The tile as MVT bytes (empty bytes: nothing to draw)."""
    mode = tile_mode(collection, address.z)
    await _fresh_tallies(conn, collection, mode)
    statement = mvt_sql(collection.id, mode, principal)
    cur = await conn.execute(statement, tile_params(collection, address, tenant))
    data, features = await cur.fetchone() or (None, 0)  # an aggregate: always one row
    return Tile(bytes(data or b""), features or 0)


async def tile_shapes(conn: AsyncConnection, collection: Collection, address: TileAddress, principal: Principal,
                      prop: str, tenant: str | None = None) -> list[tuple[bytes, object]]:
    """(WKB geometry in tile coordinates, value of `prop`) of every shape the tile's MVT would hold."""
    mode = tile_mode(collection, address.z)
    await _fresh_tallies(conn, collection, mode)
    statement = shapes_sql(collection.id, mode, principal, prop)
    cur = await conn.execute(statement, tile_params(collection, address, tenant))
    return [(bytes(wkb), value) for wkb, value in await cur.fetchall()]


def layer_fields(collection: Collection, mode: str) -> dict[str, tuple[str, str]]:
    """MVT attribute name -> (JSON type, title) of a tile in `mode`."""
    if mode == "features":
        return {p.name: ("string" if p.type == "array" else p.type, p.title) for p in collection.tile_properties}
    fields = {"code": ("string", "Kode wilayah"), "name": ("string", "Nama wilayah"),
              "aggregate": ("string", "Tingkat agregasi (kabkota, kecamatan, desa_kelurahan)")}
    fields.update({f.name: (f.type, f.title) for f in AGGREGATES[collection.id].fields})
    return fields


def check_tenant(tenant: str | None) -> str | None:
    """The optional `tenant` of a tile request as a kab/kota code (InvalidInput when it is not one)."""
    return tenant_code(tenant) if tenant and tenant.strip() else None
