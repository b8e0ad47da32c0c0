"""The basemap on the pages, in Debian's headless Chromium (WebGL by SwiftShader) against a live `kotaku serve` over the
demo with Jakarta Pusat's OpenStreetMap basemap (tenant 31.71): at street zoom /peta paints roads and buildings
(the server's PNG tiles) and MapLibre names streets and kelurahan; at the kab/kota view the names come as PNG tiles
(kecamatan and kelurahan) and no WebGL map is made; placed names never overlap; every request stays on this
server; online basemaps are offered only when configured, off until chosen, and lie under the ground; GDAL reads
the PNG basemap as XYZ tiles."""

from __future__ import annotations

import io
import os
import re
import subprocess

import numpy as np
import psycopg
import pytest
import shapely
from PIL import Image

from layers.basemap.tiles import basemap_rows_sql, tile_params
from layers.imports.demo_basemap import load_demo_basemap
from maps.basemap_png import place_names
from maps.styles import BASEMAP_COLOURS, hex_rgb
from tests.e2e.conftest import Watched
from tests.e2e.servers import running_server

MONAS = (106.8272, -6.1754)
STREET_ZOOM = 16
PLACE_LAYERS = ["basemap-place-names", "basemap-kecamatan-names", "basemap-kabkota-names"]
READY = "() => window.kotakuBasemap && kotakuBasemap.ground && kotakuBasemap.ready()"
# the PNG tiles of a part of the basemap ('base': the ground, 'labels': the names) the page shows, loaded
LOADED_PNG = """part => [...document.querySelectorAll('.kotaku-peta-dasar-' + part + ' img.leaflet-tile-loaded')]
    .map(img => img.src)"""
WEBGL_CANVASES = "() => document.querySelectorAll('canvas.maplibregl-canvas').length"
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
    page.wait_for_function("() => window.kotakuBasemap && kotakuBasemap.ground")
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
    assert len(page.evaluate(LOADED_PNG, "base")) >= 4  # the ground's tiles cover the view
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


def written_names(database_url: str, urls: list[str]) -> list:
    """The names the server wrote on the names tiles at `urls` (the same placement as its PNGs, from the same rows)."""
    out = []
    with psycopg.connect(database_url) as conn:
        for url in urls:
            z, x, y = map(int, re.search(r"/tiles/basemap/(\d+)/(\d+)/(\d+)\.png", url).groups())
            scale = int(re.search(r"scale=(\d)", url).group(1))
            rows = conn.execute(basemap_rows_sql(), tile_params(z, x, y, "31.71")).fetchall()
            places = [(cls, name, shapely.from_wkb(bytes(wkb))) for layer, cls, name, wkb in rows if layer == "places"]
            out.append((places, place_names(places, z, scale)))
    return out


def test_city_view_names_kecamatan_and_kelurahan_without_overlaps(session, jakarta):
    open_peta(session)
    page = session.page
    assert page.evaluate("kotaku.map.getZoom()") <= 13  # the page opens on the whole kab/kota
    # no WebGL at the city view: the ground and the names are the server's images
    assert page.evaluate(WEBGL_CANVASES) == 0 and page.evaluate("kotakuBasemap.gl('labels')") is None
    maplibre = [i for i, url in enumerate(session.requests) if url.endswith("/maplibre-gl.js")]
    ground = [i for i, url in enumerate(session.requests) if "part=ground" in url]
    assert not maplibre or maplibre[0] > max(ground)  # loaded, if at all, once the ground is in (for street zoom)
    urls = page.evaluate(LOADED_PNG, "labels")
    assert urls and all("part=names" in url for url in urls)
    written = written_names(jakarta, urls)
    texts = [name.text.replace("\n", " ") for _, placed in written for name in placed]
    assert {"GAMBIR", "MENTENG", "TANAH ABANG", "SENEN"} <= set(texts)  # kecamatan, in capitals
    assert sum(1 for text in texts if not text.isupper()) >= 10  # kelurahan
    # some of the names in view are left out, none is cut by a tile's edge or lies over another (maps/ tests)
    candidates = sum(1 for places, _ in written for cls, _, point in places
                     if cls in ("kelurahan", "kecamatan") and 0 <= point.x < 4096 and 0 <= point.y < 4096)
    assert len(texts) < candidates
    assert colour_share(session, BASEMAP_COLOURS["region_label"], tolerance=10) > 0.0005  # the kecamatan are seen
    session.screenshot("basemap-peta-kota")
    assert_offline(session)


