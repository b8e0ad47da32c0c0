"""The basemap on the pages, in Debian's headless Chromium (WebGL by SwiftShader) against a live `kotaku serve` over the
demo with Jakarta Pusat's OpenStreetMap basemap (tenant 31.71): at street zoom /peta paints roads and buildings and
names streets and kelurahan; at the kab/kota view it names kecamatan and kelurahan; placed names never overlap;
every request stays on this server; online basemaps are offered only when configured, and off until chosen."""

from __future__ import annotations

import io

import numpy as np
import psycopg
import pytest
from PIL import Image

from layers.imports.demo_basemap import load_demo_basemap
from maps.styles import BASEMAP_COLOURS, hex_rgb
from tests.e2e.conftest import Watched
from tests.e2e.servers import running_server

MONAS = (106.8272, -6.1754)
STREET_ZOOM = 16
PLACE_LAYERS = ["basemap-place-names", "basemap-kecamatan-names", "basemap-kabkota-names"]
READY = "() => window.kotakuBasemap && kotakuBasemap.layers.base && kotakuBasemap.ready()"
PLACED = """layers => kotakuBasemap.gl('labels').queryRenderedFeatures({layers: layers})
    .map(f => ({layer: f.layer.id, name: f.properties.name, cls: f.properties.class}))"""
# Every label box MapLibre placed on the labels map (its collision grid): points as boxes, line labels as circles.
PLACED_BOXES = """() => {
    const grid = kotakuBasemap.gl('labels').style.placement.collisionIndex.grid;
    const boxes = [];
    for (let i = 0; i < grid.bboxes.length; i += 4) boxes.push(grid.bboxes.slice(i, i + 4));
    const circles = [];
    for (let i = 0; i < grid.circles.length; i += 3) circles.push(grid.circles.slice(i, i + 3));
    return {boxes: boxes, circles: circles};
}"""
# kelurahan and kecamatan label points in the loaded basemap tiles whose anchor is inside the map's canvas.
CANDIDATES = """() => {
    const gl = kotakuBasemap.gl('labels');
    const canvas = gl.getCanvas();
    const width = canvas.clientWidth, height = canvas.clientHeight;
    const seen = new Set();
    gl.querySourceFeatures('basemap', {sourceLayer: 'places'}).forEach(f => {
        if (!['kelurahan', 'kecamatan'].includes(f.properties.class)) return;
        const p = gl.project(f.geometry.coordinates);
        if (p.x >= 0 && p.y >= 0 && p.x <= width && p.y <= height) seen.add(f.properties.code);
    });
    return seen.size;
}"""
OUTSIDE = "https://tile.openstreetmap.org/{z}/{x}/{y}.png|(c) OpenStreetMap contributors"


@pytest.fixture(scope="module")
def jakarta(fresh_demo):
    database_url = fresh_demo()
    with psycopg.connect(database_url) as conn:
        load_demo_basemap(conn)
        conn.commit()
    return database_url


@pytest.fixture(scope="module")
def server(jakarta):
    with running_server(jakarta, "--no-access-log") as base:
        yield base


@pytest.fixture
def session(browser, server):
    watched = Watched(browser, server)
    yield watched
    watched.close()


def open_peta(watched: Watched, zoom: int | None = None) -> None:
    page = watched.page
    page.goto(f"{watched.base}/peta?tenant=31.71")
    page.wait_for_function("() => window.kotakuBasemap && kotakuBasemap.layers.base")
    if zoom is not None:
        page.evaluate(f"void kotaku.map.setView([{MONAS[1]}, {MONAS[0]}], {zoom}, {{animate: false}})")
    page.wait_for_function(READY, timeout=60_000)


def colour_share(watched: Watched, colour: str, tolerance: int = 6) -> float:
    """Share of the map's pixels (as a user sees them) within `tolerance` of `colour`."""
    box = watched.page.locator(".folium-map").bounding_box()
    assert box is not None
    png = watched.page.screenshot(clip=box)
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    close = (np.abs(pixels - np.array(hex_rgb(colour))) <= tolerance).all(axis=2)
    return float(close.mean())


def assert_offline(watched: Watched) -> None:
    assert watched.external_requests() == []
    assert watched.errors == [] and watched.dialogs == []


