"""Overlap-check latency and bulk import rate, at 10^4, 10^5 and 10^6 existing activities, in one run.

    .venv/bin/python bench/overlap.py [--sizes 10000,100000,1000000] [--probes 1000] [--bulk 10000]

Existing activities are synthetic, generated set-based in PostGIS inside the 8,492 real desa/kelurahan of Jawa
Timur (../shared/data/bench/desa_kel_jawa_timur.gpkg), as many per desa as its area warrants, of every kind in
the catalogue (points, 50-400 m road and drain segments, small polygons), years 2019-2026. Probes are new
activities: 70 % at random places, 30 % redrawn copies of existing ones (so that conflicts are found).

For each size it prints p50/p99 of
  - the bare PostGIS query (layers.planning.overlap.SINGLE_CHECK_SQL through psycopg, prepared): the limit;
  - POST /overlap-check through a running `kotaku serve` (HTTP keep-alive, JSON in and out),
and the bulk rate of `import_activities` (set-based check of a whole file). Goals: HTTP p99 <= 10 ms at 10^6,
bulk >= 5,000 rows/s.

With assets in the check (issue 12): beside each size of live activities, as many assets of the register
(`--assets-ratio 1`: 10^6 + 10^6), generated set-based the same way: handed-over activities (stage serah_terima,
which the check reads through their asset) and their assets, handed over 2012-2025, so some are past their service
life. Probes copy existing rows of both.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.db.cluster import Cluster  # noqa: E402
from layers.db.schema import migrate  # noqa: E402
from layers.imports.activities import import_activities  # noqa: E402
from layers.imports.regions import import_regions  # noqa: E402
from layers.imports.report import ImportFailed  # noqa: E402
from layers.planning.overlap import SINGLE_CHECK_SQL  # noqa: E402

DESA = ROOT.parent / "shared" / "data" / "bench" / "desa_kel_jawa_timur.gpkg"
GOAL_HTTP_P99_MS = 10.0
GOAL_BULK_ROWS_S = 5000

# Activities inside desa, set-based: points by ST_GeneratePoints weighted by area, then a geometry per kind.
GENERATE = """
WITH kinds AS (SELECT array_agg(code ORDER BY code) AS codes FROM activity_kinds),
     sizes AS (SELECT code, tenant, geom, area_ha / sum(area_ha) OVER () AS weight
               FROM regions WHERE level = 'desa_kelurahan'),
     points AS (SELECT s.tenant, (ST_Dump(ST_GeneratePoints(s.geom, greatest(1, round(%(n)s * s.weight))::int,
                                                             %(seed)s))).geom AS p
                FROM sizes s),
     chosen AS (SELECT p.tenant, p.p, k.codes[1 + floor(random() * array_length(k.codes, 1))::int] AS kind,
                       2019 + floor(random() * 8)::int AS year, random() AS r
                FROM points p, kinds k)
INSERT INTO activities (tenant, title, kind, criteria, volume, unit, cost, year_start, year_end, program,
                        funding_source, stage, status, synthetic, geom)
SELECT c.tenant, 'sintetis ' || c.kind, c.kind, ak.criteria, 1, ak.unit, ak.unit_price, c.year,
       c.year + (c.r < 0.2)::int, 'LAINNYA', 'LAINNYA', 'rembuk_warga', 'aktif', true,
       CASE ak.geometry_type
           WHEN 'point' THEN c.p
           WHEN 'line' THEN ST_MakeLine(c.p, ST_Project(c.p::geography, 50 + c.r * 350, c.r * 6.283)::geometry)
           ELSE ST_Buffer(c.p::geography, 15 + c.r * 40, 4)::geometry
       END
FROM chosen c JOIN activity_kinds ak ON ak.code = c.kind
"""
PROBES = """
(SELECT kind, criteria, year_start, year_end, ST_AsBinary(ST_Translate(geom, 0.00002, 0.00001)) AS wkb
 FROM activities TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT %(copies)s)
UNION ALL
(SELECT k.code, k.criteria, 2025, 2025,
        ST_AsBinary(CASE k.geometry_type WHEN 'point' THEN p.p
             WHEN 'line' THEN ST_MakeLine(p.p, ST_Project(p.p::geography, 200, 1.0)::geometry)
             ELSE ST_Buffer(p.p::geography, 30, 4)::geometry END)
 FROM (SELECT (ST_Dump(ST_GeneratePoints(ST_Union(geom), %(fresh)s, 11))).geom AS p
       FROM (SELECT geom FROM regions WHERE level = 'desa_kelurahan' ORDER BY code LIMIT 400) d) p
 CROSS JOIN LATERAL (SELECT * FROM activity_kinds ORDER BY md5(ST_AsText(p.p) || code) LIMIT 1) k)
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database() -> str:
    cluster = Cluster(database="kotaku_bench_overlap")
    cluster.up()
    url = cluster.url()
    migrate(url)
    return url


