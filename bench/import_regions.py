"""Import speed: `kotaku import regions` against `ogr2ogr -f PostgreSQL`, same file, same server, one run.

    .venv/bin/python bench/import_regions.py [FILE] [--repeat N] [--no-national]

Default FILE: ../shared/data/bench/desa_kel_jawa_timur.gpkg (8,492 desa, 0.8 M vertices). ogr2ogr only copies
(COPY into a new table, GiST index); kotaku also validates and repairs every geometry, checks codes and computes
geodesic areas. Prints the median of N runs of each, and the ratio. Then the same on a national-size file built
from it (83,762 desa: the Jawa Timur desa copied ten times with new province codes and shifted across the
archipelago, cached in var/bench/). Goal: the CLI (`kotaku import regions FILE`, what a user runs, start-up
included) within 1.5x of ogr2ogr on the national-size file.

Beside the wall-clock seconds, each line gives the CPU seconds spent by the client (ogr2ogr, the CLI with its
threads, or this process) and by the database server (every process of the cluster, the backends that served
the import included): on a machine shared with other work, wall-clock times stretch with the load while CPU
seconds hardly move. The server column needs the server on this machine (it reads /proc); else it shows "-".
"""

from __future__ import annotations

import argparse
import os
import resource
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
NATIONAL_DESA = 83_762
# (province code, lon shift, lat shift) of each copy: all inside Indonesia's extent
COPIES = [("35", 0, 0), ("11", -14, 8), ("12", -14, 0), ("13", -8, 0), ("14", -8, 8), ("16", 6, 0),
          ("51", 6, 8), ("61", 12, 0), ("73", 18, 0), ("91", 24, 0)]


def national_file(source: Path) -> Path:
    """83,762 desa from the Jawa Timur file: copies with new codes (PP.KK.CC.DDDD, PP from COPIES), shifted."""
    import pandas as pd
    import pyogrio
    import shapely

    target = ROOT / "var" / "bench" / f"desa_national_{NATIONAL_DESA}.gpkg"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    frame = pyogrio.read_dataframe(source)
    parts, left = [], NATIONAL_DESA
    for province, dx, dy in COPIES:
        part = frame.iloc[: min(left, len(frame))].copy()
        left -= len(part)
        part["kode"] = province + part["kode"].str[2:]
        part["kode_prov"] = province
        part["geometry"] = shapely.transform(part.geometry.values, lambda xy, dx=dx, dy=dy: xy + (dx, dy))
        parts.append(part)
        if left <= 0:
            break
    national = pd.concat(parts, ignore_index=True)
    pyogrio.write_dataframe(national.set_geometry("geometry", crs=frame.crs), target, layer="desa_kel")
    return target


def bench_database() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    cluster = Cluster(database="kotaku_bench")
    cluster.up()
    return cluster.url()


class ServerCpu:
    """CPU seconds of a local cluster: its postmaster, live children and the children it has reaped (exited
    backends count there once the postmaster has waited for them)."""

    def __init__(self, url: str) -> None:
        self.postmaster: int | None = None
        try:
            with psycopg.connect(url) as conn:
                data = conn.execute("SHOW data_directory").fetchone()[0]
            self.postmaster = int((Path(data) / "postmaster.pid").read_text().split()[0])
        except (psycopg.Error, OSError, ValueError):  # not superuser, or not on this machine
            self.postmaster = None

    def seconds(self) -> float | None:
        if self.postmaster is None:
            return None
        time.sleep(0.3)  # let the postmaster reap the backend that just closed
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if pid == self.postmaster:
                total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
            elif ppid == self.postmaster:
                total += int(fields[11]) + int(fields[12])
        return total / tick


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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


def _cpu(server: ServerCpu, timed, *args):
    """(timed(*args), client CPU s, server CPU s or None): client = this process and its waited-for children."""
    client, served = time.process_time() + _children_cpu(), server.seconds()
    result = timed(*args)
    after = server.seconds()
    return result, time.process_time() + _children_cpu() - client, None if served is None else after - served


def _cpu_text(client: list[float], server: list[float | None]) -> str:
    served = "-" if None in server else f"{statistics.median(s for s in server if s is not None):5.2f}"
    return f"cpu client {statistics.median(client):5.2f} s + server {served} s"


def run(url: str, path: Path, repeat: int) -> float:
    """Times ogr2ogr, the import function and the CLI on one file; prints them; returns the CLI ratio."""
    server = ServerCpu(url)
    ogr, function, cli, written = [], [], [], 0
    cpu: dict[str, tuple[list[float], list[float | None]]] = {name: ([], []) for name in ("ogr", "fn", "cli")}
    for _ in range(repeat):
        seconds, client, served = _cpu(server, time_ogr2ogr, url, path)
        ogr.append(seconds)
        cpu["ogr"][0].append(client)
        cpu["ogr"][1].append(served)
        (seconds, written), client, served = _cpu(server, time_kotaku_function, url, path)
        function.append(seconds)
        cpu["fn"][0].append(client)
        cpu["fn"][1].append(served)
        seconds, client, served = _cpu(server, time_kotaku_cli, url, path)
        cli.append(seconds)
        cpu["cli"][0].append(client)
        cpu["cli"][1].append(served)
    ogr_s, fn_s, cli_s = (statistics.median(x) for x in (ogr, function, cli))
    print(f"file: {path.name}  features written by kotaku: {written}  runs: {repeat} (median)  "
          f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  ogr2ogr -f PostgreSQL          {ogr_s:7.3f} s                         {_cpu_text(*cpu['ogr'])}")
    print(f"  kotaku import (in process)     {fn_s:7.3f} s   ratio {fn_s / ogr_s:5.2f}x ogr2ogr   "
          f"{_cpu_text(*cpu['fn'])}")
    print(f"  kotaku import regions (CLI)    {cli_s:7.3f} s   ratio {cli_s / ogr_s:5.2f}x ogr2ogr   "
          f"{_cpu_text(*cpu['cli'])}")
    print("  (the CLI includes Python start-up and the migration check; cpu: client process and threads, server: "
          "the whole cluster)")
    return cli_s / ogr_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-national", action="store_true", help="skip the national-size file")
    args = parser.parse_args()
    if not args.file.exists():
        sys.exit(f"{args.file} not found (the default needs ../shared/data)")
    url = bench_database()
    migrate(url)
    ratios = {args.file.name: run(url, args.file, args.repeat)}
    if not args.no_national:
        national = national_file(args.file)
        ratios[national.name] = run(url, national, args.repeat)
    print("CLI ratios: " + ", ".join(f"{name} {ratio:.2f}x" for name, ratio in ratios.items()))
    last = list(ratios.values())[-1]
    print(f"goal: CLI within {GOAL}x of ogr2ogr on {list(ratios)[-1]}: {'met' if last <= GOAL else 'NOT met'}")
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_ogr2ogr")
        conn.execute("TRUNCATE regions CASCADE")


if __name__ == "__main__":
    main()
