"""National batch: every slum area and every activity against every desa/kelurahan, on Dask (issue 14 item 5).

What it computes is what the imports compute one upload at a time in SQL (layers/imports/slum_areas.py
`_join_kelurahan`): for each slum area, every desa it overlaps with the overlap in hectares and its share of the
area (`slum_area_regions`), and the desa of the largest share (`slum_areas.kelurahan_code`); for each activity,
the desa holding a point on it (`activities.kelurahan_code`; a point on a border between two desa: the smaller
code). Areas are measured in the equal-area EPSG:6933 (PostGIS measures on the spheroid: the two differ by well
under 1 %).

This module holds the join itself (`overlaps_of`, `regions_of_points`: the same functions run on one whole input
or on one spatial piece), the one-process path (`read_inputs` + `join_single` + `write_results`: geopandas) and the
set-based statements that apply a result to the kotaku tables (`apply_rows`). The Dask path, where each worker
reads its own piece from PostGIS and writes its rows back, is batch_dask.py. dask, distributed and dask-geopandas
are the `batch` extra.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

AREA_CRS = "EPSG:6933"  # World Cylindrical Equal Area: hectares anywhere in Indonesia
OVERLAP_COLUMNS = {"slum_area_id": "int64", "region_code": "str", "overlap_ha": "float64", "share": "float64"}
POINT_COLUMNS = {"activity_id": "int64", "region_code": "str"}


@dataclass(frozen=True)
class Source:
    """The three inputs as queries (`code, geom` / `id, geom`, EPSG:4326): the kotaku tables, or the bench's."""
    desa: str = "SELECT code, geom FROM regions WHERE level = 'desa_kelurahan'"
    areas: str = "SELECT id, geom FROM slum_areas"
    activities: str = "SELECT id, geom FROM activities"


@dataclass
class BatchResult:
    overlaps: pd.DataFrame  # slum_area_id, region_code, overlap_ha, share
    activity_regions: pd.DataFrame  # activity_id, region_code
    seconds: dict[str, float] = field(default_factory=dict)


# -- the partition functions (run on the workers) ---------------------------------------------------------------
def overlaps_of(areas: gpd.GeoDataFrame, desa: gpd.GeoDataFrame) -> pd.DataFrame:
    """Overlap (ha, share) of each slum area (`id`, geometry; EPSG:6933) with each desa (`code`, geometry)."""
    if areas.empty:
        return pd.DataFrame({k: pd.Series(dtype=v) for k, v in OVERLAP_COLUMNS.items()})
    pairs = gpd.sjoin(areas[["id", "geometry"]], desa[["code", "geometry"]], predicate="intersects", how="inner")
    left = pairs.geometry.values
    right = desa.geometry.values[desa.index.get_indexer(pairs["index_right"])]
    overlap = shapely.area(shapely.intersection(np.asarray(left), np.asarray(right))) / 10_000.0
    total = shapely.area(np.asarray(left)) / 10_000.0
    out = pd.DataFrame({"slum_area_id": pairs["id"].to_numpy(dtype="int64"), "region_code": pairs["code"].to_numpy(),
                        "overlap_ha": overlap, "share": np.minimum(1.0, overlap / np.where(total > 0, total, 1.0))})
    return out[out["overlap_ha"] > 0].reset_index(drop=True)


def regions_of_points(points: gpd.GeoDataFrame, desa: gpd.GeoDataFrame) -> pd.DataFrame:
    """The desa holding each activity's point (`id`, geometry): a point on the surface of the activity."""
    if points.empty:
        return pd.DataFrame({k: pd.Series(dtype=v) for k, v in POINT_COLUMNS.items()})
    pairs = gpd.sjoin(points[["id", "geometry"]], desa[["code", "geometry"]], predicate="within", how="inner")
    pairs = pairs.sort_values(["id", "code"], kind="stable")
    pairs = pairs[~pairs["id"].duplicated()]  # a point on a shared border: the smaller code
    return pd.DataFrame({"activity_id": pairs["id"].to_numpy(dtype="int64"), "region_code": pairs["code"].to_numpy()})


