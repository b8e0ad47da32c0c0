"""Vector tiles (MVT) of every collection, made by PostGIS in one statement per tile.

What a tile holds depends on its zoom, so that a map stays light at every scale:
- from FEATURE_MIN_ZOOM: the features themselves, with the collection's scalar properties (those maps style by:
  level, score, priority, programme, funding source, stage, year ...), at most MAX_FEATURES_PER_TILE of them,
  the most important first (largest areas, costliest activities). ST_AsMVTGeom clips each geometry to the tile
  (plus a 64-unit buffer) and simplifies it to half a tile pixel, so geometry is generalised to the zoom;
- below it: one polygon per kelurahan (zoom 10-11), kecamatan (8-9) or kab/kota (< 8) that has features, with
  counts and sums of all its features (not only those inside the tile, so neighbouring tiles agree), read from
  per-kelurahan tallies kept fresh by layers/serving/tallies.py. Features are grouped by their kelurahan code (set
  by the imports' spatial join; features without one are left out of aggregates); `regions` shows coarser
  administrative levels at lower zooms instead.
The layer name is the collection id; feature ids are integers (region codes without dots for regions and
aggregates). Tile boxes travel as bind parameters (ST_TileEnvelope(z, x, y)), never inlined: the statement
text per collection and zoom band is constant, so PostgreSQL plans it once per connection (psycopg prepares it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from psycopg import AsyncConnection, sql

from geo.errors import NotFound
from layers.accounts.access import Principal, row_filter
from layers.serving.collections import Collection, get_collection, render_joins
from layers.serving.tallies import TALLIES_OF, level_order_sql, priority_order_sql, refresh_tallies
from layers.values.codes import tenant_code

TILE_EXTENT = 4096
TILE_BUFFER = 64
MIN_ZOOM, MAX_ZOOM = 0, 22
FEATURE_MIN_ZOOM = 12
MAX_FEATURES_PER_TILE = 5_000
TILE_MATRIX_SET = "WebMercatorQuad"
# Below FEATURE_MIN_ZOOM, from which zoom each region level is the aggregate, and its key over a feature row `t`.
AGGREGATE_LEVELS = (
    (10, "desa_kelurahan", "{t}.kelurahan_code"),
    (8, "kecamatan", "left({t}.kelurahan_code, 8)"),
    (0, "kabkota", "left({t}.kelurahan_code, 5)"),
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


@dataclass(frozen=True)
class Aggregate:
    """`measures` is a SELECT of one row of `fields` for one region `r` (a correlated LATERAL subquery), over the
    tallies `g` or the features `t`; placeholders {key} (the region key over that row) and {row_filter}.
    A region is drawn when its `present` field is above zero.

    Per-region lookups, not one join over all regions: a prepared statement runs a generic plan that cannot
    know how many regions a tile holds, and index lookups per region stay fast whatever that number is."""

    fields: tuple[AggregateField, ...]
    measures: str
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
    AggregateField("total_cost", "number", "Total biaya (Rp)"),
    AggregateField("program_count", "integer", "Jumlah program"),
    AggregateField("funding_source_count", "integer", "Jumlah sumber dana"),
    AggregateField("year_min", "integer", "Tahun pertama"),
    AggregateField("year_max", "integer", "Tahun terakhir"),
)


def _slum_area_measures() -> str:
    return (
        "SELECT sum(g.features) AS slum_areas, round(sum(g.area_ha)::numeric, 2) AS area_ha, "
        f"({level_order_sql()})[max(g.worst_level)] AS level, "
        "round((sum(g.score_sum) / nullif(sum(g.scored), 0))::numeric, 1) AS score, "
        f"({priority_order_sql()})[min(g.urgent_priority)] AS priority "
        "FROM slum_area_tallies g WHERE {key} = r.code AND {row_filter}"
    )


def _activity_measures(live: bool) -> str:
    """Activities of one region from their kelurahan tallies (all, or the live ones for keterpaduan); activities
    are public: no row filter. `{key2}` is the key over a second tally row `g2`."""
    p = "live_" if live else ""

    def distinct(column: str) -> str:
        return (f"(SELECT count(DISTINCT v) FROM activity_tallies g2 CROSS JOIN unnest(g2.{p}{column}) v "
                "WHERE {key2} = r.code)")

    return (
        f"SELECT sum(g.{p}features) AS activities, sum(g.{p}cost) AS total_cost, "
        f"{distinct('programs')} AS program_count, {distinct('funding_sources')} AS funding_source_count, "
        f"min(g.{p}year_min) AS year_min, max(g.{p}year_max) AS year_max "
        "FROM activity_tallies g WHERE {key} = r.code"
    )


def _aggregates() -> dict[str, Aggregate]:
    return {
        "slum-areas": Aggregate(SLUM_AREA_FIELDS, _slum_area_measures(), "slum_areas"),
        "survey-units": Aggregate(
            (AggregateField("survey_units", "integer", "Jumlah unit survei"),
             AggregateField("area_ha", "number", "Luas (ha)"),
             AggregateField("population", "integer", "Penduduk"),
             AggregateField("households", "integer", "KK")),
            "SELECT count(*) AS survey_units, round(sum(t.area_ha)::numeric, 2) AS area_ha, "
            "sum(t.population) AS population, sum(t.households) AS households FROM survey_units t "
            "WHERE {key} = r.code AND {row_filter}",
            "survey_units",
        ),
        "activities": Aggregate(ACTIVITY_FIELDS, _activity_measures(live=False), "activities"),
        "keterpaduan": Aggregate(
            (AggregateField("slum_areas", "integer", "Jumlah kawasan kumuh"),
             AggregateField("level", "string", "Tingkat kekumuhan terberat"),
             *ACTIVITY_FIELDS),
            "SELECT s.slum_areas, s.level, coalesce(k.activities, 0) AS activities, "
            "coalesce(k.total_cost, 0) AS total_cost, coalesce(k.program_count, 0) AS program_count, "
            "coalesce(k.funding_source_count, 0) AS funding_source_count, k.year_min, k.year_max "
            f"FROM ({_slum_area_measures()}) s CROSS JOIN ({_activity_measures(live=True)}) k",
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


_TILE_CTE = (
    "WITH tile AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS box, "
    "ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => " + str(TILE_BUFFER / TILE_EXTENT) + "), 4326) "
    "AS query_box)"
)


def _mvt_geom(column: str) -> str:
    return f"ST_AsMVTGeom(ST_Transform({column}, 3857), tile.box, {TILE_EXTENT}, {TILE_BUFFER}, true)"


def _mvt_value(expression: str, kind: str) -> str:
    """MVT has integer, double and string values: numeric (sums, rounded areas, costs) would become a string."""
    if kind == "number":
        return f"({expression})::float8"
    if kind == "integer":
        return f"({expression})::bigint"
    return expression


def _features_rows(collection: Collection, principal: Principal) -> sql.Composable:
    """The rows of a feature tile: id, tile properties, geom (tile coordinates), capped and ordered."""
    columns = [sql.SQL(collection.tile_id + " AS id")]
    for p in collection.tile_properties:
        columns.append(sql.SQL(_mvt_value(p.tile_expression, p.type) + " AS {}").format(sql.Identifier(p.name)))
    columns.append(sql.SQL(_mvt_geom("t.geom") + " AS geom"))
    extra = " AND t.level = ANY(%(levels)s)" if collection.id == "regions" else ""
    inner = sql.SQL(
        "SELECT t.* FROM {table} t, tile WHERE t.geom && tile.query_box AND {row_filter}"
        " AND (%(tenant)s::text IS NULL OR " + collection.tenant_column + " = %(tenant)s)" + extra +
        " ORDER BY " + collection.tile_order + " LIMIT " + str(MAX_FEATURES_PER_TILE)
    ).format(table=sql.Identifier(collection.table), row_filter=row_filter(principal, collection.access_id))
    needed = {p.join for p in collection.tile_properties if p.join}
    return sql.SQL("SELECT {columns} FROM ({inner}) t {joins} CROSS JOIN tile").format(
        columns=sql.SQL(", ").join(columns), inner=inner,
        joins=render_joins(collection.joins_for(needed), principal))


def _aggregate_rows(collection: Collection, level: str, principal: Principal) -> sql.Composable:
    """The rows of an aggregate tile: one per region of `level` that has features."""
    key = next(k for _, lv, k in AGGREGATE_LEVELS if lv == level)
    aggregate = AGGREGATES[collection.id]
    alias = "t" if collection.id == "survey-units" else "g"  # features or tallies
    measures = sql.SQL(aggregate.measures).format(
        key=sql.SQL(key.format(t=alias)),
        key2=sql.SQL(key.format(t="g2")),
        row_filter=row_filter(principal, collection.access_id, alias),
    )
    fields = sql.SQL(", ").join(
        sql.SQL(_mvt_value("m.{}", f.type) + " AS {}").format(sql.Identifier(f.name), sql.Identifier(f.name))
        for f in aggregate.fields)
    return sql.SQL(
        "SELECT replace(r.code, '.', '')::bigint AS id, r.code, r.name, {level} AS aggregate, {fields}, "
        + _mvt_geom("r.geom") + " AS geom "
        "FROM regions_in_tile r CROSS JOIN LATERAL ({measures}) m CROSS JOIN tile WHERE m.{present} > 0"
    ).format(level=sql.Literal(level), fields=fields, measures=measures,
             present=sql.Identifier(aggregate.present))


def _regions_in_tile(level: str) -> sql.Composable:
    return sql.SQL(
        ", regions_in_tile AS (SELECT r.code, r.name, r.geom FROM regions r, tile "
        "WHERE r.level = {} AND r.geom && tile.query_box"
        " AND (%(tenant)s::text IS NULL OR r.code = %(tenant)s OR r.code LIKE %(tenant_prefix)s))"
    ).format(sql.Literal(level))


@lru_cache(maxsize=512)
def tile_rows_sql(collection_id: str, mode: str, principal: Principal) -> sql.Composable:
    """WITH ... SELECT of the tile's rows (id, properties, geom); constant text per collection/mode/caller."""
    collection = get_collection(collection_id)
    if mode == "features":
        return sql.SQL("{} {}").format(sql.SQL(_TILE_CTE), _features_rows(collection, principal))
    return sql.SQL("{}{} {}").format(sql.SQL(_TILE_CTE), _regions_in_tile(mode),
                                     _aggregate_rows(collection, mode, principal))


