"""A rehearsal of kotaku past one machine, on this machine (issue 14 item 6): faults under a bounded load.

    .venv/bin/python bench/scale.py [--phase-seconds 8] [--threads 8] [--restart-first]

Starts, all on loopback: a private PostgreSQL primary (fsync and synchronous_commit on) with the Medan demo, a
streaming replica of it (pg_basebackup -R), PgBouncer in transaction mode in front of the primary, two `kotaku
serve` hosts and Varnish with one backend per host (health-probed, round-robin director). The hosts: migrations as
the owner straight to the primary, the app's own login through PgBouncer (writes), reads on the replica
(KOTAKU_DATABASE_READ_URL), bans to Varnish (KOTAKU_CACHE_PURGE_URLS). A kepling user and its bearer token are made
with `kotaku user add` / `kotaku user token`.

Load: THREADS threads, each request one of: a public tile (60 %), a public page of items (25 %) through Varnish,
or a proposal (15 %: POST /collections/activities/items with the bearer token, a new short road each) through
Varnish to a host. Phases of PHASE_SECONDS each, every loop bounded by count and time:
  1 steady
  2 replica killed (pg_ctl stop -m immediate at the start of the phase)
  3 primary restarted (-m immediate: a crash, then start) at the start of the phase
  4 one API host stopped at the start of the phase
  5 the replica started again (it catches up by streaming), still one host
With --restart-first, phases 2 and 3 swap: the primary restarts while the replica runs, then the replica dies.
Prints per phase: requests, statuses, p50/p99, Varnish hit ratio, answers served stale (X-Cache: STALE), replica
lag, and which requests got a 5xx or no answer; then checks that every acknowledged proposal (201) is in the
primary, and that no answer was a 5xx other than 503.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import morecantile
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.db.cluster import Cluster  # noqa: E402
from layers.db.connection import APP_ROLE, app_password  # noqa: E402
from tests.e2e.pgbouncer import pgbouncer  # noqa: E402
from tests.e2e.servers import free_port, stop, wait_healthy  # noqa: E402
from tests.e2e.varnish import varnish, varnishstat  # noqa: E402

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
MAX_REQUESTS_PER_THREAD_PHASE = 20_000  # a bound besides the time
PHASES = ("1 steady", "2 replica killed", "3 primary restarted", "4 one API host stopped", "5 replica back")
# --restart-first: the primary restarts while the replica still runs (reads can go on there), then the replica dies
PHASES_RESTART_FIRST = ("1 steady", "2 primary restarted", "3 replica killed", "4 one API host stopped",
                        "5 replica back")


def run(command: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    return subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, check=True).stdout


def tile_paths(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        west, south, east, north = conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM slum_areas) s"
        ).fetchone()
    tms = morecantile.tms.get("WebMercatorQuad")
    return [f"/tiles/{c}/{t.z}/{t.x}/{t.y}.pbf" for z in (12, 13, 14) for t in tms.tiles(west, south, east, north, [z])
            for c in ("slum-areas", "activities")]


def kepling_place(url: str) -> tuple[str, list[tuple[float, float]]]:
    """A kelurahan of Medan and 2,000 seeded points inside it (starts of new roads)."""
    with psycopg.connect(url) as conn:
        conn.execute("SELECT setseed(0.42)")
        code, = conn.execute("SELECT code FROM regions WHERE level = 'desa_kelurahan' AND tenant = '12.71' "
                             "ORDER BY area_ha DESC LIMIT 1").fetchone()
        points = conn.execute("SELECT ST_X(g), ST_Y(g) FROM (SELECT (ST_Dump(ST_GeneratePoints(ST_Buffer(geom, "
                              "-0.001), 2000, 42))).geom g FROM regions WHERE code = %s) p", [code]).fetchall()
    return code, points


class Load:
    def __init__(self, base: str, token: str, tiles: list[str], spots: list[tuple[float, float]]):
        self.base, self.token, self.tiles, self.spots = base, token, tiles, spots
        self.lock = threading.Lock()
        self.results: list[tuple[str, str, int, float, bool]] = []  # (phase, kind, status, seconds, stale)
        self.acknowledged: list[int] = []
        self.titles = 0

    def proposal(self) -> dict:
        with self.lock:
            self.titles += 1
            n = self.titles
        lon, lat = self.spots[n % len(self.spots)]
        road = {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.0003, lat]]}
        return {"type": "Feature", "geometry": road, "properties": {
            "title": f"Latihan skala {n}", "kind": "jalan_paving", "year_start": 2025 + n % 3, "program": "REGULER",
            "funding_source": "APBD_KABKOTA", "proposer_area": "Lingkungan 01", "proposer_name": "Uji",
            "proposer_phone": "0812000000", "target_agency": "Dinas Perkim"}}

    def worker(self, phase: str, until: float, seed: int) -> None:
        rng = random.Random(seed)
        bearer = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, timeout=30) as client:
            for _ in range(MAX_REQUESTS_PER_THREAD_PHASE):
                if time.monotonic() >= until:
                    return
                pick = rng.random()
                kind = "tile" if pick < 0.60 else "page" if pick < 0.85 else "proposal"
                started = time.monotonic()
                stale = False
                try:
                    if pick < 0.85:
                        answer = (client.get(rng.choice(self.tiles)) if pick < 0.60 else
                                  client.get("/collections/activities/items",
                                             params={"limit": 20, "offset": rng.randrange(0, 300)}))
                        status, stale = answer.status_code, answer.headers.get("x-cache") == "STALE"
                    else:
                        answer = client.post("/collections/activities/items", json=self.proposal(), headers=bearer)
                        status = answer.status_code
                        if status == 201:
                            with self.lock:
                                self.acknowledged.append(int(answer.json()["id"]))
                except httpx.TransportError:
                    status = 0  # no answer at all (connection refused or reset)
                with self.lock:
                    self.results.append((phase, kind, status, time.monotonic() - started, stale))

    def phase(self, name: str, seconds: float, threads: int) -> None:
        until = time.monotonic() + seconds
        pool = [threading.Thread(target=self.worker, args=(name, until, i * 7919 + len(name)))
                for i in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(timeout=seconds + 60)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def replica_lag(primary: str, replica_port: int | None, replica_url: str) -> str:
    if replica_port is None:
        return "replica down"
    try:
        with psycopg.connect(primary, connect_timeout=3) as p, psycopg.connect(replica_url, connect_timeout=3) as r:
            current = p.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
            behind = r.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())::bigint",
                               [current]).fetchone()[0]
            return f"{max(0, behind):,} bytes behind"
    except psycopg.Error as error:
        return f"not measured ({str(error).strip().splitlines()[0][:60]})"


def postmaster_start(url: str) -> str:
    with psycopg.connect(url, connect_timeout=10) as conn:
        return str(conn.execute("SELECT pg_postmaster_start_time()::time(0)").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase-seconds", type=float, default=8)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--restart-first", action="store_true",
                        help="restart the primary in phase 2, while the replica runs; kill the replica in phase 3")
    args = parser.parse_args()
    phases = PHASES_RESTART_FIRST if args.restart_first else PHASES
    var = Path(tempfile.mkdtemp(prefix="kotaku-scale-"))
    cluster = Cluster(var_dir=var, database="kotaku")
    cluster.up()
    primary = cluster.url()
    env = {**os.environ, "DATABASE_URL": primary, "KOTAKU_LOG_LEVEL": "WARNING"}
    print(f"primary on port {cluster.status().port}; loading the demo ...", flush=True)
    run([KOTAKU, "demo", "--if-empty"], env)
    code, spots = kepling_place(primary)
    run([KOTAKU, "user", "add", "kepling.skala", "--role", "kepling", "--area", f"{code}/Lingkungan 01",
         "--password-stdin"], env, stdin="kata-sandi-latihan-123\n")
    token = run([KOTAKU, "user", "token", "kepling.skala", "--label", "bench/scale.py"], env).strip().split()[-1]
    replica = cluster.start_replica()
    tiles = tile_paths(primary)
    processes = []
    try:
        with pgbouncer(primary) as bounced:
            cache_port = free_port()
            ports = [free_port(), free_port()]
            # the owner (migrations at start) straight to the primary, the app's own login through PgBouncer
            # (docs/scaling.md: a migration's prepared statements would collide there)
            owner_password = str(conninfo_to_dict(primary)["password"])
            app_login = make_conninfo(bounced, user=APP_ROLE, password=app_password(owner_password, APP_ROLE))
            host_env = {**os.environ, "DATABASE_URL": primary, "KOTAKU_APP_DATABASE_URL": app_login,
                        "KOTAKU_DATABASE_READ_URL": replica,
                        "KOTAKU_PREPARE_THRESHOLD": "none", "KOTAKU_POOL_TIMEOUT_S": "5",
                        "KOTAKU_CACHE_PURGE_URLS": f"http://127.0.0.1:{cache_port}", "KOTAKU_LOG_LEVEL": "WARNING",
                        "KOTAKU_ATTACHMENTS": str(var / "files")}
            for port in ports:  # output to a file: a pipe nobody reads would stall a host that logs much
                log = open(var / f"serve-{port}.log", "w")  # noqa: SIM115 (closed with the process)
                processes.append(subprocess.Popen([KOTAKU, "serve", "--port", str(port), "--no-access-log"],
                                                  env=host_env, stdout=log, stderr=subprocess.STDOUT, text=True))
            for port, process in zip(ports, processes, strict=True):
                if process.poll() is None:
                    with contextlib.suppress(AttributeError):  # exited: its log says why
                        wait_healthy(port, process)
                if process.poll() is not None:
                    raise SystemExit(f"kotaku serve on {port} exited: {(var / f'serve-{port}.log').read_text()}")
            hosts = [f"http://127.0.0.1:{port}" for port in ports]
            with varnish(hosts, port=cache_port, memory="256m") as cache:
                where = conninfo_to_dict(bounced)
                print(f"PgBouncer :{where['port']}, replica {replica.split('@')[-1]}, hosts {ports}, "
                      f"Varnish :{cache_port}; {len(tiles)} tiles; {args.threads} threads x "
                      f"{args.phase_seconds:g} s per phase", flush=True)
                load = Load(cache, token, tiles, spots)
                lags = {}
                stats = {}
                for name in phases:
                    if "replica killed" in name:
                        cluster.stop_replica(mode="immediate")
                    elif "primary restarted" in name:
                        started_at = postmaster_start(primary)
                        threading.Thread(target=cluster.restart, kwargs={"mode": "immediate"}).start()
                    elif "host stopped" in name:
                        stop(processes[1])
                    elif "replica back" in name:
                        cluster.start_replica()  # same port: the hosts' replica pools reconnect to it
                    before = varnishstat(cache)
                    load.phase(name, args.phase_seconds, args.threads)
                    after = varnishstat(cache)
                    stats[name] = (after["cache_hit"] - before["cache_hit"], after["cache_miss"] - before["cache_miss"])
                    lags[name] = replica_lag(primary, cluster.replica_port(), replica)
                    if "primary restarted" in name:
                        print(f"primary restarted: postmaster started {started_at} before, "
                              f"{postmaster_start(primary)} after", flush=True)
                report(load, stats, lags, primary, args.phase_seconds, phases)
    finally:
        for process in processes:
            if process.poll() is None:
                stop(process)
        cluster.stop_replica(mode="immediate")
        cluster.destroy()


def report(load: Load, stats: dict, lags: dict, primary: str, phase_seconds: float, phases: tuple[str, ...]
           ) -> None:
    by_phase: dict[str, list[tuple[int, float, bool]]] = collections.defaultdict(list)
    failed: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for phase, kind, status, took, was_stale in load.results:
        by_phase[phase].append((status, took, was_stale))
        if status >= 500 or status == 0:
            failed[phase][kind] += 1
    print(f"\n{'phase':24} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'hit ratio':>9} {'stale':>6}  "
          "statuses; replica lag after")
    bad = 0
    for name in phases:
        rows = by_phase[name]
        statuses = collections.Counter(status for status, _, _ in rows)
        bad += sum(count for status, count in statuses.items() if status >= 500 and status != 503)
        hits, misses = stats[name]
        ratio = hits / (hits + misses) if hits + misses else float("nan")
        seconds = [s for _, s, _ in rows]
        stale = sum(1 for _, _, was_stale in rows if was_stale)  # answers Varnish served past their ttl (X-Cache)
        print(f"{name:24} {len(rows):8,} {len(rows) / phase_seconds:7.0f} "
              f"{percentile(seconds, 0.5):8.1f} {percentile(seconds, 0.99):8.1f} {ratio:9.2f} {stale:6}  "
              + "  " + ", ".join(f"{status or 'no answer'}: {count}" for status, count in sorted(statuses.items()))
              + f"; {lags[name]}")
    for name in phases:
        if failed[name]:
            print(f"  {name}: 5xx or no answer by request: "
                  + ", ".join(f"{kind} {count}" for kind, count in sorted(failed[name].items())))
    with psycopg.connect(primary) as conn:
        found = {row[0] for row in conn.execute("SELECT id FROM activities WHERE id = ANY(%s)",
                                                [load.acknowledged]).fetchall()}
    lost = sorted(set(load.acknowledged) - found)
    print(f"\nacknowledged proposals (201): {len(load.acknowledged)}, in the primary afterwards: {len(found)}, "
          f"lost: {len(lost)}{' ' + str(lost[:10]) if lost else ''}")
    print(f"5xx answers other than 503: {bad}")
    print("GOALS MET" if not lost and not bad else "GOALS NOT MET")


if __name__ == "__main__":
    main()
