"""Cached tiles through Varnish (deploy/varnish/kotaku.vcl) against the app alone, measured with wrk.

    .venv/bin/python bench/varnish.py [--seconds 5] [--connections 32]

The Medan demo goes into the database `kotaku_bench_varnish` of the dev cluster (var/), or DATABASE_URL when set.
One `kotaku serve` (1 worker), and Varnish in front of it, twice: revalidating every request (SHARED_TTL 1 ms: the
origin answers 304 from the layer versions) and as shipped (tagged objects kept 1 h and banned by the app on every
write that changes their layers: an edit still shows on the next request, tests/e2e/test_varnish.py).
wrk walks the same list of public tiles (zoom 12-15
over the demo) in each run, after one warm-up pass. Prints requests/s, p50 and the ratios; the goal of issue 14
is >= 10x for cached tiles.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import morecantile
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.db.cluster import Cluster  # noqa: E402
from tests.e2e.servers import running_server  # noqa: E402
from tests.e2e.varnish import varnish  # noqa: E402

DATABASE = "kotaku_bench_varnish"
KOTAKU = str(Path(sys.executable).with_name("kotaku"))
WRK_SCRIPT = ROOT / "bench" / "wrk_tiles.lua"


def bench_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    cluster = Cluster(database=DATABASE)
    cluster.up()
    return cluster.url()


def tile_paths(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        west, south, east, north = conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM slum_areas) s"
        ).fetchone()
    tms = morecantile.tms.get("WebMercatorQuad")
    paths = []
    for z in (12, 13, 14, 15):
        for tile in tms.tiles(west, south, east, north, [z]):
            for collection in ("slum-areas", "activities"):
                paths.append(f"/tiles/{collection}/{z}/{tile.x}/{tile.y}.pbf")
    return paths


def run_wrk(base: str, paths_file: Path, seconds: int, connections: int) -> tuple[float, float]:
    """(requests/s, p50 ms) of wrk walking the tile list against `base`."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(WRK_SCRIPT),
                          base], env={**os.environ, "TILE_LIST": str(paths_file)}, capture_output=True, text=True,
                         check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r" 50%\s+([\d.]+)(us|ms|s)\b", out).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"    ({errors.group(1)} answers were not 2xx/3xx)")
    return rate, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    url = bench_url()
    subprocess.run([KOTAKU, "demo", "--if-empty"], env={**os.environ, "DATABASE_URL": url}, check=True,
                   stdout=subprocess.DEVNULL)
    paths = tile_paths(url)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(paths) + "\n")
    paths_file = Path(listing.name)
    print(f"{len(paths)} public tiles of the Medan demo (zoom 12-15), wrk -t2 -c{args.connections} "
          f"-d{args.seconds}s, 2 cores shared by wrk, Varnish and the app")
    results = {}
    with running_server(url, "--no-access-log") as origin:
        with httpx.Client() as client:  # warm the app's own tile cache: its best case
            for path in paths:
                client.get(origin + path)
        results["app alone (its in-process tile cache warm)"] = run_wrk(origin, paths_file, args.seconds,
                                                                         args.connections)
        for ttl in (0.001, None):
            with varnish(origin, shared_ttl_s=ttl, memory="256m") as cache:
                with httpx.Client() as client:
                    for path in paths:
                        client.get(cache + path)
                name = ("Varnish, revalidating every request (304s)" if ttl
                        else "Varnish as shipped: 1 h + BAN on write (hits)")
                results[name] = run_wrk(cache, paths_file, args.seconds, args.connections)
    paths_file.unlink()
    alone = results["app alone (its in-process tile cache warm)"][0]
    for name, (rate, p50) in results.items():
        print(f"  {name:58} {rate:9.0f} req/s  p50 {p50:7.2f} ms  x{rate / alone:5.1f}")


if __name__ == "__main__":
    main()
