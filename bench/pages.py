"""The pages at national scale: /peta and /peta/keterpaduan in headless Chromium over 50,000 slum areas and
1,000,000 activities, against the peer a page would be without tiles: the kab/kota's layers inline as GeoJSON.

    DATABASE_URL=... .venv/bin/python bench/pages.py [--tenant 35.24] [--goal [--warm-server] [--runs 3]]

The data is bench/tiles_data.py's (DATABASE_URL, or the database kotaku_bench_pages of the dev cluster, filled with
`DATABASE_URL=<its url> .venv/bin/python bench/tiles_data.py`; `bench/pages.py --drop` drops it afterwards).
The page draws the bench kab/kota's layers only (its tiles carry `?tenant=`, as every kab/kota's /peta does).
Starts `kotaku serve` on a free loopback port and Debian's Chromium through Playwright, each view in a fresh
browser context (cold cache). Prints per view the seconds until every visible tile is drawn (the page's layers
and the basemap under them, names included: the server's PNG tiles, and MapLibre's names from street zoom on; by
the page's clock, from the navigation or the action, with the driver's wall time beside), the requests and bytes it
took, the JS heap;
the city view and the street view against the goal of GOAL_S each (with --goal, each judged on the median of
--runs cold passes, with and without the basemap in turn, and also the city view when the layers' tiles are
empty: what the page costs without data); then the bytes of the inline peer and the ratio, measured in this run.

The basemap: no OpenStreetMap extract of Jawa Timur (where the synthetic data lies) is at hand, so the first run
imports the OSM roads (18,574) and buildings (7,689) of DKI Jakarta from ../shared/data/osm/jakarta (InaSAFE
test data, OSM ~2012, ODbL) with `kotaku basemap import`, moved as a whole so that their centre lies on the bench
kab/kota's densest kelurahan: real street density and real names, at a made-up place (the kelurahan and
kecamatan names are the real ones of regions). Later runs reuse it.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.db.cluster import Cluster  # noqa: E402

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
DATABASE = "kotaku_bench_pages"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOADED = ("keys => keys.every(k => !kotaku.refs[k] || !kotaku.map.hasLayer(kotaku.refs[k]) "
          "|| !kotaku.refs[k].isLoading()) && window.kotakuBasemap && kotakuBasemap.ready()")
# The page's own clock: from the navigation (or the action) until everything is loaded, checked every 20 ms, and
# two frames later (drawn). Playwright's polling can see it seconds later on a busy machine, so its time is printed
# beside ("driver").
PAGE_DONE = ("keys => new Promise(resolve => { const loaded = " + LOADED + "; const check = () => loaded(keys) ? "
             "requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now()))) "
             ": setTimeout(check, 20); check(); })")
GOAL_S = 1.5
JAKARTA = ROOT.parent / "shared" / "data" / "osm" / "jakarta" / "osm"
BASEMAP_FILES = (("jakarta_roads.shp", "roads"), ("jakarta_building_osm.gpkg", "buildings"))


def database_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    cluster = Cluster(database=DATABASE)
    cluster.up()
    return cluster.url()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
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


def facts(url: str, tenant: str | None) -> tuple[str, float, float, int, int]:
    with psycopg.connect(url) as conn:
        if tenant is None:
            tenant = conn.execute("SELECT tenant FROM slum_areas GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
                                  ).fetchone()[0]
        lon, lat = conn.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) c FROM activities WHERE kelurahan_code "
            "= (SELECT kelurahan_code FROM activities WHERE tenant = %s GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)) x",
            [tenant]).fetchone()
        areas = conn.execute("SELECT count(*) FROM slum_areas WHERE tenant = %s", [tenant]).fetchone()[0]
        activities = conn.execute("SELECT count(*) FROM activities WHERE tenant = %s", [tenant]).fetchone()[0]
    return tenant, lon, lat, areas, activities


def bench_basemap(url: str, tenant: str, lon: float, lat: float) -> str:
    """Jakarta's OSM roads and buildings moved onto the bench kab/kota (see the module docstring), imported once."""
    import geopandas as gpd

    with psycopg.connect(url) as conn:
        loaded = conn.execute("SELECT layer, count(*) FROM basemap_features WHERE tenant = %s GROUP BY 1",
                              [tenant]).fetchall()
    if {layer for layer, _ in loaded} >= {"roads", "buildings"}:
        return ", ".join(f"{n:,} {layer}" for layer, n in sorted(loaded)) + " (imported before)"
    roads = gpd.read_file(JAKARTA / BASEMAP_FILES[0][0])
    x0, y0, x1, y1 = roads.total_bounds
    dx, dy = lon - (x0 + x1) / 2, lat - (y0 + y1) / 2
    env = {**os.environ, "DATABASE_URL": url}
    with tempfile.TemporaryDirectory(prefix="kotaku-bench-basemap-") as folder:
        for i, (name, kind) in enumerate(BASEMAP_FILES):
            frame = roads if i == 0 else gpd.read_file(JAKARTA / name)
            frame = frame.set_geometry(frame.geometry.translate(dx, dy))
            moved = Path(folder) / f"jakarta_{kind}_moved.gpkg"
            frame.to_file(moved, driver="GPKG")
            subprocess.run([KOTAKU, "basemap", "import", str(moved), "--tenant", tenant, "--kind", kind,
                            *(["--append"] if i else [])], env=env, check=True, stdout=subprocess.DEVNULL)
    with psycopg.connect(url) as conn:
        loaded = conn.execute("SELECT layer, count(*) FROM basemap_features WHERE tenant = %s GROUP BY 1",
                              [tenant]).fetchall()
    return ", ".join(f"{n:,} {layer}" for layer, n in sorted(loaded)) + f" (moved by {dx:+.3f}, {dy:+.3f} degrees)"