def load_desa(conn: psycopg.Connection) -> None:
    if conn.execute("SELECT count(*) FROM regions WHERE level = 'desa_kelurahan'").fetchone()[0] < 8000:
        import_regions(conn, DESA)


def grow_to(conn: psycopg.Connection, size: int) -> float:
    have = conn.execute("SELECT count(*) FROM activities WHERE stage <> 'serah_terima'").fetchone()[0]
    if have >= size:
        return 0.0
    started = time.perf_counter()
    conn.execute(GENERATE, {"n": size - have, "seed": size})
    conn.execute("ANALYZE activities")
    conn.commit()
    return time.perf_counter() - started


# Assets, set-based: handed-over activities made like the live ones (GENERATE), then one asset each.
HAND_OVER = """
UPDATE activities SET stage = 'serah_terima', status = 'selesai', title = 'aset sintetis'
WHERE id IN (SELECT id FROM activities WHERE title LIKE 'sintetis %%' ORDER BY id DESC LIMIT %(n)s)
"""
REGISTER = """
INSERT INTO assets (activity_id, tenant, title, kind, criteria, value, geom, handover_date, service_life_years,
                    created_by)
SELECT a.id, a.tenant, a.title, a.kind, a.criteria, a.cost, a.geom,
       make_date(2012 + (a.id %% 14)::int, 1 + (a.id %% 12)::int, 1), coalesce(k.service_life_years, 1), 'bench'
FROM activities a JOIN activity_kinds k ON k.code = a.kind
WHERE a.stage = 'serah_terima' AND NOT EXISTS (SELECT 1 FROM assets s WHERE s.activity_id = a.id)
"""


def grow_assets(conn: psycopg.Connection, size: int) -> float:
    have = conn.execute("SELECT count(*) FROM assets").fetchone()[0]
    if have >= size:
        return 0.0
    started = time.perf_counter()
    conn.execute(GENERATE, {"n": size - have, "seed": size + 1})  # fresh rows, then hand the newest over
    conn.execute(HAND_OVER, {"n": size - have})
    conn.execute(REGISTER, {})
    conn.execute("ANALYZE activities")
    conn.execute("ANALYZE assets")
    conn.commit()
    return time.perf_counter() - started


def probes(conn: psycopg.Connection, count: int) -> list[tuple]:
    copies = int(count * 0.3)
    return conn.execute(PROBES, {"copies": copies, "fresh": count - copies}).fetchall()


def bare_latencies(conn: psycopg.Connection, sample: list[tuple]) -> tuple[list[float], int]:
    times, blocked = [], 0
    for kind, criteria, year_start, year_end, wkb in sample:
        params = {"wkb": bytes(wkb), "kind": kind, "criteria": criteria, "year_start": year_start,
                  "year_end": year_end, "exclude": None}
        started = time.perf_counter()
        rows = conn.execute(SINGLE_CHECK_SQL, params, prepare=True).fetchall()
        times.append((time.perf_counter() - started) * 1000)
        blocked += any(r[10] == "konflik" for r in rows)
    return times, blocked


def http_latencies(port: int, sample: list[tuple]) -> tuple[list[float], int]:
    times, blocked = [], 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for kind, _criteria, year_start, year_end, wkb in sample:
            body = {"type": "Feature", "geometry": json.loads(shapely.to_geojson(shapely.from_wkb(bytes(wkb)))),
                    "properties": {"kind": kind, "year_start": year_start, "year_end": year_end, "tenant": "35.78",
                                   "title": "probe"}}
            started = time.perf_counter()
            response = client.post("/overlap-check", json=body)
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            blocked += response.json()["blocked"]
    return times, blocked


