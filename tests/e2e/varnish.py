"""A real Varnish (Debian `varnish`, installed by `make test`) on loopback in front of a `kotaku serve`, from
deploy/varnish/kotaku.vcl; for tests and bench/ scripts."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.servers import free_port

VCL = Path(__file__).resolve().parents[2] / "deploy" / "varnish" / "kotaku.vcl"
VARNISHD = shutil.which("varnishd") or "/usr/sbin/varnishd"
BACKEND_PORT = '.port = "8000";'
SHARED_TTL = "set beresp.ttl = 1h;  # SHARED_TTL"


def available() -> bool:
    return Path(VARNISHD).exists()


def vcl_for(backend_port: int, shared_ttl_s: float | None = None) -> str:
    """The shipped VCL with its backend on `backend_port` (and tagged objects served unasked for `shared_ttl_s`
    instead of the shipped hour: 0.001 revalidates every request)."""
    text = VCL.read_text()
    assert BACKEND_PORT in text and SHARED_TTL in text, "deploy/varnish/kotaku.vcl changed: update tests/e2e/varnish.py"
    text = text.replace(BACKEND_PORT, f'.port = "{backend_port}";')
    if shared_ttl_s is None:
        return text
    return text.replace(SHARED_TTL, f"set beresp.ttl = {shared_ttl_s * 1000:g}ms;  # SHARED_TTL")


@contextmanager
def varnish(backend: str, *, shared_ttl_s: float | None = None, memory: str = "64m",
            port: int | None = None) -> Iterator[str]:
    """varnishd -F on loopback `port` (a free one when None) in front of `backend` (http://127.0.0.1:PORT); yields
    its base URL. Choose the port first to give the origin its KOTAKU_CACHE_PURGE_URLS."""
    workdir = Path(tempfile.mkdtemp(prefix="kotaku-varnish-"))
    vcl = workdir / "kotaku.vcl"
    vcl.write_text(vcl_for(int(backend.rsplit(":", 1)[1]), shared_ttl_s))
    workdir.chmod(0o755)  # as root, varnishd reads the VCL as its own unprivileged user
    vcl.chmod(0o644)
    port = port or free_port()
    process = subprocess.Popen([VARNISHD, "-F", "-a", f"127.0.0.1:{port}", "-f", str(vcl), "-n", str(workdir / "n"),
                                "-s", f"malloc,{memory}", "-p", "default_keep=0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"varnishd exited: {process.stdout.read() if process.stdout else ''}")
            try:
                httpx.get(base + "/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
