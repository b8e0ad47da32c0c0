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


_NAMES: dict[str, Path] = {}  # base URL -> varnishd -n folder, for varnishstat


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


def round_robin(text: str, ports: list[int]) -> str:
    """The VCL with one backend per API host (the shipped `alive` probe each, so a stopped host is left out) and a
    round-robin director, as docs/scaling.md describes for several hosts."""
    start = text.index("backend default {")
    end = text.index("}\n", start) + 2
    backends = "".join(
        f'backend host{i} {{\n    .host = "127.0.0.1";\n    .port = "{port}";\n    .connect_timeout = 2s;\n'
        f'    .first_byte_timeout = 60s;\n    .probe = alive;\n}}\n' for i, port in enumerate(ports))
    init = ("import directors;\n\nsub vcl_init {\n    new hosts = directors.round_robin();\n"
            + "".join(f"    hosts.add_backend(host{i});\n" for i in range(len(ports))) + "}\n")
    text = text[:start] + backends + "\n" + init + text[end:]
    return text.replace("sub vcl_recv {\n", "sub vcl_recv {\n    set req.backend_hint = hosts.backend();\n", 1)


def varnishstat(base: str) -> dict[str, int]:
    """MAIN counters of the Varnish at `base` (cache_hit, cache_miss, ...)."""
    import json

    out = subprocess.run(["varnishstat", "-n", str(_NAMES[base]), "-1", "-j"], capture_output=True, text=True,
                         check=True).stdout
    counters = json.loads(out)
    counters = counters.get("counters", counters)
    return {name.split(".", 1)[1]: int(value["value"]) for name, value in counters.items()
            if name.startswith("MAIN.") and isinstance(value, dict) and "value" in value}


@contextmanager
def varnish(backend: str | list[str], *, shared_ttl_s: float | None = None, memory: str = "64m",
            port: int | None = None) -> Iterator[str]:
    """varnishd -F on loopback `port` (a free one when None) in front of `backend` (http://127.0.0.1:PORT); yields
    its base URL. Choose the port first to give the origin its KOTAKU_CACHE_PURGE_URLS."""
    workdir = Path(tempfile.mkdtemp(prefix="kotaku-varnish-"))
    vcl = workdir / "kotaku.vcl"
    backends = [backend] if isinstance(backend, str) else backend
    text = vcl_for(int(backends[0].rsplit(":", 1)[1]), shared_ttl_s)
    if len(backends) > 1:
        text = round_robin(text, [int(b.rsplit(":", 1)[1]) for b in backends])
    vcl.write_text(text)
    workdir.chmod(0o755)  # as root, varnishd reads the VCL as its own unprivileged user
    vcl.chmod(0o644)
    port = port or free_port()
    process = subprocess.Popen([VARNISHD, "-F", "-a", f"127.0.0.1:{port}", "-f", str(vcl), "-n", str(workdir / "n"),
                                "-s", f"malloc,{memory}", "-p", "default_keep=0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    _NAMES[base] = workdir / "n"
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