def start_server(url: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url}
    server = subprocess.Popen([str(Path(sys.executable).with_name("kotaku")), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server, port
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("kotaku serve did not start")


BULK = """
SELECT d.tenant, k.code, 2025, 2025, ST_AsBinary(CASE k.geometry_type WHEN 'point' THEN d.p
       WHEN 'line' THEN ST_MakeLine(d.p, ST_Project(d.p::geography, 150, 2.0)::geometry)
       ELSE ST_Buffer(d.p::geography, 25, 4)::geometry END)
FROM (SELECT tenant, (ST_Dump(ST_GeneratePoints(geom, 2, 13))).geom AS p
      FROM regions WHERE level = 'desa_kelurahan' ORDER BY md5(code) LIMIT %(rows)s) d
CROSS JOIN LATERAL (SELECT * FROM activity_kinds ORDER BY md5(ST_AsText(d.p) || code) LIMIT 1) k
"""


def bulk_rate(url: str, conn: psycopg.Connection, rows: int) -> str:
    """Check a whole file set-based; drop the rows it reports and import the rest. Both timed."""
    sample = conn.execute(BULK, {"rows": rows}).fetchall()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "usulan.csv"

        def write(keep) -> None:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write("tenant,title,kind,year_start,year_end,WKT\n")
                for number, (tenant, kind, ys, ye, wkb) in enumerate(sample, start=1):
                    if number in keep:
                        wkt = shapely.from_wkb(bytes(wkb)).wkt
                        handle.write(f'{tenant},bulk {number},{kind},{ys},{ye},"{wkt}"\n')

        everything = set(range(1, len(sample) + 1))
        write(everything)
        started = time.perf_counter()
        try:
            with psycopg.connect(url) as own:
                report = import_activities(own, path, tenant="35.78")
            conflicts: set[int] = set()
        except ImportFailed as failed:  # the whole file was checked and refused: drop those rows, import again
            conflicts = {p.feature for p in failed.report.errors}
            report = None
        first = time.perf_counter() - started
        second = first
        if report is None:
            write(everything - conflicts)
            started = time.perf_counter()
            with psycopg.connect(url) as own:
                report = import_activities(own, path, tenant="35.78")
            second = time.perf_counter() - started
        conn.execute("DELETE FROM activities WHERE title LIKE 'bulk %%'")
        conn.commit()
    return (f"bulk: {len(sample)} rows checked in {first:.2f} s ({len(sample) / first:,.0f} rows/s, "
            f"{len(conflicts)} rows conflicting); {report.features_written} imported in {second:.2f} s "
            f"({report.features_written / second:,.0f} rows/s, goal {GOAL_BULK_ROWS_S:,})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--bulk", type=int, default=10000)
    parser.add_argument("--assets-ratio", type=float, default=1.0, help="assets per live activity (default 1)")
    args = parser.parse_args()
    if not DESA.exists():
        sys.exit(f"{DESA} not found (needs ../shared/data)")
    url = database()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with psycopg.connect(url) as conn:
        load_desa(conn)
        if conn.execute("SELECT count(*) FROM activities").fetchone()[0] > sizes[0]:
            conn.execute("TRUNCATE activities, assets CASCADE")  # each run grows from empty, size by size
            conn.commit()
        for size in sizes:
            grew = grow_to(conn, size)
            grew_assets = grow_assets(conn, int(size * args.assets_ratio))
            count = conn.execute("SELECT count(*) FROM activities WHERE stage <> 'serah_terima'").fetchone()[0]
            assets = conn.execute("SELECT count(*) FROM assets").fetchone()[0]
            sample = probes(conn, args.probes)
            bare, bare_blocked = bare_latencies(conn, sample)
            server, port = start_server(url)
            try:
                http_latencies(port, sample[:50])  # warm-up: connections, prepared statements
                http, http_blocked = http_latencies(port, sample)
            finally:
                server.terminate()
                server.wait(timeout=30)
            print(f"\n{count:,} live activities (generated in {grew:.1f} s) + {assets:,} assets ({grew_assets:.1f} s); "
                  f"{len(sample)} probes, "
                  f"{bare_blocked} blocked (bare) / {http_blocked} (HTTP)")
            print(f"  bare PostGIS query  p50 {statistics.median(bare):6.2f} ms  p99 {percentile(bare, 0.99):6.2f} ms")
            http_p99 = percentile(http, 0.99)
            verdict = "met" if http_p99 <= GOAL_HTTP_P99_MS else "NOT met"
            print(f"  POST /overlap-check p50 {statistics.median(http):6.2f} ms  p99 {http_p99:6.2f} ms"
                  f"   ratio p50 {statistics.median(http) / statistics.median(bare):4.1f}x, "
                  f"p99 {http_p99 / percentile(bare, 0.99):4.1f}x; goal p99 <= {GOAL_HTTP_P99_MS} ms: {verdict}")
            print("  " + bulk_rate(url, conn, args.bulk))


if __name__ == "__main__":
    main()
