"""Tile serving speed: kotaku against tipg (PyPI) and raw SQL (ST_AsMVT) on one database and one tile list.

    .venv/bin/python bench/tiles.py [--duration 15] [--connections 8] [--per-zoom 24] [--skip-tipg]

Data: the synthetic national-scale set of bench/tiles_data.py (50,000 slum areas, 1,000,000 activities over the
real kecamatan/desa of ../shared/data/bench), generated first when missing. Tile list: for zooms 8 to 16,
PER_ZOOM tiles centred on slum areas chosen by a seeded hash, for `slum-areas` and `activities` (fixed order).
Load: Debian `wrk` (Lua script bench/wrk_tiles.lua) with CONNECTIONS keep-alive connections for DURATION seconds;
raw SQL: the very statements kotaku runs (prepared, bound z/x/y), from CONNECTIONS psycopg connections.
Runs: raw SQL; kotaku `serve --workers 1|2` with the tile cache off then on; tipg under uvicorn with 1 and 2
workers, in this venv (with uvloop, which sets TCP_NODELAY itself); a single keep-alive connection's p50 is
printed for each, and bench/nodelay.py shows uvicorn's `--workers` TCP_NODELAY pitfall on the plain asyncio loop
and that `kotaku serve`'s own socket avoids it. Prints tiles/s, p50/p99 latency and the ratios;
goals: >= 2x tipg with caching off, within 1.3x of raw SQL, >= 10x with caching on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import morecantile
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.nodelay import keep_alive_p50_ms  # noqa: E402
from bench.tiles_data import bench_url, generate, refresh_all_tallies  # noqa: E402
from layers.accounts.access import PUBLIC  # noqa: E402
from layers.serving.collections import get_collection  # noqa: E402
from layers.serving.tiles import TileAddress, mvt_sql, tile_mode, tile_params  # noqa: E402

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
UVICORN = str(Path(sys.executable).with_name("uvicorn"))
WRK_SCRIPT = ROOT / "bench" / "wrk_tiles.lua"
ZOOMS = range(8, 17)
COLLECTIONS = {"slum-areas": "slum_areas", "activities": "activities"}
GOALS = {"tipg": 2.0, "raw": 1.3, "cache": 10.0}


@dataclass
class Result:
    name: str
    tiles_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tile_list(url: str, per_zoom: int) -> list[tuple[str, int, int, int]]:
    """(collection, z, x, y): tiles centred on slum areas picked by a seeded hash, same every run."""
    tms = morecantile.tms.get("WebMercatorQuad")
    tiles = []
    with psycopg.connect(url) as conn:
        for z in ZOOMS:
            rows = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) AS c, md5(id || '-' || %s) h "
                                "FROM slum_areas) s ORDER BY h LIMIT %s", [z, per_zoom]).fetchall()
            for lon, lat in rows:
                t = tms.tile(lon, lat, z)
                for collection in COLLECTIONS:
                    tiles.append((collection, z, t.x, t.y))
    return tiles


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stdout.read() if process.stdout else ''}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def warm(base: str, paths: list[str]) -> dict[int, int]:
    """One pass over the list (fills a cache, checks every answer); returns status -> count."""
    statuses: dict[int, int] = {}
    with httpx.Client(base_url=base, timeout=120) as client:
        for path in paths:
            status = client.get(path).status_code
            statuses[status] = statuses.get(status, 0) + 1
    return statuses


def run_wrk(name: str, base: str, paths: list[str], duration: int, connections: int, threads: int = 2) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(paths) + "\n")
    try:
        out = subprocess.run(["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s",
                              "--latency", "--timeout", "30s", "-s", str(WRK_SCRIPT), base],
                             env={**os.environ, "TILE_LIST": handle.name}, capture_output=True, text=True,
                             check=True).stdout
    finally:
        os.unlink(handle.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Result(name, rate, _latency(out, "50%"), _latency(out, "99%"), errors)


def _latency(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\b", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def single_connection_p50(base: str, path: str, duration: int = 3) -> float:
    """p50 of one keep-alive connection asking one light tile again and again (shows a delayed-ACK stall)."""
    return run_wrk("single", base, [path], duration, connections=1, threads=1).p50_ms


# -- the runs ------------------------------------------------------------------------------------------
def ours_paths(tiles: list[tuple[str, int, int, int]]) -> list[str]:
    return [f"/tiles/{c}/{z}/{x}/{y}.pbf" for c, z, x, y in tiles]


def tipg_paths(tiles: list[tuple[str, int, int, int]]) -> list[str]:
    """The same tiles from tipg, with the same attributes (tipg would otherwise ship every column)."""
    paths = []
    for c, z, x, y in tiles:
        collection = get_collection(c)
        columns = [p.sql.removeprefix("t.") for p in collection.tile_properties if p.sql.startswith("t.")
                   and p.sql.removeprefix("t.").isidentifier()]
        paths.append(f"/collections/public.{COLLECTIONS[c]}/tiles/WebMercatorQuad/{z}/{x}/{y}"
                     f"?properties={','.join(columns)}")
    return paths


def run_kotaku(url: str, tiles, workers: int, cache_mb: int, args) -> tuple[Result, float | None]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "KOTAKU_TILE_CACHE_MB": str(cache_mb)}
    process = subprocess.Popen([KOTAKU, "serve", "--port", str(port), "--workers", str(workers),
                                "--no-access-log"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(f"{base}/healthz", process)
        paths = ours_paths(tiles)
        statuses = warm(base, paths)
        if set(statuses) - {200, 204}:
            raise RuntimeError(f"kotaku answered {statuses}")
        if cache_mb:  # each worker has its own cache: load from many connections until every worker has every tile
            run_wrk("warm-up", base, paths, max(5, args.duration // 2), args.connections)
        name = f"kotaku --workers {workers}, cache {'on' if cache_mb else 'off'}"
        result = run_wrk(name, base, paths, args.duration, args.connections)
        light = next(p for p, (_, z, _, _) in zip(paths, tiles, strict=True) if z == 16)
        return result, single_connection_p50(base, light)
    finally:
        stop(process)


def run_tipg(url: str, tiles, workers: int, args) -> tuple[Result, float | None]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["public"]',
           "TIPG_DB_TABLES": '["public.slum_areas", "public.activities"]', "TIPG_DB_MAX_CONN_SIZE": "16"}
    process = subprocess.Popen([UVICORN, "tipg.main:app", "--host", "127.0.0.1", "--port", str(port),
                                "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(f"{base}/collections", process)
        paths = tipg_paths(tiles)
        statuses = warm(base, paths)
        if set(statuses) - {200, 204}:
            raise RuntimeError(f"tipg answered {statuses}")
        result = run_wrk(f"tipg {tipg_version()} --workers {workers}", base, paths, args.duration, args.connections)
        light = next(p for p, (_, z, _, _) in zip(paths, tiles, strict=True) if z == 16)
        return result, single_connection_p50(base, light)
    finally:
        stop(process)


def tipg_version() -> str:
    from importlib.metadata import version

    return version("tipg")


async def _raw_worker(url: str, statements: list, deadline: float, latencies: list[float], offset: int) -> int:
    done = 0
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        i = offset
        while time.perf_counter() < deadline:
            statement, params = statements[i % len(statements)]
            started = time.perf_counter()
            cur = await conn.execute(statement, params, prepare=True)
            await cur.fetchone()
            latencies.append(time.perf_counter() - started)
            done += 1
            i += 1
    return done


def run_raw(url: str, tiles, args) -> Result:
    """The same statements kotaku sends (same SQL text, bound z/x/y), straight from psycopg: the limit."""
    statements = []
    with psycopg.connect(url) as conn:
        for c, z, x, y in tiles:
            collection = get_collection(c)
            statement = mvt_sql(c, tile_mode(collection, z), PUBLIC).as_string(conn)
            statements.append((statement, tile_params(collection, TileAddress(z, x, y), None)))

    async def main() -> tuple[int, list[float], float]:
        latencies: list[float] = []
        await _raw_worker(url, statements, time.perf_counter() + 3, [], 0)  # warm: plans, buffers
        started = time.perf_counter()
        deadline = started + args.duration
        counts = await asyncio.gather(*(_raw_worker(url, statements, deadline, latencies, i * 7919)
                                        for i in range(args.connections)))
        return sum(counts), latencies, time.perf_counter() - started

    total, latencies, elapsed = asyncio.run(main())
    latencies.sort()
    return Result("raw SQL (ST_AsMVT, psycopg)", total / elapsed, latencies[len(latencies) // 2] * 1000,
                  latencies[int(len(latencies) * 0.99)] * 1000)


def tile_sizes(url: str, tiles) -> dict[int, tuple[float, int]]:
    """Per zoom: mean and largest MVT size in bytes (kotaku's tiles)."""
    sizes: dict[int, list[int]] = {}
    with psycopg.connect(url) as conn:
        for c, z, x, y in tiles:
            collection = get_collection(c)
            data = conn.execute(mvt_sql(c, tile_mode(collection, z), PUBLIC),
                                tile_params(collection, TileAddress(z, x, y), None)).fetchone()[0]
            sizes.setdefault(z, []).append(len(data or b""))
    return {z: (statistics.mean(v), max(v)) for z, v in sizes.items()}


def ensure_data(url: str) -> dict:
    with psycopg.connect(url) as conn:
        has = conn.execute("SELECT to_regclass('activities') IS NOT NULL").fetchone()[0]
        counts = conn.execute("SELECT (SELECT count(*) FROM slum_areas), (SELECT count(*) FROM activities)"
                              ).fetchone() if has else (0, 0)
    if counts[0] < 40_000 or counts[1] < 900_000:
        print("generating the benchmark data (bench/tiles_data.py) ...", flush=True)
        generate(url, 50_000, 1_000_000)
        with psycopg.connect(url) as conn:
            counts = conn.execute("SELECT (SELECT count(*) FROM slum_areas), (SELECT count(*) FROM activities)"
                                  ).fetchone()
    refresh_all_tallies(url)
    return {"slum_areas": counts[0], "activities": counts[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--per-zoom", type=int, default=24, help="tiles per zoom level and collection")
    parser.add_argument("--skip-tipg", action="store_true")
    args = parser.parse_args()
    url = bench_url()
    counts = ensure_data(url)
    tiles = tile_list(url, args.per_zoom)
    print(f"data: {counts['slum_areas']:,} slum areas, {counts['activities']:,} activities; "
          f"{len(tiles)} tiles (zoom {ZOOMS.start}-{ZOOMS.stop - 1}, {', '.join(COLLECTIONS)}); "
          f"wrk {args.connections} connections x {args.duration} s; {os.cpu_count()} cores", flush=True)
    for z, (mean, largest) in tile_sizes(url, tiles).items():
        print(f"  zoom {z:2}: kotaku tiles {mean / 1024:7.1f} KiB on average, largest {largest / 1024:7.1f} KiB")

    results: dict[str, Result] = {}
    single: dict[str, float] = {}
    results["raw"] = run_raw(url, tiles, args)
    for workers in (1, 2):
        for cache_mb in (0, 256):
            key = f"kotaku{workers}{'on' if cache_mb else 'off'}"
            results[key], single[key] = run_kotaku(url, tiles, workers, cache_mb, args)
            print(f"  {results[key].name}: {results[key].tiles_per_s:.0f} tiles/s", flush=True)
    tipg_error = None
    if not args.skip_tipg:
        for workers in (1, 2):
            try:
                results[f"tipg{workers}"], single[f"tipg{workers}"] = run_tipg(url, tiles, workers, args)
            except (RuntimeError, FileNotFoundError, subprocess.CalledProcessError) as error:
                tipg_error = str(error)[:500]
                break

    print(f"\n{'run':44} {'tiles/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for result in results.values():
        print(f"{result.name:44} {result.tiles_per_s:9.0f} {result.p50_ms:8.2f} {result.p99_ms:8.2f} "
              f"{result.errors:7}")
    print("\nsingle keep-alive connection, one zoom-16 tile, p50 ms (a ~40 ms floor = delayed-ACK stall):")
    for key, value in single.items():
        print(f"  {key:14} {value:7.2f}")
    print("TCP_NODELAY pitfall (bench/nodelay.py: uvloop, the default here, hides it; asyncio shows it):")
    for mode in ("uvicorn", "kotaku"):
        print(f"  --workers 2, asyncio loop, socket bound by {mode:8}: p50 {keep_alive_p50_ms(url, mode):7.2f} ms")

    raw, best_off = results["raw"], max(results["kotaku1off"], results["kotaku2off"], key=lambda r: r.tiles_per_s)
    best_on = max(results["kotaku1on"], results["kotaku2on"], key=lambda r: r.tiles_per_s)
    print("\nratios (goal in brackets):")
    print(f"  raw SQL / kotaku, cache off ({best_off.name}): {raw.tiles_per_s / best_off.tiles_per_s:.2f}x "
          f"[<= {GOALS['raw']}]")
    print(f"  kotaku cache on / cache off: {best_on.tiles_per_s / best_off.tiles_per_s:.1f}x [>= {GOALS['cache']}]")
    if "tipg1" in results:
        for workers in (1, 2):
            if f"tipg{workers}" not in results:
                continue
            tipg = results[f"tipg{workers}"]
            ours_off, ours_on = results[f"kotaku{workers}off"], results[f"kotaku{workers}on"]
            print(f"  --workers {workers}: kotaku cache off / tipg: {ours_off.tiles_per_s / tipg.tiles_per_s:.1f}x "
                  f"[>= {GOALS['tipg']}]; kotaku cache on / tipg: {ours_on.tiles_per_s / tipg.tiles_per_s:.1f}x")
    if tipg_error:
        print(f"  tipg could not be run: {tipg_error}")


if __name__ == "__main__":
    main()