def goal_views(browser, base: str, tenant: str, lon: float, lat: float, *, basemap: bool) -> list[dict]:
    """The two views of the goal, each from a cold browser: the kab/kota's view as the page opens, and street zoom
    (16) at the densest kelurahan, timed from the jump there once the page has opened."""
    suffix = "" if basemap else ", without basemap"
    view = View(browser, base, basemap)
    rows = [view.measure(f"/peta, city view (cold){suffix}", lambda: view.page.goto(f"{base}/peta?tenant={tenant}"))]
    view.close()
    view = View(browser, base, basemap)
    view.page.goto(f"{base}/peta?tenant={tenant}")
    view.page.wait_for_function(LOADED, arg=["wilayah", "tingkat", "program"], timeout=300_000)
    rows.append(view.measure(f"/peta, street view zoom 16 (cold tiles){suffix}", lambda: view.go_to(lon, lat, 16)))
    view.close()
    return rows


def empty_page(browser, base: str, tenant: str, *, basemap: bool) -> float:
    """Seconds to the first full draw of the city view when every tile of the page's layers is empty (204): the
    page's own cost (HTML, scripts, Leaflet, the basemap), whatever the data."""
    view = View(browser, base, basemap)
    view.context.route("**/tiles/*/*/*/*.pbf*", lambda route, request: route.fulfill(status=204)
                       if "/tiles/basemap/" not in request.url else route.continue_())
    view.page.goto(f"{base}/peta?tenant={tenant}")
    seconds = view.page.evaluate(PAGE_DONE, ["wilayah", "tingkat", "program"]) / 1000
    view.close()
    return seconds


