"""Import speed: `kotaku import regions` against `ogr2ogr -f PostgreSQL`, same file, same server, one run.

    .venv/bin/python bench/import_regions.py [FILE] [--repeat N]

Default FILE: ../shared/data/bench/desa_kel_jawa_timur.gpkg (8,492 desa, 0.8 M vertices). ogr2ogr only copies
(COPY into a new table, GiST index); kotaku also validates and repairs every geometry, checks codes and computes
geodesic areas. Prints the median of N runs of each, and the ratio. Goal: kotaku within 1.5x of ogr2ogr.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.db.cluster import Cluster  # noqa: E402
from layers.db.schema import migrate  # noqa: E402
from layers.imports.regions import import_regions  # noqa: E402

DEFAULT_FILE = ROOT.parent / "shared" / "data" / "bench" / "desa_kel_jawa_timur.gpkg"
GOAL = 1.5


def bench_database() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    cluster = Cluster(database="kotaku_bench")
    cluster.up()
    return cluster.url()


def time_ogr2ogr(url: str, path: Path) -> float:
    parts = urlparse(url)
    env = {**os.environ, "PGPASSWORD": parts.password or ""}
    target = f"PG:host={parts.hostname} port={parts.port} dbname={parts.path.lstrip('/')} user={parts.username}"
    started = time.perf_counter()
    subprocess.run(
        ["ogr2ogr", "-f", "PostgreSQL", target, str(path), "-nln", "bench_ogr2ogr", "-overwrite",
         "-lco", "GEOMETRY_NAME=geom", "-nlt", "PROMOTE_TO_MULTI"],
        check=True, env=env, capture_output=True,
    )
    return time.perf_counter() - started


def time_kotaku_function(url: str, path: Path) -> tuple[float, int]:
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE regions CASCADE")
        conn.commit()
        started = time.perf_counter()
        report = import_regions(conn, path)
        return time.perf_counter() - started, report.features_written


def time_kotaku_cli(url: str, path: Path) -> float:
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE regions CASCADE")
        conn.commit()
    kotaku = Path(sys.executable).with_name("kotaku")
    started = time.perf_counter()
    subprocess.run([str(kotaku), "import", "regions", str(path), "--json"], check=True, capture_output=True,
                   env={**os.environ, "DATABASE_URL": url})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.file.exists():
        sys.exit(f"{args.file} not found (the default needs ../shared/data)")
    url = bench_database()
    migrate(url)
    ogr, function, cli, written = [], [], [], 0
    for _ in range(args.repeat):
        ogr.append(time_ogr2ogr(url, args.file))
        seconds, written = time_kotaku_function(url, args.file)
        function.append(seconds)
        cli.append(time_kotaku_cli(url, args.file))
    ogr_s, fn_s, cli_s = (statistics.median(x) for x in (ogr, function, cli))
    print(f"file: {args.file.name}  features written by kotaku: {written}  runs: {args.repeat} (median)")
    print(f"ogr2ogr -f PostgreSQL          {ogr_s:7.3f} s")
    print(f"kotaku import (in process)     {fn_s:7.3f} s   ratio {fn_s / ogr_s:5.2f}x ogr2ogr")
    print(f"kotaku import regions (CLI)    {cli_s:7.3f} s   ratio {cli_s / ogr_s:5.2f}x ogr2ogr "
          "(includes Python start-up and migration check)")
    verdict = "met" if fn_s / ogr_s <= GOAL else "NOT met"
    print(f"goal: within {GOAL}x of ogr2ogr in process: {verdict}")
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_ogr2ogr")
        conn.execute("TRUNCATE regions CASCADE")


if __name__ == "__main__":
    main()
