"""The national batch join (layers/keterpaduan/batch_join.py) on Dask against one geopandas process, same data.

    .venv/bin/python bench/national.py [--slum-areas 50000] [--activities 1000000] [--workers 2]

Data: the 8,492 real desa/kelurahan of Jawa Timur (../shared/data/bench/desa_kel_jawa_timur.gpkg) and, made here
in memory with a fixed seed (labelled synthetic, as bench/tiles_data.py makes them in PostGIS): SLUM_AREAS slum
areas (buffers of 60-250 m around random points of random desa) and ACTIVITIES activities (points, 60 %, and
30-150 m lines, 40 %, inside the slum areas' reach). Runs join_single (one process) and join_dask on a
distributed.LocalCluster of --workers processes (one thread each; the cluster's start is timed apart), checks that
both give the same pairs, then writes the Dask result into PostGIS (the scratch database `kotaku_bench_national` of
the dev cluster, or DATABASE_URL; tables batch_overlaps_bench and batch_points_bench, dropped afterwards) with
COPY. Prints rows, input size and the times. `--scheduler tcp://host:8786` runs the Dask side on that cluster.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.db.cluster import Cluster  # noqa: E402
from layers.keterpaduan import batch_join  # noqa: E402

DESA = ROOT.parent / "shared" / "data" / "bench" / "desa_kel_jawa_timur.gpkg"
DATABASE = "kotaku_bench_national"
SEED = 42


def synthetic(desa: gpd.GeoDataFrame, slum_areas: int, activities: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(SEED)
    metric = desa.to_crs(batch_join.AREA_CRS)
    chosen = metric.geometry.values[rng.integers(0, len(metric), slum_areas)]
    centres = shapely.point_on_surface(chosen)
    jitter = rng.uniform(-400, 400, (slum_areas, 2))
    centres = shapely.points(shapely.get_coordinates(centres) + jitter)
    areas = gpd.GeoDataFrame({"id": np.arange(1, slum_areas + 1)},
                             geometry=shapely.buffer(centres, rng.uniform(60, 250, slum_areas), quad_segs=8),
                             crs=batch_join.AREA_CRS)
    owner = rng.integers(0, slum_areas, activities)
    start = shapely.get_coordinates(centres)[owner] + rng.uniform(-200, 200, (activities, 2))
    lines = rng.random(activities) < 0.4
    angle = rng.uniform(0, np.pi, activities)
    length = rng.uniform(30, 150, activities)
    end = start + np.c_[np.cos(angle) * length, np.sin(angle) * length]
    geometry = np.where(lines, shapely.linestrings(np.stack([start, end], axis=1)), shapely.points(start))
    acts = gpd.GeoDataFrame({"id": np.arange(1, activities + 1)}, geometry=geometry, crs=batch_join.AREA_CRS)
    return areas.to_crs("EPSG:4326"), acts.to_crs("EPSG:4326")


def bench_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    cluster = Cluster(database=DATABASE)
    cluster.up()
    return cluster.url()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slum-areas", type=int, default=50_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=None)
    parser.add_argument("--scheduler", default=None)
    args = parser.parse_args()
    logging.getLogger("distributed").setLevel(logging.WARNING)
    desa = gpd.read_file(DESA)[["geometry"]].assign(code=lambda f: [f"35.{i:08d}" for i in range(len(f))])
    desa = desa.set_geometry(desa.geometry.make_valid()).to_crs("EPSG:4326")
    started = time.perf_counter()
    areas, activities = synthetic(desa, args.slum_areas, args.activities)
    vertices = sum(int(shapely.get_num_coordinates(f.geometry.values).sum()) for f in (desa, areas, activities))
    wkb_mb = sum(sum(map(len, shapely.to_wkb(f.geometry.values))) for f in (desa, areas, activities)) / 1e6
    print(f"data: {len(desa):,} desa (real, Jawa Timur), {len(areas):,} slum areas and {len(activities):,} "
          f"activities (synthetic, made in {time.perf_counter() - started:.1f} s); {vertices:,} vertices, "
          f"{wkb_mb:.0f} MB as WKB")

    single = batch_join.join_single(areas, activities, desa)
    print(f"one process (geopandas): {single.seconds['compute']:7.1f} s  "
          f"{len(single.overlaps):,} overlaps, {len(single.activity_regions):,} activity desa")

    started = time.perf_counter()
    client = batch_join.dask_client(args.scheduler, args.workers)
    startup = time.perf_counter() - started
    try:
        where = args.scheduler or f"LocalCluster, {args.workers} workers x 1 thread"
        for run in ("first run", "second run"):  # the first pays the workers' cold start (imports, indexes)
            dask = batch_join.join_dask(areas, activities, desa, client, args.partitions)
            print(f"Dask ({where}), {run}: {dask.seconds['compute']:7.1f} s  {len(dask.overlaps):,} overlaps, "
                  f"{len(dask.activity_regions):,} activity desa")
        print(f"  (cluster start {startup:.1f} s, not counted)")
    finally:
        batch_join.close_client(client)
    same = (sorted(zip(single.overlaps.slum_area_id, single.overlaps.region_code, strict=True))
            == sorted(zip(dask.overlaps.slum_area_id, dask.overlaps.region_code, strict=True))
            and len(single.activity_regions) == len(dask.activity_regions))
    print(f"same pairs: {same}; Dask / one process: x{single.seconds['compute'] / dask.seconds['compute']:.2f}")

    url = bench_url()
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS batch_overlaps_bench (slum_area_id bigint, region_code text, "
                     "overlap_ha float8, share float8)")
        conn.execute("CREATE TABLE IF NOT EXISTS batch_points_bench (activity_id bigint, region_code text)")
        batch_join._copy(conn, "COPY batch_overlaps_bench FROM STDIN", dask.overlaps[list(batch_join.OVERLAP_COLUMNS)])
        batch_join._copy(conn, "COPY batch_points_bench FROM STDIN",
                         dask.activity_regions[list(batch_join.POINT_COLUMNS)])
        rows = conn.execute("SELECT (SELECT count(*) FROM batch_overlaps_bench) + "
                            "(SELECT count(*) FROM batch_points_bench)").fetchone()[0]  # type: ignore[index]
        conn.commit()
        conn.execute("DROP TABLE batch_overlaps_bench, batch_points_bench")
        conn.commit()
    print(f"written to PostGIS (COPY): {rows:,} rows in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
