"""The national batch join (layers/keterpaduan/batch_join.py, batch_dask.py) on Dask against one geopandas process,
same data, both reading from and writing to PostGIS.

    .venv/bin/python bench/national.py [--slum-areas 50000] [--activities 1000000] [--workers 1 2] [--pieces N]

Data: the 8,492 real desa/kelurahan of Jawa Timur (../shared/data/bench/desa_kel_jawa_timur.gpkg) and, made here
with a fixed seed (labelled synthetic, as bench/tiles_data.py makes them in PostGIS): SLUM_AREAS slum areas
(buffers of 60-250 m around random points of random desa) and ACTIVITIES activities (points, 60 %, and 30-150 m
lines, 40 %, inside the slum areas' reach). They are loaded once (COPY, GiST indexes) into the tables
bench_national_{desa,areas,activities} of the scratch database `kotaku_bench_national` of the dev cluster, or of
DATABASE_URL; a later run with the same sizes reuses them.

Timed, in one run: one process (a fresh process: read everything, join, COPY the rows into a table) and, for each
--workers count, a distributed.LocalCluster of that many processes (one thread each; its start timed apart): the
client plans the pieces, each worker reads its piece, joins it and COPYs its rows (batch_dask.run_dask), twice (the
first run pays the workers' cold start). Prints the peak memory (VmHWM) of the one process and of each worker,
and checks that every Dask run's rows equal the one process's, row for row (in SQL). `--scheduler
tcp://host:8786` runs the Dask side on that cluster instead.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import logging
import multiprocessing
import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import shapely
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.db.cluster import Cluster  # noqa: E402
from layers.keterpaduan import batch_dask, batch_join  # noqa: E402

DESA = ROOT.parent / "shared" / "data" / "bench" / "desa_kel_jawa_timur.gpkg"
DATABASE = "kotaku_bench_national"
SEED = 42
SOURCE = batch_join.Source(desa="SELECT code, geom FROM bench_national_desa",
                           areas="SELECT id, geom FROM bench_national_areas",
                           activities="SELECT id, geom FROM bench_national_activities")


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


def count(conn: psycopg.Connection, table: str) -> int:
    exists = conn.execute("SELECT to_regclass(%s)", [table]).fetchone()
    if not exists or exists[0] is None:
        return -1
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]  # type: ignore[index]


def load(url: str, slum_areas: int, activities: int) -> None:
    """The three bench tables, made again unless they hold these sizes already."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        if (count(conn, "bench_national_areas"), count(conn, "bench_national_activities")) == (slum_areas,
                                                                                              activities):
            print("data: reusing the loaded tables")
            return
    started = time.perf_counter()
    desa = gpd.read_file(DESA)[["geometry"]].assign(code=lambda f: [f"35.{i:08d}" for i in range(len(f))])
    desa = desa.set_geometry(desa.geometry.make_valid()).to_crs("EPSG:4326")
    areas, acts = synthetic(desa, slum_areas, activities)
    made = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        for table, key, frame in (("bench_national_desa", "code", desa), ("bench_national_areas", "id", areas),
                                  ("bench_national_activities", "id", acts)):
            name = sql.Identifier(table)
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
            conn.execute(sql.SQL("CREATE TABLE {} ({} {} PRIMARY KEY, geom geometry(Geometry, 4326))").format(
                name, sql.Identifier(key), sql.SQL("text" if key == "code" else "bigint")))
            wkb = shapely.to_wkb(shapely.set_srid(np.asarray(frame.geometry.array), 4326), hex=True,
                                 include_srid=True)
            with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(name)) as copy:
                for row in zip(frame[key].tolist(), wkb, strict=True):
                    copy.write_row(row)
            conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(name))
            conn.execute(sql.SQL("ANALYZE {}").format(name))
        conn.commit()
    print(f"data: made in {made:.1f} s, loaded into PostGIS in {time.perf_counter() - started - made:.1f} s")


def describe(url: str) -> None:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT (SELECT count(*) FROM bench_national_desa), (SELECT count(*) FROM bench_national_areas), "
            "(SELECT count(*) FROM bench_national_activities), "
            "(SELECT sum(ST_NPoints(geom)) FROM bench_national_desa), "
            "(SELECT sum(ST_NPoints(geom)) FROM bench_national_areas) + "
            "(SELECT sum(ST_NPoints(geom)) FROM bench_national_activities), "
            "pg_total_relation_size('bench_national_desa') + pg_total_relation_size('bench_national_areas') "
            "+ pg_total_relation_size('bench_national_activities')").fetchone()
    assert rows is not None
    print(f"data: {rows[0]:,} desa (real, Jawa Timur; {rows[3]:,} vertices), {rows[1]:,} slum areas and "
          f"{rows[2]:,} activities (synthetic; {rows[4]:,} vertices); {rows[5] / 1e6:.0f} MB in PostGIS with indexes")