def test_style_and_tilejson_come_once_from_the_head_before_the_first_tile(session):
    open_peta(session)
    session.page.evaluate(f"void kotaku.map.setView([{MONAS[1]}, {MONAS[0]}], {STREET_ZOOM}, {{animate: false}})")
    session.page.wait_for_function(READY, timeout=60_000)
    asked = session.requests  # in the order the browser asked
    style = [i for i, url in enumerate(asked) if "/styles/basemap.json" in url]
    tilejson = [i for i, url in enumerate(asked) if "/tiles/basemap/tilejson.json" in url]
    first_tile = next(i for i, url in enumerate(asked) if "/tiles/" in url and ".pbf" in url)
    assert len(style) == 1 and len(tilejson) == 1  # preloaded, read once
    assert style[0] < first_tile and tilejson[0] < first_tile  # not queued behind the page's tiles
    source = session.page.evaluate("() => kotakuBasemap.gl('labels').getStyle().sources.basemap")
    assert source["tiles"][0].endswith("/tiles/basemap/{z}/{x}/{y}.pbf?tenant=31.71"), source  # the TileJSON's
    assert session.page.evaluate(PLACED, PLACE_LAYERS)
    assert_offline(session)


def test_names_lie_over_the_slum_areas_and_every_page_draws_the_basemap(session):
    open_peta(session, STREET_ZOOM)
    z = session.page.evaluate("""() => ['tilePane', 'overlayPane', 'kotaku-nama'].map(
        p => Number(getComputedStyle(kotaku.map.getPane(p)).zIndex))""")
    assert z[0] < z[1] < z[2]  # basemap under the fills, names over them
    assert session.page.locator(".leaflet-kotaku-nama-pane canvas.maplibregl-canvas").count() == 1  # street names
    for path in ("/peta/usulan?tenant=31.71", "/peta/keterpaduan?tenant=31.71"):
        session.page.goto(f"{session.base}{path}")
        session.page.wait_for_function(READY, timeout=60_000)
        assert session.page.evaluate(LOADED_PNG, "base") and session.page.evaluate(LOADED_PNG, "labels"), path
        # the names' PNG tiles lie in the names' pane too, over the fills
        assert session.page.locator(".leaflet-kotaku-nama-pane .kotaku-peta-dasar-labels img").count() > 0
        assert colour_share(session, BASEMAP_COLOURS["region_label"], tolerance=10) > 0.0002, path  # kecamatan
    assert_offline(session)


def test_online_basemaps_are_offered_off_and_asked_for_only_when_chosen(browser, jakarta):
    with running_server(jakarta, "--no-access-log", env={"KOTAKU_ONLINE_BASEMAPS": f"osm={OUTSIDE}"}) as base:
        watched = Watched(browser, base)
        try:
            open_peta(watched)  # the kab/kota's view: the chosen online basemap is drawn at every zoom
            entry = ".leaflet-control-layers-overlays label:has-text('Peta daring: osm') input"
            watched.page.wait_for_selector(entry, state="attached")
            assert not watched.page.is_checked(entry)
            assert watched.external_requests() == []
            watched.page.check(entry)
            for _ in range(100):  # the raster tiles are asked for (and aborted by the test's router)
                if watched.external_requests():
                    break
                watched.page.wait_for_timeout(100)
            asked = watched.external_requests()
            assert asked and all(u.startswith("https://tile.openstreetmap.org/") for u in asked)
            # under the ground (whose PNG is transparent where it draws nothing), both under the slum fills
            z = watched.page.evaluate("""() => [...kotaku.map.getPane('tilePane').children].map(
                el => [el.className.includes('kotaku-peta-dasar-base') ? 'ground' : 'online', Number(el.style.zIndex)])
                .filter(([, index]) => !Number.isNaN(index))""")
            assert dict(z)["online"] < dict(z)["ground"], z
            # turned off, it asks for nothing more
            watched.page.uncheck(entry)
            watched.page.wait_for_timeout(300)
            count = len(watched.external_requests())
            watched.page.evaluate(f"void kotaku.map.setView([{MONAS[1]}, {MONAS[0]}], 15, {{animate: false}})")
            watched.page.wait_for_function(READY, timeout=60_000)
            assert len(watched.external_requests()) == count
        finally:
            watched.close()


# Counts the frames each MapLibre map paints (its painter's render, under the page's own wrapper), those painted
# while some of its tiles were still loading and those whose names MapLibre was to place again in the next frame
# (tiles just in), per map, from the start.
COUNT_PAINTS = """
let maplibre;
window.kotakuPaints = [];
Object.defineProperty(window, 'maplibregl', {configurable: true, get() { return maplibre; }, set(value) {
    maplibre = value;
    const setup = value.Map.prototype._setupPainter;
    value.Map.prototype._setupPainter = function () {
        const out = setup.apply(this, arguments);
        const map = this;
        const counts = {painted: 0, partial: 0, unsettled: 0};
        window.kotakuPaints.push(counts);
        const render = this.painter.render;
        this.painter.render = function () {
            counts.painted++;
            if (!map.areTilesLoaded()) counts.partial++;
            if (map._placementDirty) counts.unsettled++;
            return render.apply(this, arguments);
        };
        return out;
    };
}});
"""