def test_street_zoom_paints_roads_and_names_streets_and_kelurahan(session):
    open_peta(session, STREET_ZOOM)
    page = session.page
    roads = page.evaluate("() => kotakuBasemap.gl('base').queryRenderedFeatures({layers: ['basemap-roads']}).length")
    assert roads > 50
    major = colour_share(session, BASEMAP_COLOURS["major_road"])
    building = colour_share(session, BASEMAP_COLOURS["building"])
    assert major > 0.01 and building > 0.01  # primary roads and buildings are painted, not only loaded
    session.screenshot("basemap-peta-jalan")
    assert "OpenStreetMap contributors" in page.inner_text(".leaflet-control-attribution")  # ODbL's credit
    streets = [f for f in page.evaluate(PLACED, ["basemap-road-names"]) if f["name"]]
    assert any(f["name"] == "Medan Merdeka Utara" for f in streets), streets  # the street north of Monas
    assert "nan" not in {f["name"] for f in streets}
    places = page.evaluate(PLACED, PLACE_LAYERS)
    assert {"Gambir", "Pasar Baru"} <= {f["name"] for f in places if f["cls"] == "kelurahan"}
    # the user turns the basemap off in the layer control: the roads go, the names stay until turned off too
    page.uncheck(".leaflet-control-layers-overlays label:has-text('Peta dasar OpenStreetMap') input")
    page.wait_for_timeout(300)
    assert colour_share(session, BASEMAP_COLOURS["major_road"]) < major / 20
    page.check(".leaflet-control-layers-overlays label:has-text('Peta dasar OpenStreetMap') input")
    page.wait_for_function(READY, timeout=60_000)
    assert colour_share(session, BASEMAP_COLOURS["major_road"]) > 0.01
    assert_offline(session)


def test_city_view_names_kecamatan_and_kelurahan_without_overlaps(session):
    open_peta(session)
    page = session.page
    assert page.evaluate("kotaku.map.getZoom()") <= 13  # the page opens on the whole kab/kota
    places = page.evaluate(PLACED, PLACE_LAYERS)
    kecamatan = {f["name"] for f in places if f["cls"] == "kecamatan"}
    kelurahan = {f["name"] for f in places if f["cls"] == "kelurahan"}
    assert {"Gambir", "Menteng", "Tanah Abang", "Senen"} <= kecamatan and len(kelurahan) >= 10
    session.screenshot("basemap-peta-kota")
    # MapLibre's collision decides: no label layer may overlap or ignore the others ...
    style = page.evaluate("() => kotakuBasemap.gl('labels').getStyle().layers")
    for layer in style:
        layout = layer.get("layout", {})
        assert layer["type"] == "symbol" and not layout.get("text-allow-overlap") \
            and not layout.get("text-ignore-placement"), layer["id"]
    # ... so some of the 52 names in view are left out, and no two placed labels share a pixel
    assert len(kecamatan) + len(kelurahan) < page.evaluate(CANDIDATES)
    placed = page.evaluate(PLACED_BOXES)
    boxes = placed["boxes"]
    assert len(boxes) >= len(kecamatan) + len(kelurahan)
    for i, (ax1, ay1, ax2, ay2) in enumerate(boxes):
        for bx1, by1, bx2, by2 in boxes[i + 1:]:
            assert ax2 <= bx1 or bx2 <= ax1 or ay2 <= by1 or by2 <= ay1, "two placed labels overlap"
    assert_offline(session)


def test_style_and_tilejson_come_once_from_the_head_before_the_first_tile(session):
    open_peta(session)
    asked = session.requests  # in the order the browser asked
    style = [i for i, url in enumerate(asked) if "/styles/basemap.json" in url]
    tilejson = [i for i, url in enumerate(asked) if "/tiles/basemap/tilejson.json" in url]
    first_tile = next(i for i, url in enumerate(asked) if "/tiles/" in url and ".pbf" in url)
    assert len(style) == 1 and len(tilejson) == 1  # preloaded, read once for both MapLibre maps
    assert style[0] < first_tile and tilejson[0] < first_tile  # not queued behind the page's tiles
    for key in ("base", "labels"):  # both maps draw the TileJSON's tiles
        source = session.page.evaluate(f"() => kotakuBasemap.gl('{key}').getStyle().sources.basemap")
        assert source["tiles"][0].endswith("/tiles/basemap/{z}/{x}/{y}.pbf?tenant=31.71"), source
    assert session.page.evaluate(PLACED, PLACE_LAYERS)
    assert_offline(session)


def test_names_lie_over_the_slum_areas_and_every_page_draws_the_basemap(session):
    open_peta(session, STREET_ZOOM)
    z = session.page.evaluate("""() => ['tilePane', 'overlayPane', 'kotaku-nama'].map(
        p => Number(getComputedStyle(kotaku.map.getPane(p)).zIndex))""")
    assert z[0] < z[1] < z[2]  # basemap under the fills, names over them
    for path in ("/peta/usulan?tenant=31.71", "/peta/keterpaduan?tenant=31.71"):
        session.page.goto(f"{session.base}{path}")
        session.page.wait_for_function(READY, timeout=60_000)
        names = session.page.evaluate(PLACED, PLACE_LAYERS)
        assert any(f["cls"] == "kecamatan" for f in names), path
    assert_offline(session)