def one_process(url: str) -> dict[str, float]:
    """In a fresh process (its peak memory is its own): read, join, COPY into bench_national_single."""
    started, cpu = time.perf_counter(), time.process_time()
    with psycopg.connect(url) as conn:
        areas, activities, desa = batch_join.read_inputs(conn, SOURCE)
        read_s = time.perf_counter() - started
        result = batch_join.join_single(areas, activities, desa)
        conn.execute("DROP TABLE IF EXISTS bench_national_single_overlaps, bench_national_single_points")
        conn.execute("CREATE UNLOGGED TABLE bench_national_single_overlaps (slum_area_id bigint, region_code text, "
                     "overlap_ha float8, share float8)")
        conn.execute("CREATE UNLOGGED TABLE bench_national_single_points (activity_id bigint, region_code text)")
        batch_join.copy_rows(conn, "COPY bench_national_single_overlaps FROM STDIN",
                             result.overlaps[list(batch_join.OVERLAP_COLUMNS)])
        batch_join.copy_rows(conn, "COPY bench_national_single_points FROM STDIN",
                             result.activity_regions[list(batch_join.POINT_COLUMNS)])
        conn.commit()
    return {"read_s": read_s, "compute_s": result.seconds["compute"], "total_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu,
            "overlaps": len(result.overlaps), "activity_desa": len(result.activity_regions),
            "max_rss_mb": peak_rss_mb()}


def server_cpu_s(url: str) -> float | None:
    """CPU seconds PostgreSQL has used so far (its postmaster and the backends it has reaped), when it runs on this
    machine: /proc of the parent of this connection's backend. None elsewhere."""
    with psycopg.connect(url) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        try:
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            fields = Path(f"/proc/{parent}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError, ValueError):
            return None
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime, stime, cutime, cstime


def server_note(before: float | None, url: str) -> str:
    after = server_cpu_s(url)
    return "" if before is None or after is None else f"; PostgreSQL CPU {after - before:.1f} s"


def same_rows(conn: psycopg.Connection, tables: batch_dask.RunTables) -> bool:
    overlaps = sql.SQL("SELECT slum_area_id, region_code, overlap_ha, share FROM {}")
    points = sql.SQL("SELECT DISTINCT ON (activity_id) activity_id, region_code FROM {} ORDER BY 1, 2")
    single = (sql.Identifier("bench_national_single_overlaps"), sql.Identifier("bench_national_single_points"))
    for query, a, b in ((overlaps, single[0], tables.overlaps), (points, single[1], tables.points)):
        for left, right in ((a, b), (b, a)):
            differ = conn.execute(sql.SQL("SELECT count(*) FROM (({}) EXCEPT ALL ({})) d").format(
                query.format(left), query.format(right))).fetchone()
            if differ is None or differ[0]:
                return False
    return True


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: its own, where ru_maxrss keeps the peak of the process that
    forked it)."""
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024


def cpu_s() -> float:
    return time.process_time()


def on_dask(url: str, workers: int, scheduler: str | None, pieces: int | None) -> None:
    started = time.perf_counter()
    client = batch_dask.dask_client(scheduler, workers)
    startup = time.perf_counter() - started
    where = scheduler or f"LocalCluster {workers} worker{'s' if workers > 1 else ''} x 1 thread"
    try:
        idle = client.run(peak_rss_mb)
        count = pieces or 8 * batch_dask.worker_count(client)
        for run in ("first run", "second run"):
            cpu, server = client.run(cpu_s), server_cpu_s(url)
            started = time.perf_counter()
            with psycopg.connect(url) as conn:
                plan = batch_dask.plan(conn, SOURCE, count)
                tables = batch_dask.RunTables.create(conn, None)
            planned = time.perf_counter() - started
            try:
                totals = batch_dask.run_dask(client, batch_dask.Login(url), tables, plan, SOURCE)
                elapsed = time.perf_counter() - started
                note = server_note(server, url)
                with psycopg.connect(url) as conn:
                    same = same_rows(conn, tables)
            finally:
                with psycopg.connect(url) as conn:
                    tables.drop(conn)
            peaks = client.run(peak_rss_mb)
            used = sum(client.run(cpu_s).values()) - sum(cpu.values())
            print(f"Dask ({where}), {run}: {elapsed:6.1f} s (plan {planned:.2f} s, {len(plan)} pieces); workers "
                  f"read {int(totals['areas_read']):,} slum areas and {int(totals['activities_read']):,} "
                  f"activities, wrote {int(totals['overlaps']):,} overlaps and {int(totals['activity_desa']):,} "
                  f"activity desa; same rows as one process: {same}; workers' CPU {used:.1f} s; worker peak RSS "
                  f"{', '.join(f'{v:.0f}' for v in peaks.values())} MB (idle "
                  f"{', '.join(f'{v:.0f}' for v in idle.values())} MB){note}")
        print(f"  (cluster start {startup:.1f} s, not counted)")
    finally:
        batch_dask.close_client(client)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slum-areas", type=int, default=50_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--pieces", type=int, default=None, help="default 8 per worker")
    parser.add_argument("--scheduler", default=None)
    args = parser.parse_args()
    logging.getLogger("distributed").setLevel(logging.WARNING)
    url = bench_url()
    load(url, args.slum_areas, args.activities)
    describe(url)
    server = server_cpu_s(url)
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        single = pool.submit(one_process, url).result()
    print(f"one process (geopandas): {single['total_s']:6.1f} s (read {single['read_s']:.1f} s, join "
          f"{single['compute_s']:.1f} s, the rest COPY); {single['overlaps']:,} overlaps, "
          f"{single['activity_desa']:,} activity desa; CPU {single['cpu_s']:.1f} s; peak RSS "
          f"{single['max_rss_mb']:.0f} MB{server_note(server, url)}")
    for workers in ([0] if args.scheduler else args.workers):
        on_dask(url, workers, args.scheduler, args.pieces)
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_national_single_overlaps, bench_national_single_points")
        conn.commit()


if __name__ == "__main__":
    main()
