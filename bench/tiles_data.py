"""Synthetic national-scale data for the tile benchmark, made set-based in PostGIS (a few minutes on 2 cores).

    .venv/bin/python bench/tiles_data.py [--slum-areas 50000] [--activities 1000000] [--drop]

Into the database `kotaku_bench_serving` of the dev cluster (var/), or DATABASE_URL when set:
- regions through `kotaku import regions` (the real command): the 7,284 kecamatan of Indonesia and the 8,492
  desa/kelurahan of Jawa Timur from ../shared/data/bench (MIT);
- one published decree per kab/kota, and SLUM_AREAS slum areas: ST_GeneratePoints inside every desa (about six
  each), each a buffer of 60 to 250 m, with a stated score (skor_kumuh) so maps have levels;
- ACTIVITIES activities, ST_GeneratePoints inside the slum areas (twenty each): 60 % points, 35 % 30-150 m
  lines, 5 % small polygons, with kind, programme, funding source, stage, year, cost, and a fake proposer name
  and phone (to prove that tiles never carry them).
Everything is seeded (same data on every run) and labelled synthetic. Activities and slum areas land in Jawa Timur
(the only province whose desa boundaries are in ../shared/data/bench, and the aggregates group by desa code):
the volume is national, the density is that of one dense province, which is the harder case for tiles.
`--drop` drops the database afterwards (the rule: drop big benchmark tables when done).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.db.cluster import Cluster  # noqa: E402
from layers.db.schema import migrate  # noqa: E402
from layers.serving.tallies import TALLY_LAYERS, refresh_tallies  # noqa: E402

DATABASE = "kotaku_bench_serving"
BENCH_DATA = ROOT.parent / "shared" / "data" / "bench"
KOTAKU = str(Path(sys.executable).with_name("kotaku"))
SEED = 0.42

SLUM_AREAS_SQL = """
WITH desa AS (
    SELECT code, geom, row_number() OVER (ORDER BY code) AS n, count(*) OVER () AS total
    FROM regions WHERE level = 'desa_kelurahan'
), wanted AS (
    SELECT code, geom, (%(areas)s / total + CASE WHEN n <= %(areas)s %% total THEN 1 ELSE 0 END)::int AS k, n
    FROM desa
), points AS (
    SELECT w.code, (ST_Dump(ST_GeneratePoints(w.geom, w.k, w.n::int))).geom AS p
    FROM wanted w WHERE w.k > 0
), shapes AS (
    SELECT code, row_number() OVER (ORDER BY code, ST_X(p), ST_Y(p)) AS i,
           ST_Multi(ST_Buffer(p::geography, 60 + 190 * abs(sin(ST_X(p) * 7919 + ST_Y(p) * 104729)),
                              'quad_segs=4')::geometry) AS geom
    FROM points
)
INSERT INTO slum_areas (tenant, decree_id, kawasan, kelurahan_code, area_ha, stated_area_ha, legality, typology,
                        attributes, synthetic, geom)
SELECT left(s.code, 5), d.id, 'Kawasan sintetis ' || s.i, s.code, ST_Area(s.geom::geography) / 10000, NULL,
       CASE WHEN s.i %% 5 = 0 THEN 'ilegal' ELSE 'legal' END,
       (ARRAY['perkotaan', 'pesisir', 'bantaran sungai', 'pinggiran kota'])[1 + s.i %% 4],
       jsonb_build_object('skor_kumuh', 16 + (s.i * 37) %% 60, 'SUMBR_DATA', 'DATA SINTETIS (bench)'), true, s.geom
FROM shapes s JOIN decrees d ON d.tenant = left(s.code, 5) AND d.number = 'SK sintetis bench'
"""

ACTIVITIES_SQL = """
WITH kinds AS (
    SELECT geometry_type, array_agg(code ORDER BY code) AS codes FROM activity_kinds GROUP BY 1
), per_area AS (
    SELECT s.id, s.tenant, s.kelurahan_code, s.geom,
           (%(activities)s / total + CASE WHEN rn <= %(activities)s %% total THEN 1 ELSE 0 END)::int AS k
    FROM (SELECT id, tenant, kelurahan_code, geom, row_number() OVER (ORDER BY id) AS rn, count(*) OVER () AS total
          FROM slum_areas) s
), points AS (
    SELECT a.id AS slum_area_id, a.tenant, a.kelurahan_code,
           (ST_Dump(ST_GeneratePoints(a.geom, a.k, a.id::int))).geom AS p
    FROM per_area a WHERE a.k > 0
), numbered AS (
    SELECT *, row_number() OVER (ORDER BY slum_area_id, ST_X(p)) AS i FROM points
), shaped AS (
    SELECT n.*, n.i %% 20 AS g,
           CASE WHEN n.i %% 20 < 12 THEN n.p
                WHEN n.i %% 20 < 19 THEN ST_MakeLine(n.p, ST_Project(n.p::geography, 30 + (n.i %% 121),
                                                     radians((n.i * 47) %% 360))::geometry)
                ELSE ST_Buffer(n.p::geography, 5 + (n.i %% 11), 'quad_segs=1')::geometry END AS geom
    FROM numbered n
)
INSERT INTO activities (tenant, title, kind, criteria, volume, unit, cost, year_start, year_end, program,
                        funding_source, proposer_area, proposer_name, proposer_phone, target_agency, kelurahan_code,
                        slum_area_id, stage, status, progress, synthetic, geom)
