"""The TCP_NODELAY pitfall of `uvicorn --workers N` (DESIGN.md; Kludex/uvicorn#3149), measured with wrk.

    .venv/bin/python bench/nodelay.py

The kotaku app runs under uvicorn's multi-process supervisor with 2 workers and the plain asyncio loop (uvloop
sets TCP_NODELAY itself and would hide the difference), once on the socket uvicorn binds (`--workers` path) and
once on the socket `kotaku serve` binds (api/server.py). One keep-alive connection asks /conformance again and
again: on uvicorn's socket each answer waits ~40 ms for the client's delayed ACK, on ours it does not.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def serve(mode: str, port: int) -> None:
    """Child process: the app under uvicorn's supervisor on uvicorn's socket ('uvicorn') or ours ('kotaku')."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from api.server import listening_socket

    config = uvicorn.Config("api.server:app_from_environment", factory=True, host="127.0.0.1", port=port,
                            workers=2, loop="asyncio", log_level="warning", access_log=False)
    sock = listening_socket("127.0.0.1", port) if mode == "kotaku" else config.bind_socket()
    Multiprocess(config, sockets=[sock]).run()


def keep_alive_p50_ms(database_url: str, mode: str, seconds: int = 3) -> float:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url}
    process = subprocess.Popen([sys.executable, __file__, "--serve", mode, str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        out = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}/conformance"],
                             capture_output=True, text=True, check=True).stdout
        value, unit = re.search(r" 50%\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    from bench.tiles_data import bench_url

    url = bench_url()
    for mode in ("uvicorn", "kotaku"):
        print(f"  --workers 2, asyncio loop, socket bound by {mode:8}: p50 {keep_alive_p50_ms(url, mode):7.2f} ms")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        main()