@lru_cache(maxsize=512)
def mvt_sql(collection_id: str, mode: str, principal: Principal) -> sql.Composable:
    rows = tile_rows_sql(collection_id, mode, principal)
    # OFFSET 0 keeps the rows a subquery: flattened, PostgreSQL would compute ST_AsMVTGeom twice per row
    # (once for the IS NOT NULL filter, once for the output).
    return sql.SQL("SELECT ST_AsMVT(q, {layer}, {extent}, 'geom', 'id'), count(*) FROM ({rows} OFFSET 0) q "
                   "WHERE q.geom IS NOT NULL").format(
        layer=sql.Literal(collection_id), extent=sql.Literal(TILE_EXTENT), rows=rows)


@lru_cache(maxsize=512)
def shapes_sql(collection_id: str, mode: str, principal: Principal, prop: str) -> sql.Composable:
    """The tile's geometries (WKB, tile coordinates) with one property, for PNG rendering."""
    rows = tile_rows_sql(collection_id, mode, principal)
    return sql.SQL("SELECT ST_AsBinary(q.geom), q.{prop} FROM ({rows} OFFSET 0) q WHERE q.geom IS NOT NULL").format(
        prop=sql.Identifier(prop), rows=rows)


def tile_params(collection: Collection, address: TileAddress, tenant: str | None) -> dict:
    params = {"z": address.z, "x": address.x, "y": address.y, "tenant": tenant,
              "tenant_prefix": f"{tenant}.%" if tenant else None}
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
    data, features = await cur.fetchone()
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