def test_online_basemaps_are_offered_off_and_asked_for_only_when_chosen(browser, jakarta):
    with running_server(jakarta, "--no-access-log", env={"KOTAKU_ONLINE_BASEMAPS": f"osm={OUTSIDE}"}) as base:
        watched = Watched(browser, base)
        try:
            open_peta(watched, STREET_ZOOM)
            entry = ".leaflet-control-layers-overlays label:has-text('Peta daring: osm') input"
            assert not watched.page.is_checked(entry)
            assert watched.external_requests() == []
            watched.page.check(entry)
            for _ in range(100):  # the raster tiles are asked for (and aborted by the test's router)
                if watched.external_requests():
                    break
                watched.page.wait_for_timeout(100)
            asked = watched.external_requests()
            assert asked and all(u.startswith("https://tile.openstreetmap.org/") for u in asked)
            # the basemap turned off and on again (a new MapLibre map) keeps the chosen online basemap
            watched.page.wait_for_function(READY, timeout=60_000)
            watched.page.wait_for_timeout(1000)
            asked = watched.external_requests()
            base = ".leaflet-control-layers-overlays label:has-text('Peta dasar OpenStreetMap') input"
            watched.page.uncheck(base)
            watched.page.check(base)
            for _ in range(100):
                if len(watched.external_requests()) > len(asked):
                    break
                watched.page.wait_for_timeout(100)
            assert len(watched.external_requests()) > len(asked) and watched.page.is_checked(entry)
        finally:
            watched.close()


# Counts the frames each MapLibre map paints (its painter's render, under the page's own wrapper), those painted
# while some of its tiles were still loading, those whose names MapLibre was to place again in the next frame
# (tiles just in), and those painted while the other map was still loading or placing, per map, from the start.
COUNT_PAINTS = """
let maplibre;
window.kotakuPaints = [];
const maps = [];
const settled = map => map.areTilesLoaded() && !map._placementDirty;
Object.defineProperty(window, 'maplibregl', {configurable: true, get() { return maplibre; }, set(value) {
    maplibre = value;
    const setup = value.Map.prototype._setupPainter;
    value.Map.prototype._setupPainter = function () {
        const out = setup.apply(this, arguments);
        const map = this;
        const counts = {painted: 0, partial: 0, unsettled: 0, alone: 0};
        window.kotakuPaints.push(counts);
        maps.push(map);
        const render = this.painter.render;
        this.painter.render = function () {
            counts.painted++;
            if (!map.areTilesLoaded()) counts.partial++;
            if (map._placementDirty) counts.unsettled++;
            if (maps.some(other => other !== map && !other._removed && !settled(other))) counts.alone++;
            return render.apply(this, arguments);
        };
        return out;
    };
}});
"""


def test_a_jump_to_street_zoom_paints_the_basemap_once_its_tiles_are_in(session):
    # Software WebGL blocks the page for the whole canvas at every frame. After a jump from the kab/kota to street
    # zoom, neither map paints the city's tiles scaled up, nor a frame per street tile that arrives, nor the names
    # before MapLibre has placed them for good: each paints once its tiles are in. (holdMs: no slow machine paints a
    # part early.)
    session.context.add_init_script(COUNT_PAINTS)
    open_peta(session)
    before = session.page.evaluate("window.kotakuPaints")
    session.page.evaluate("kotakuBasemap.holdMs = 60000")
    session.page.evaluate(f"void kotaku.map.setView([{MONAS[1]}, {MONAS[0]}], {STREET_ZOOM}, {{animate: false}})")
    session.page.wait_for_function(READY, timeout=60_000)
    after = session.page.evaluate("window.kotakuPaints")
    partial = [a["partial"] - b["partial"] for a, b in zip(after, before, strict=True)]
    painted = [a["painted"] - b["painted"] for a, b in zip(after, before, strict=True)]
    unsettled = [a["unsettled"] - b["unsettled"] for a, b in zip(after, before, strict=True)]
    assert len(after) == 2 and partial == [0, 0], (partial, painted)  # before: [2, 2] of [3, 4]
    assert unsettled == [0, 0] and painted == [1, 1], (unsettled, painted)  # before: [0, 1] of [1, 2]
    # neither paints while the other still waits for tiles or names: those would wait for the page behind the
    # GPU's frame (MapLibre draws the letters on the page)
    alone = [a["alone"] - b["alone"] for a, b in zip(after, before, strict=True)]
    assert alone == [0, 0], (alone, painted)
    assert colour_share(session, BASEMAP_COLOURS["major_road"]) > 0.01  # what it paints is there
    assert_offline(session)