def test_a_jump_to_street_zoom_paints_the_names_once_their_tiles_are_in(session):
    # Software WebGL blocks the page for the whole canvas at every frame. The city view makes no MapLibre map; after
    # a jump to street zoom, the names' map paints neither the tiles of another zoom scaled up, nor a frame per
    # tile that arrives, nor the names before MapLibre has placed them for good: once, when its tiles are in.
    # (holdMs: no slow machine paints a part early.) Back at the city view, the map is gone again.
    session.context.add_init_script(COUNT_PAINTS)
    open_peta(session)
    assert session.page.evaluate("window.kotakuPaints") == []  # no MapLibre map at the kab/kota's view
    session.page.evaluate("kotakuBasemap.holdMs = 60000")
    session.page.evaluate(f"void kotaku.map.setView([{MONAS[1]}, {MONAS[0]}], {STREET_ZOOM}, {{animate: false}})")
    session.page.wait_for_function(READY, timeout=60_000)
    after = session.page.evaluate("window.kotakuPaints")
    assert len(after) == 1 and after[0]["partial"] == 0 and after[0]["unsettled"] == 0, after
    assert after[0]["painted"] == 1, after
    assert session.page.evaluate(WEBGL_CANVASES) == 1
    assert colour_share(session, BASEMAP_COLOURS["major_road"]) > 0.01  # the ground is there
    session.page.evaluate("void kotaku.map.setZoom(12, {animate: false})")
    session.page.wait_for_function(READY, timeout=60_000)
    assert session.page.evaluate(WEBGL_CANVASES) == 0 and session.page.evaluate(LOADED_PNG, "labels")
    assert_offline(session)


def test_gdal_reads_the_png_basemap_as_xyz_tiles(server, tmp_path):
    """The PNG basemap is an ordinary XYZ tileset: GDAL's WMS driver (TMS mini-driver) reads a window around Monas
    at MapLibre's zoom 15 from 512-px tiles, and gets the style's roads on a transparent ground."""
    config = tmp_path / "peta-dasar.xml"
    config.write_text(f"""<GDAL_WMS>
  <Service name="TMS">
    <ServerUrl>{server}/tiles/basemap/${{z}}/${{x}}/${{y}}.png?tenant=31.71&amp;part=ground</ServerUrl>
  </Service>
  <DataWindow><UpperLeftX>-20037508.34</UpperLeftX><UpperLeftY>20037508.34</UpperLeftY>
    <LowerRightX>20037508.34</LowerRightX><LowerRightY>-20037508.34</LowerRightY>
    <TileLevel>15</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY><YOrigin>top</YOrigin></DataWindow>
  <Projection>EPSG:3857</Projection><BlockSizeX>512</BlockSizeX><BlockSizeY>512</BlockSizeY><BandsCount>4</BandsCount>
  <ZeroBlockHttpCodes>204</ZeroBlockHttpCodes>
</GDAL_WMS>""", encoding="utf-8")
    out = tmp_path / "monas.png"
    lon, lat = MONAS
    done = subprocess.run(["gdal_translate", "-q", "-projwin_srs", "EPSG:4326", "-projwin", str(lon - 0.004),
                           str(lat + 0.004), str(lon + 0.004), str(lat - 0.004), str(config), str(out)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "GDAL_HTTP_TIMEOUT": "60"})
    assert done.returncode == 0, done.stderr
    pixels = np.asarray(Image.open(out).convert("RGBA")).astype(int)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 200
    major = (np.abs(pixels[..., :3] - np.array(hex_rgb(BASEMAP_COLOURS["major_road"]))) <= 8).all(axis=2)
    assert major.mean() > 0.005 and (pixels[..., 3] == 0).mean() > 0.1  # roads; the rest transparent


def test_without_maplibre_the_street_view_keeps_the_png_names(session):
    # a phone that could not fetch MapLibre (a dropped connection): the names stay, as PNG, without street names
    session.context.route("**/maplibre-gl.js", lambda route: route.abort())
    open_peta(session, STREET_ZOOM)
    page = session.page
    assert page.evaluate("kotakuBasemap.failed")
    assert page.evaluate(LOADED_PNG, "labels") and page.evaluate(LOADED_PNG, "base")
    assert page.evaluate(WEBGL_CANVASES) == 0
    assert "OpenStreetMap contributors" in page.inner_text(".leaflet-control-attribution")
    # the browser's own "Failed to load resource" for the aborted script, and no error of the page's
    assert [e for e in session.errors if "Failed to load resource" not in e] == []
