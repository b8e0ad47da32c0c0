"""What the app's own login and the pools' connection check cost (issue 15 items 3, 7).

    .venv/bin/python bench/db_logins.py [--n 200]

On a private cluster of its own under a temporary folder (initdb, destroyed at the end). Prints, from one run:
- a new connection: the owner switching role (`-c role=kotaku_app`, the way before) against the app role's own
  login (both scram-sha-256 on loopback), ms each;
- a pooled `SELECT 1` through psycopg_pool's AsyncConnectionPool without and with `check=check_connection`
  (one empty round trip more per request), µs each, and the difference;
- `migrate()` at the newest revision (what every `kotaku` command does first), whose login probe is one more
  connection, ms;
- after `pg_ctl stop` + start: seconds until a pooled request succeeds again with the check (the pools' backoff).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg_pool import AsyncConnectionPool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.db.app_login import ensure_app_login  # noqa: E402
from layers.db.cluster import Cluster  # noqa: E402
from layers.db.connection import APP_ROLE, app_role_kwargs  # noqa: E402
from layers.db.schema import migrate  # noqa: E402


def per_call_ms(fn, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


async def pooled_us(url: str, n: int, check: bool) -> float:
    options = {"check": AsyncConnectionPool.check_connection} if check else {}
    async with AsyncConnectionPool(url, min_size=1, max_size=1, kwargs={"autocommit": True}, **options) as pool:
        for _ in range(50):  # warm up
            async with pool.connection() as conn:
                await conn.execute("SELECT 1")
        t0 = time.perf_counter()
        for _ in range(n):
            async with pool.connection() as conn:
                await conn.execute("SELECT 1")
        return (time.perf_counter() - t0) / n * 1e6


async def recovery_s(cluster: Cluster, url: str) -> float:
    async with AsyncConnectionPool(url, min_size=1, max_size=4, timeout=60, kwargs={"autocommit": True},
                                   check=AsyncConnectionPool.check_connection) as pool:
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")
        cluster.down()
        await asyncio.to_thread(cluster.up)
        t0 = time.perf_counter()
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")
        return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="connections per login kind (pooled queries: x50)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kotaku-bench-logins-") as folder:
        cluster = Cluster(var_dir=Path(folder) / "var", database="kotaku_bench", fast=True)
        cluster.up()
        try:
            owner, app = cluster.url(), cluster.app_url()
            migrate(owner)
            role = app_role_kwargs(owner, APP_ROLE)
            switch = per_call_ms(lambda: psycopg.connect(owner, **role).close(), args.n)
            own = per_call_ms(lambda: psycopg.connect(app).close(), args.n)
            print(f"new connection, owner switching role: p50 {switch[0]:.2f} ms, p99 {switch[1]:.2f} ms")
            print(f"new connection, app's own login:      p50 {own[0]:.2f} ms, p99 {own[1]:.2f} ms "
                  f"(ratio {own[0] / switch[0]:.2f})")
            plain = asyncio.run(pooled_us(app, args.n * 50, check=False))
            checked = asyncio.run(pooled_us(app, args.n * 50, check=True))
            print(f"pooled SELECT 1: {plain:.0f} us without the check, {checked:.0f} us with it "
                  f"(+{checked - plain:.0f} us a request)")
            at_head = per_call_ms(lambda: migrate(owner), 20)
            with psycopg.connect(owner, autocommit=True) as conn:
                probe = per_call_ms(lambda: ensure_app_login(conn, owner), 20)
            print(f"migrate() at head: p50 {at_head[0]:.1f} ms, of which the app login probe p50 {probe[0]:.1f} ms")
            print(f"a pooled request after pg_ctl stop + start: {asyncio.run(recovery_s(cluster, app)):.2f} s "
                  "until it succeeds (after the server is up)")
        finally:
            cluster.destroy()


if __name__ == "__main__":
    main()