class View:
    """One browser context; `measure` runs an action and reports what it cost until the tiles are drawn."""

    def __init__(self, browser, base: str, basemap: bool = True):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        if not basemap:  # the page as it was before it drew a basemap: neither the style nor its tiles are served
            self.context.route("**/styles/basemap.json*", lambda route: route.abort())
            self.context.route("**/tiles/basemap/*/*/*.png*", lambda route: route.abort())
        self.page = self.context.new_page()
        self.requests = []
        self.page.on("requestfinished", lambda request: self.requests.append(request))

    def measure(self, label: str, action, keys=("wilayah", "tingkat", "program"), ready: str | None = None) -> dict:
        self.requests.clear()
        page_start = 0.0 if self.page.url == "about:blank" else self.page.evaluate("performance.now()")
        started = time.perf_counter()
        action()
        if ready:
            self.page.wait_for_selector(ready, timeout=300_000)
        page_done = self.page.evaluate(PAGE_DONE, list(keys))
        seconds = (page_done - page_start) / 1000
        driver = time.perf_counter() - started
        tiles = [r for r in self.requests if urlsplit(r.url).path.startswith("/tiles/")
                 and urlsplit(r.url).path.endswith((".pbf", ".png"))]
        total = sum(max(0, r.sizes()["responseBodySize"]) for r in self.requests)
        heap = self.page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
        split: dict[str, int] = {}
        for r in tiles:
            name = r.url.split("/tiles/")[1].split("/")[0]
            split[name] = split.get(name, 0) + max(0, r.sizes()["responseBodySize"])
        row = {"view": label, "split": split, "seconds": seconds, "requests": len(self.requests), "tiles": len(tiles),
               "bytes": total, "heap_mb": heap / 1e6}
        print(f"{label:<48} {seconds:7.2f} s (driver {driver:6.2f} s) {len(self.requests):5d} req "
              f"{len(tiles):4d} tiles {total / 1e6:8.2f} MB  heap {heap / 1e6:6.1f} MB  "
              + ", ".join(f"{k} {v / 1e6:.2f}" for k, v in sorted(split.items())))
        return row

    def go_to(self, lon: float, lat: float, zoom: int) -> None:
        self.page.evaluate(f"void kotaku.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")

    def close(self) -> None:
        self.context.close()


