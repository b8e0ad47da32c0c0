"""Screenshots of the pages with their basemap, at the kab/kota view and at street zoom, on a desktop (1280x800) and
a phone (390x844), for people to look at (never compared by a test).

    .venv/bin/python bench/screenshots.py [--out artifacts/screenshots]

Over DATABASE_URL, else the dev cluster's database (`kotaku demo --if-empty` first: Kota Medan 12.71 with slum
areas and activities, Kota Jakarta Pusat 31.71 with its OpenStreetMap basemap). Starts `kotaku serve` on a free
loopback port and Debian's Chromium through Playwright; every request that would leave the machine is aborted and
counted. Prints each file written, with the names MapLibre placed (street zoom) or the names' PNG tiles drawn (below
it), and any console error.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
KOTAKU = str(Path(sys.executable).with_name("kotaku"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MONAS = (106.8272, -6.1754)
# (name, path, street view (lon, lat) or None for a page without a map)
PAGES = [("peta", "/peta?tenant=31.71", MONAS), ("usulan", "/peta/usulan?tenant=31.71", MONAS),
         ("keterpaduan", "/peta/keterpaduan?tenant=31.71", MONAS), ("peta-medan", "/peta?tenant=12.71", (98.675, 3.60)),
         ("publik", "/publik?tenant=12.71", None)]
VIEWPORTS = {"desktop": {"viewport": {"width": 1280, "height": 800}},
             "ponsel": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
                        "device_scale_factor": 2}}
STREET_ZOOM = 16
READY = "() => window.kotakuBasemap && kotakuBasemap.ground && kotakuBasemap.ready()"
LAYERS_LOADED = "() => Object.values(kotaku.refs).every(l => !l.isLoading || !kotaku.map.hasLayer(l) || !l.isLoading())"
STATE = """() => { const m = kotaku.map, c = m.getCenter(); return JSON.stringify({
    leaflet: [m.getZoom(), c.lng.toFixed(6), c.lat.toFixed(6)], styled: kotakuBasemap.styled,
    drawn: Object.keys(kotakuBasemap.layers).map(k => kotakuBasemap.layers[k]._kotakuDrawn),
    loading: Object.keys(kotaku.refs).filter(k => kotaku.refs[k].isLoading && kotaku.refs[k].isLoading())}); }"""
PLACED = """() => kotakuBasemap.names.vector() ? kotakuBasemap.gl('labels').queryRenderedFeatures().reduce((n, f) => {
    n[f.layer.id] = (n[f.layer.id] || 0) + 1; return n; }, {}) : {'PNG tiles of names':
    document.querySelectorAll('.kotaku-peta-dasar-labels img.leaflet-tile-loaded').length}"""


def database_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    sys.path.insert(0, str(ROOT))
    from layers.db.cluster import Cluster

    cluster = Cluster()
    cluster.up()
    subprocess.run([KOTAKU, "demo", "--if-empty"], check=True, stdout=subprocess.DEVNULL)
    return cluster.url()


def serve(url: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([KOTAKU, "serve", "--port", str(port), "--no-access-log"],
                               env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("kotaku serve did not start")


def settle(page, with_map: bool) -> dict:
    if not with_map:
        page.wait_for_load_state("networkidle")
        return {}
    try:
        page.wait_for_function(READY, timeout=60_000)
        page.wait_for_function(LAYERS_LOADED, timeout=60_000)
    except PlaywrightTimeout:  # shot anyway, and said
        print("  NOT READY after 60 s:", page.evaluate(STATE))
    page.wait_for_timeout(400)  # VectorGrid paints on the next frames
    return page.evaluate(PLACED)


def shoot(browser, base: str, out: Path, name: str, path: str, street, viewport: str) -> None:
    context = browser.new_context(locale="id-ID", **VIEWPORTS[viewport])
    outside: list[str] = []
    errors: list[str] = []

    def route(r):
        if r.request.url.startswith((base + "/", "data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + path)
    views = [("kota", None)] + ([("jalan", street)] if street else [])
    for view, centre in views:
        if centre:
            page.evaluate(f"void kotaku.map.setView([{centre[1]}, {centre[0]}], {STREET_ZOOM}, {{animate: false}})")
        placed = settle(page, street is not None)
        file = out / f"{name}-{viewport}-{view}.png"
        page.screenshot(path=str(file))
        zoom = page.evaluate("kotaku.map.getZoom()") if street else "-"
        print(f"{file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}: zoom {zoom}, labels {placed}")
    if outside or errors:
        print(f"  {name} {viewport}: {len(outside)} requests off this machine aborted, console errors: {errors}")
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "screenshots")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    process, base = serve(database_url())
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for name, path, street in PAGES:
                for viewport in VIEWPORTS:
                    shoot(browser, base, args.out, name, path, street, viewport)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
