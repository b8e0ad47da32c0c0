"""Server memory under parallel exports: peak RSS of a real `kotaku serve` (one worker, as `make run`) while
`--parallel` clients download keterpaduan exports of Kota Medan (the demo) at once, one format each in turn
(pdf, png, gpkg, xlsx, html, shp, kml, geojson, csv, kmz).

    .venv/bin/python bench/exports_memory.py [--parallel 12]

Three runs, each a fresh server on the private cluster's `kotaku_bench_exports` database:
  unbounded   KOTAKU_EXPORT_CONCURRENCY=parallel (every export at once: how the server behaved before the limit)
  queued      the default slots (2) with a long wait (KOTAKU_EXPORT_WAIT_S=300): all succeed, two at a time
  default     the default slots (2) and wait (5 s): the excess answered 503 + Retry-After
RSS is read from /proc/<pid>/status (VmRSS) every 20 ms. Prints idle RSS, peak RSS, answers by status and seconds.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.db.cluster import Cluster  # noqa: E402

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
FORMATS = ("pdf", "png", "gpkg", "xlsx", "html", "shp", "kml", "geojson", "csv", "kmz")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def run(label: str, env: dict[str, str], parallel: int) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([KOTAKU, "serve", "--port", str(port), "--no-access-log"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        httpx.get(f"{base}/exports/keterpaduan.csv", params={"tenant": "12.71"}, timeout=300)  # warm imports
        time.sleep(1)
        idle = rss_mb(server.pid)
        peak = idle
        stop = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, rss_mb(server.pid))
                time.sleep(0.02)

        answers: dict[int, int] = {}
        lock = threading.Lock()

        def download(number: int) -> None:
            fmt = FORMATS[number % len(FORMATS)]
            try:
                status = httpx.get(f"{base}/exports/keterpaduan.{fmt}", params={"tenant": "12.71"},
                                   timeout=600).status_code
            except httpx.TransportError:
                status = 0
            with lock:
                answers[status] = answers.get(status, 0) + 1

        watcher = threading.Thread(target=watch)
        watcher.start()
        started = time.perf_counter()
        clients = [threading.Thread(target=download, args=(n,)) for n in range(parallel)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(timeout=900)
        seconds = time.perf_counter() - started
        time.sleep(0.5)
        stop.set()
        watcher.join()
        print(f"{label:10s} idle {idle:6.0f} MB  peak {peak:6.0f} MB  (+{peak - idle:5.0f} MB)  {seconds:6.1f} s  "
              "answers: " + ", ".join(f"{status or 'no answer'} x{n}" for status, n in sorted(answers.items())),
              flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parallel", type=int, default=12)
    options = parser.parse_args()
    cluster = Cluster(database="kotaku_bench_exports")
    cluster.up()
    env = {**os.environ, "DATABASE_URL": cluster.url()}
    subprocess.run([KOTAKU, "demo", "--if-empty"], env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"{options.parallel} parallel exports of Kota Medan (demo), server peak RSS (VmRSS):")
    run("unbounded", {**env, "KOTAKU_EXPORT_CONCURRENCY": str(options.parallel), "KOTAKU_EXPORT_WAIT_S": "600"},
        options.parallel)
    run("queued", {**env, "KOTAKU_EXPORT_WAIT_S": "300"}, options.parallel)
    run("default", env, options.parallel)


if __name__ == "__main__":
    main()