def inline_peer(base: str, tenant: str) -> tuple[int, float]:
    """Bytes and seconds of every slum area and activity of the kab/kota as GeoJSON (what a page without tiles
    would have to load), paged at the API's maximum."""
    started, total = time.perf_counter(), 0
    with httpx.Client(base_url=base, timeout=600) as client:
        for collection in ("slum-areas", "activities"):
            url = f"/collections/{collection}/items?tenant={tenant}&limit=10000"
            while url:
                response = client.get(url)
                response.raise_for_status()
                total += len(response.content)
                nxt = [link["href"] for link in response.json().get("links", []) if link.get("rel") == "next"]
                url = nxt[0] if nxt else None
    return total, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", help="kab/kota code (default: the one with most slum areas)")
    parser.add_argument("--goal", action="store_true",
                        help="only the goal's views (city and street, with and without basemap), no peer")
    parser.add_argument("--warm-server", action="store_true",
                        help="with --goal: one discarded pass first, so every measured view finds the server's tile "
                             "cache warm (by default the first view renders its tiles, the later ones find them)")
    parser.add_argument("--runs", type=int, default=3,
                        help="with --goal: cold passes of the goal's views, with and without the basemap in turn; "
                             "each view is judged on its median pass (default 3: one pass varies by 0.2-0.3 s)")
    parser.add_argument("--drop", action="store_true", help=f"drop the database {DATABASE} of the dev cluster")
    args = parser.parse_args()
    if args.drop:
        with psycopg.connect(Cluster(database=DATABASE).url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        print(f"dropped {DATABASE}")
        return
    from playwright.sync_api import sync_playwright

    url = database_url()
    load = os.getloadavg()
    tenant, lon, lat, areas, activities = facts(url, args.tenant)
    with psycopg.connect(url) as conn:
        national = conn.execute("SELECT (SELECT count(*) FROM slum_areas), (SELECT count(*) FROM activities)"
                                ).fetchone()
    print(f"data: {national[0]:,} slum areas, {national[1]:,} activities; kab/kota {tenant}: {areas:,} slum areas, "
          f"{activities:,} activities")
    print(f"basemap of {tenant}: {bench_basemap(url, tenant, lon, lat)}")
    process, base = serve(url)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            rows = []
            if args.goal:
                if args.warm_server:
                    print("server tile cache warmed by one discarded pass of the goal's views (browsers stay cold):")
                    goal_views(browser, base, tenant, lon, lat, basemap=True)
                passes: dict[bool, list[list[dict]]] = {True: [], False: []}
                floors: dict[bool, list[float]] = {True: [], False: []}
                for _ in range(max(1, args.runs)):  # in turn, so that a slower minute weighs on both alike
                    for basemap in (True, False):
                        passes[basemap].append(goal_views(browser, base, tenant, lon, lat, basemap=basemap))
                        floors[basemap].append(empty_page(browser, base, tenant, basemap=basemap))
                browser.close()
                verdicts(median_rows(passes[True]), median_rows(passes[False]), load)
                print(f"the page itself, its layers' tiles answered empty (what no data costs): city view "
                      f"{statistics.median(floors[True]):.2f} s with the basemap ({seconds_list(floors[True])}), "
                      f"{statistics.median(floors[False]):.2f} s without ({seconds_list(floors[False])})")
                return
            view = View(browser, base)
            rows.append(view.measure("/peta, kab/kota view (cold)",
                                     lambda: view.page.goto(f"{base}/peta?tenant={tenant}")))
            for zoom in (12, 13, 14, 16):
                rows.append(view.measure(f"/peta, zoom {zoom} at the densest kelurahan",
                                         lambda z=zoom: view.go_to(lon, lat, z)))
            rows.append(view.measure("/peta, pan 700 px at zoom 16",
                                     lambda: view.page.evaluate("void kotaku.map.panBy([700, 0], {animate: false})")))
            rows.append(view.measure("/peta, year filter 2020 at zoom 16 (revalidated)",
                                     lambda: view.page.select_option("#filter-tahun", "2020")))
            view.close()
            goal = goal_views(browser, base, tenant, lon, lat, basemap=True)
            peer = goal_views(browser, base, tenant, lon, lat, basemap=False)
            view = View(browser, base)
            rows.append(view.measure("/peta/keterpaduan, kab/kota (cold)",
                                     lambda: view.page.goto(f"{base}/peta/keterpaduan?tenant={tenant}"),
                                     keys=("wilayah", "cakupan", "program"), ready="#tabel-kawasan tbody tr"))
            view.close()
            browser.close()
        peer_bytes, peer_seconds = inline_peer(base, tenant)
    finally:
        process.terminate()
        process.wait(timeout=30)
    verdicts(goal, peer, load)
    print(f"peer, the kab/kota's slum areas and activities inline as GeoJSON: {peer_bytes / 1e6:.2f} MB, "
          f"{peer_seconds:.2f} s to download (before any drawing)")
    print(f"ratio peer/page bytes at the kab/kota view: {peer_bytes / max(1, rows[0]['bytes']):.1f}x; "
          f"seconds: {peer_seconds / rows[0]['seconds']:.1f}x")


def seconds_list(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def median_rows(passes: list[list[dict]]) -> list[dict]:
    """Per view, the pass with the median time (the lower middle of an even count), with every pass's seconds."""
    rows = []
    for views in zip(*passes, strict=True):
        chosen = sorted(views, key=lambda row: row["seconds"])[(len(views) - 1) // 2]
        rows.append({**chosen, "passes": [row["seconds"] for row in views]})
    return rows


def verdicts(goal: list[dict], peer: list[dict], load: tuple[float, float, float]) -> None:
    for row, without in zip(goal, peer, strict=True):
        verdict = "met" if row["seconds"] <= GOAL_S else "MISSED"
        runs = f" (median of {seconds_list(row['passes'])})" if len(row.get("passes", [])) > 1 else ""
        print(f"goal <= {GOAL_S} s to the first full draw, {row['view']}: {row['seconds']:.2f} s{runs}, "
              f"{row['requests']} requests, {row['bytes'] / 1e6:.2f} MB "
              f"({row['split'].get('basemap', 0) / 1e6:.2f} MB basemap): "
              f"{verdict}; without the basemap {without['seconds']:.2f} s, {without['requests']} requests, "
              f"{without['bytes'] / 1e6:.2f} MB: the basemap costs {row['seconds'] / without['seconds']:.2f}x the time")
    print(f"load average (1 min) at the start {load[0]:.1f}, at the end {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores (other work on the machine slows every figure)")


if __name__ == "__main__":
    main()