def prepare(areas: gpd.GeoDataFrame, activities: gpd.GeoDataFrame,
             desa: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    areas = areas.to_crs(AREA_CRS)
    points = activities.set_geometry(activities.geometry.representative_point()).to_crs(AREA_CRS)
    return areas, points, desa.to_crs(AREA_CRS).reset_index(drop=True)


# -- one process --------------------------------------------------------------------------------------------------
def join_single(areas: gpd.GeoDataFrame, activities: gpd.GeoDataFrame, desa: gpd.GeoDataFrame) -> BatchResult:
    started = time.perf_counter()
    areas, points, desa = prepare(areas, activities, desa)
    overlaps = overlaps_of(areas, desa)
    regions = regions_of_points(points, desa)
    return BatchResult(overlaps, regions, {"compute": time.perf_counter() - started})


# -- PostGIS in and out -----------------------------------------------------------------------------------------
def read_frame(conn: psycopg.Connection, query: sql.Composed, params: Any = None,
               key: str = "id") -> gpd.GeoDataFrame:
    """`key` and geometry of a query answering (key, WKB), binary (no hex to parse), EPSG:4326."""
    with conn.cursor(binary=True) as cur:
        rows = cur.execute(query, params).fetchall()
    geometry = shapely.from_wkb([bytes(row[1]) for row in rows]) if rows else []
    return gpd.GeoDataFrame({key: [row[0] for row in rows]}, geometry=geometry, crs="EPSG:4326")


def read_inputs(conn: psycopg.Connection, source: Source | None = None,
                ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Slum areas, activities and desa/kelurahan of the database, whole (the one-process path)."""
    source = source or Source()

    def query(inner: str, key: str) -> sql.Composed:
        return sql.SQL("SELECT {key}, ST_AsBinary(geom) FROM ({inner}) x ORDER BY {key}").format(
            key=sql.Identifier(key), inner=sql.SQL(inner))

    return (read_frame(conn, query(source.areas, "id")), read_frame(conn, query(source.activities, "id")),
            read_frame(conn, query(source.desa, "code"), key="code"))


def write_results(conn: psycopg.Connection, result: BatchResult) -> dict[str, int]:
    """Apply a result computed here (the one-process path): COPY into temporary tables, then `apply_rows`, in one
    transaction. Counts of rows written."""
    with conn.transaction():
        conn.execute("CREATE TEMP TABLE batch_overlaps (slum_area_id bigint, region_code text, overlap_ha float8, "
                     "share float8) ON COMMIT DROP")
        conn.execute("CREATE TEMP TABLE batch_points (activity_id bigint, region_code text) ON COMMIT DROP")
        copy_rows(conn, "COPY batch_overlaps FROM STDIN", result.overlaps[list(OVERLAP_COLUMNS)])
        copy_rows(conn, "COPY batch_points FROM STDIN", result.activity_regions[list(POINT_COLUMNS)])
        return apply_rows(conn, sql.Identifier("batch_overlaps"), sql.Identifier("batch_points"))


def apply_rows(conn: psycopg.Connection, overlaps: sql.Composable, points: sql.Composable) -> dict[str, int]:
    """Replace every slum area's desa overlaps with the rows of table `overlaps` and set the desa of slum areas
    (largest share) and activities (table `points`; an activity found in two pieces, on a border: the smaller
    code), in the caller's transaction, set-based. Counts of rows written."""
    conn.execute("DELETE FROM slum_area_regions WHERE slum_area_id IN (SELECT id FROM slum_areas)")
    written = conn.execute(sql.SQL(
        "INSERT INTO slum_area_regions (slum_area_id, region_code, overlap_ha, share) "
        "SELECT b.slum_area_id, b.region_code, b.overlap_ha, b.share FROM {} b "
        "JOIN regions r ON r.code = b.region_code JOIN slum_areas s ON s.id = b.slum_area_id").format(overlaps)
    ).rowcount
    areas = conn.execute(sql.SQL(
        "UPDATE slum_areas s SET kelurahan_code = best.region_code FROM (SELECT DISTINCT ON (slum_area_id) "
        "slum_area_id, region_code FROM {} ORDER BY slum_area_id, share DESC, region_code) best "
        "WHERE best.slum_area_id = s.id AND s.kelurahan_code IS DISTINCT FROM best.region_code").format(overlaps)
    ).rowcount
    activities = conn.execute(sql.SQL(
        "UPDATE activities a SET kelurahan_code = b.region_code FROM (SELECT DISTINCT ON (activity_id) "
        "activity_id, region_code FROM {} ORDER BY activity_id, region_code) b "
        "WHERE b.activity_id = a.id AND a.kelurahan_code IS DISTINCT FROM b.region_code").format(points)).rowcount
    return {"slum_area_regions": written, "slum_areas_moved": areas, "activities_moved": activities}


def copy_rows(conn: psycopg.Connection, statement: str | sql.Composed, frame: pd.DataFrame) -> None:
    """COPY a frame's rows as text (floats in their shortest exact form: read back, they are the same doubles)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", header=False, index=False)
    with conn.cursor().copy(statement) as copy:
        copy.write(buffer.getvalue())
