"""National batch: every slum area and every activity against every desa/kelurahan, on Dask (issue 14 item 5).

What it computes is what the imports compute one upload at a time in SQL (layers/imports/slum_areas.py
`_join_kelurahan`): for each slum area, every desa it overlaps with the overlap in hectares and its share of the
area (`slum_area_regions`), and the desa of the largest share (`slum_areas.kelurahan_code`); for each activity,
the desa holding a point on it (`activities.kelurahan_code`). Areas are measured in the equal-area EPSG:6933
(PostGIS measures on the spheroid: the two differ by well under 1 %).

The same functions run in one process (`join_single`: geopandas) or on a Dask cluster (`join_dask`:
dask-geopandas partitions in Hilbert order, each joined on a worker with the desa, sent once to every worker): a
`distributed.LocalCluster` on this machine, or any cluster given by its scheduler address
(`KOTAKU_DASK_SCHEDULER`, `kotaku batch join --scheduler tcp://host:8786`): the workers need kotaku installed (the
partition functions are this module's). dask, distributed and dask-geopandas are the `batch` extra.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely

AREA_CRS = "EPSG:6933"  # World Cylindrical Equal Area: hectares anywhere in Indonesia
OVERLAP_COLUMNS = {"slum_area_id": "int64", "region_code": "object", "overlap_ha": "float64", "share": "float64"}
POINT_COLUMNS = {"activity_id": "int64", "region_code": "object"}


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
    pairs = pairs[~pairs["id"].duplicated()]  # a point on a shared border: one desa
    return pd.DataFrame({"activity_id": pairs["id"].to_numpy(dtype="int64"), "region_code": pairs["code"].to_numpy()})


def areas_task(part: gpd.GeoDataFrame, desa: gpd.GeoDataFrame) -> pd.DataFrame:
    """One partition of slum areas (EPSG:4326) against the desa (EPSG:6933): projected on the worker."""
    return overlaps_of(part.to_crs(AREA_CRS), desa)


def points_task(part: gpd.GeoDataFrame, desa: gpd.GeoDataFrame) -> pd.DataFrame:
    """One partition of activities (EPSG:4326): a point on each, projected on the worker, then its desa."""
    return regions_of_points(part.set_geometry(part.geometry.representative_point()).to_crs(AREA_CRS), desa)


def _prepare(areas: gpd.GeoDataFrame, activities: gpd.GeoDataFrame,
             desa: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    areas = areas.to_crs(AREA_CRS)
    points = activities.set_geometry(activities.geometry.representative_point()).to_crs(AREA_CRS)
    return areas, points, desa.to_crs(AREA_CRS).reset_index(drop=True)


# -- one process --------------------------------------------------------------------------------------------------
def join_single(areas: gpd.GeoDataFrame, activities: gpd.GeoDataFrame, desa: gpd.GeoDataFrame) -> BatchResult:
    started = time.perf_counter()
    areas, points, desa = _prepare(areas, activities, desa)
    overlaps = overlaps_of(areas, desa)
    regions = regions_of_points(points, desa)
    return BatchResult(overlaps, regions, {"compute": time.perf_counter() - started})


# -- Dask ---------------------------------------------------------------------------------------------------------
def join_dask(areas: gpd.GeoDataFrame, activities: gpd.GeoDataFrame, desa: gpd.GeoDataFrame, client,
              partitions: int | None = None) -> BatchResult:
    """The same join on the Dask cluster of `client` (a distributed.Client): the inputs are split into
    `partitions` (default 4 per worker) spatially compact pieces (Hilbert order), the desa are sent to every
    worker once, and each piece is joined with them there."""
    import dask.dataframe as dd
    import dask_geopandas

    started = time.perf_counter()
    bounds = desa.total_bounds
    desa = desa.to_crs(AREA_CRS).reset_index(drop=True)  # small: projected here; the features on the workers
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    parts = partitions or 4 * workers
    on_workers = client.scatter(desa, broadcast=True)
    results = []
    for frame, function, columns in ((areas, areas_task, OVERLAP_COLUMNS), (activities, points_task,
                                                                            POINT_COLUMNS)):
        # Hilbert order, then contiguous pieces: each piece is spatially compact (cheaper than spatial_shuffle)
        ordered = frame.iloc[np.argsort(frame.hilbert_distance(total_bounds=bounds).to_numpy())]
        pieces = dask_geopandas.from_geopandas(ordered, npartitions=max(1, min(parts, len(frame))), sort=False)
        meta = pd.DataFrame({k: pd.Series(dtype=v) for k, v in columns.items()})
        joined: dd.DataFrame = pieces.map_partitions(function, on_workers, meta=meta)
        results.append(joined)
    overlaps, regions = client.compute(results, sync=True)
    return BatchResult(overlaps.reset_index(drop=True), regions.reset_index(drop=True),
                       {"compute": time.perf_counter() - started})


def dask_client(scheduler: str | None, workers: int = 2):
    """A distributed.Client: of the cluster at `scheduler` (tcp://host:8786), else of a LocalCluster of `workers`
    processes (one thread each) on loopback. Close it (and its cluster) with `close_client`."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                           processes=True)
    return Client(cluster)


def close_client(client) -> None:
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


# -- PostGIS in and out -----------------------------------------------------------------------------------------
def read_inputs(conn: psycopg.Connection) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Slum areas, activities and desa/kelurahan of the database (WKB through psycopg, EPSG:4326)."""
    def frame(query: str) -> gpd.GeoDataFrame:
        rows = conn.execute(query).fetchall()
        ids = [row[0] for row in rows]
        geometry = shapely.from_wkb([bytes(row[1]) for row in rows]) if rows else []
        column = "code" if "regions" in query else "id"
        return gpd.GeoDataFrame({column: ids}, geometry=geometry, crs="EPSG:4326")

    areas = frame("SELECT id, ST_AsBinary(geom) FROM slum_areas ORDER BY id")
    activities = frame("SELECT id, ST_AsBinary(geom) FROM activities ORDER BY id")
    desa = frame("SELECT code, ST_AsBinary(geom) FROM regions WHERE level = 'desa_kelurahan' ORDER BY code")
    return areas, activities, desa


def write_results(conn: psycopg.Connection, result: BatchResult) -> dict[str, int]:
    """Replace every slum area's desa overlaps and set the desa of slum areas (largest share) and activities, in
    one transaction (COPY into temporary tables, then set-based statements). Counts of rows written."""
    with conn.transaction():
        conn.execute("CREATE TEMP TABLE batch_overlaps (slum_area_id bigint, region_code text, overlap_ha float8, "
                     "share float8) ON COMMIT DROP")
        conn.execute("CREATE TEMP TABLE batch_points (activity_id bigint, region_code text) ON COMMIT DROP")
        _copy(conn, "COPY batch_overlaps FROM STDIN", result.overlaps[list(OVERLAP_COLUMNS)])
        _copy(conn, "COPY batch_points FROM STDIN", result.activity_regions[list(POINT_COLUMNS)])
        conn.execute("DELETE FROM slum_area_regions WHERE slum_area_id IN (SELECT id FROM slum_areas)")
        overlaps = conn.execute(
            "INSERT INTO slum_area_regions (slum_area_id, region_code, overlap_ha, share) "
            "SELECT b.slum_area_id, b.region_code, b.overlap_ha, b.share FROM batch_overlaps b "
            "JOIN regions r ON r.code = b.region_code JOIN slum_areas s ON s.id = b.slum_area_id").rowcount
        areas = conn.execute(
            "UPDATE slum_areas s SET kelurahan_code = best.region_code FROM (SELECT DISTINCT ON (slum_area_id) "
            "slum_area_id, region_code FROM batch_overlaps ORDER BY slum_area_id, share DESC, region_code) best "
            "WHERE best.slum_area_id = s.id AND s.kelurahan_code IS DISTINCT FROM best.region_code").rowcount
        activities = conn.execute(
            "UPDATE activities a SET kelurahan_code = b.region_code FROM batch_points b "
            "WHERE b.activity_id = a.id AND a.kelurahan_code IS DISTINCT FROM b.region_code").rowcount
    return {"slum_area_regions": overlaps, "slum_areas_moved": areas, "activities_moved": activities}


def _copy(conn: psycopg.Connection, statement: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", header=False, index=False)
    with conn.cursor().copy(statement) as copy:
        copy.write(buffer.getvalue())