SELECT s.tenant, 'Kegiatan sintetis ' || s.i, k.code, k.criteria, 1 + s.i %% 200, k.unit,
       (10 + (s.i * 7919) %% 990) * 1000000, y.y, y.y + (s.i %% 3 = 0)::int,
       (ARRAY['NSUP', 'NUSP2', 'PISEW', 'SANIMAS', 'PAMSIMAS', 'BSPS', 'REGULER', 'LAINNYA'])[1 + s.i %% 8],
       (ARRAY['APBN', 'NSUP_WB_AIIB', 'BPM_BDI', 'DAK', 'APBD_PROV', 'APBD_KABKOTA', 'DANA_DESA', 'CSR',
              'SWADAYA'])[1 + (s.i / 8) %% 9],
       'Lingkungan ' || lpad((1 + s.i %% 12)::text, 2, '0'), 'Pengusul Sintetis ' || s.i,
       '08' || lpad((s.i * 7919 %% 1000000000)::text, 10, '0'), 'Dinas PU', s.kelurahan_code, s.slum_area_id,
       (ARRAY['rembuk_warga', 'musrenbang_kelurahan', 'musrenbang_kecamatan', 'pokir_dprd', 'renja_opd', 'rkpd',
              'pelaksanaan', 'selesai', 'serah_terima'])[1 + s.i %% 9],
       (ARRAY['aktif', 'aktif', 'aktif', 'selesai', 'dikembalikan', 'ditolak'])[1 + (s.i / 9) %% 6],
       (ARRAY[0, 50, 100])[1 + s.i %% 3], true, s.geom
FROM shaped s
CROSS JOIN LATERAL (SELECT 2018 + (s.i %% 8)::int AS y) y
JOIN kinds ks ON ks.geometry_type = CASE WHEN s.g < 12 THEN 'point' WHEN s.g < 19 THEN 'line' ELSE 'polygon' END
JOIN activity_kinds k ON k.code = ks.codes[1 + s.i %% cardinality(ks.codes)]
"""


def bench_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    cluster = Cluster(database=DATABASE)
    cluster.up()
    return cluster.url()


def step(title: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {title}: {now - started:.1f} s", flush=True)
    return now


def import_regions(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    for name in ("kecamatan_indonesia.gpkg", "desa_kel_jawa_timur.gpkg"):
        subprocess.run([KOTAKU, "import", "regions", str(BENCH_DATA / name)], env=env, check=True,
                       stdout=subprocess.DEVNULL)


def generate(url: str, areas: int, activities: int) -> dict:
    started = t = time.perf_counter()
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE activities, survey_units, slum_area_regions, slum_areas, decrees, regions "
                     "RESTART IDENTITY CASCADE")
    t = step("schema", t)
    import_regions(url)
    t = step("kotaku import regions (kecamatan of Indonesia, desa of Jawa Timur)", t)
    with psycopg.connect(url) as conn:
        conn.execute("SET jit = off")
        conn.execute("SELECT setseed(%s)", [SEED])
        conn.execute("INSERT INTO decrees (tenant, number, title, published) "
                     "SELECT DISTINCT left(code, 5), 'SK sintetis bench', 'Data sintetis untuk bench', true "
                     "FROM regions WHERE level = 'desa_kelurahan'")
        conn.execute(SLUM_AREAS_SQL, {"areas": areas})
        conn.execute("INSERT INTO slum_area_regions (slum_area_id, region_code, overlap_ha, share) "
                     "SELECT id, kelurahan_code, area_ha, 1 FROM slum_areas")
        conn.commit()
        t = step(f"{areas:,} slum areas", t)
        conn.execute(ACTIVITIES_SQL, {"activities": activities})
        conn.commit()
        t = step(f"{activities:,} activities", t)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        counts = conn.execute("SELECT (SELECT count(*) FROM regions), (SELECT count(*) FROM slum_areas), "
                              "(SELECT count(*) FROM activities)").fetchone()
    t = step("vacuum analyze", t)
    refresh_all_tallies(url)
    step("per-kelurahan tallies of the low-zoom tiles", t)
    print(f"  total {time.perf_counter() - started:.1f} s", flush=True)
    return {"regions": counts[0], "slum_areas": counts[1], "activities": counts[2]}


def refresh_all_tallies(url: str) -> dict[str, int]:
    """What the first low-zoom tile after an import would do (layers/serving/tallies.py), done ahead."""
    import asyncio

    async def run() -> dict[str, int]:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            return await refresh_tallies(conn, tuple(TALLY_LAYERS))

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slum-areas", type=int, default=50_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--drop", action="store_true", help="drop the benchmark database and exit")
    args = parser.parse_args()
    if args.drop:
        cluster = Cluster(database=DATABASE)
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        print(f"dropped {DATABASE}")
        return
    if not BENCH_DATA.is_dir():
        sys.exit(f"{BENCH_DATA} is missing: the tile benchmark needs ../shared/data/bench")
    url = bench_url()
    print(f"generating into {url.rsplit('@', 1)[-1]}", flush=True)
    print(generate(url, args.slum_areas, args.activities))


if __name__ == "__main__":
    main()
