"""Drawing on real ground on /peta/usulan (issue 13 item 3), in headless Chromium against a live `kotaku serve` over
the demo with Jakarta Pusat's real OpenStreetMap roads: a line clicked 12 m beside a road is saved ON the road
(every point within a metre of the road's geometry in PostGIS), with a camera photo whose EXIF position is kept;
unticking "Tempel ke jalan/kegiatan" keeps the clicked vertices; a GPX track built here becomes the drawing and
its proposal keeps a photo at the device's position; "Lokasi saya" centres the map on the device, and says so in
Indonesian when the location is refused."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import shapely

from layers.accounts.access import cli_principal
from layers.accounts.users import add_user
from layers.imports.demo_basemap import load_demo_basemap
from tests.api.test_drawing_http import BESIDE_A_ROAD, OFF_THE_LINE
from tests.e2e.conftest import PASSWORD, Watched
from tests.e2e.servers import running_server
from tests.e2e.test_pages_browser import fill_proposal, go_to, screen_point, submit
from tests.layers.test_attachments import photo

USER = "pokja_jakpus"
MONAS = (106.8272, -6.1754)
DRAWN = "kotaku.refs.gambar.getLayers().length ? kotaku.refs.gambar.getLayers()[0].toGeoJSON().geometry : null"


@pytest.fixture(scope="module")
def jakarta(fresh_demo, tmp_path_factory):
    url = fresh_demo()
    with psycopg.connect(url) as conn:
        load_demo_basemap(conn)
        conn.commit()

    async def user() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await add_user(conn, cli_principal(), USER, "pokja", "31.71", password=PASSWORD)

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API may already run an event loop in this thread
        pool.submit(asyncio.run, user()).result()
    files = tmp_path_factory.mktemp("lampiran")
    with running_server(url, "--no-access-log", env={"KOTAKU_ATTACHMENTS": str(files)}) as base:
        yield base, url


@pytest.fixture
def session(browser, jakarta):
    watched = Watched(browser, jakarta[0])
    yield watched
    watched.close()


def road_and_ends(url: str) -> tuple[int, tuple[float, float], tuple[float, float]]:
    with psycopg.connect(url) as conn:
        road, start, end = conn.execute(BESIDE_A_ROAD, [12]).fetchone()
    a, b = shapely.from_wkt(start), shapely.from_wkt(end)
    return road, (a.x, a.y), (b.x, b.y)


def farthest(url: str, geometry: dict, road: int) -> float:
    with psycopg.connect(url) as conn:
        return conn.execute(OFF_THE_LINE, {"id": road, "activity": None,
                                           "wkt": shapely.geometry.shape(geometry).wkt}).fetchone()[0]


def click_line(page, *points: tuple[float, float]) -> None:
    page.click("a.leaflet-draw-draw-polyline")
    for lon, lat in points:
        page.mouse.click(*screen_point(page, lon, lat))
        page.wait_for_timeout(200)
    page.click('.leaflet-draw-actions a[title="Selesai menggambar"]')


def open_page(session, road_ends) -> None:
    session.login(USER, "/peta/usulan")
    page = session.page
    (x0, y0), (x1, y1) = road_ends
    go_to(page, (x0 + x1) / 2, (y0 + y1) / 2, 17)  # 20 pixels are ~24 m here: the 12 m gap is within reach


def test_a_line_drawn_beside_a_road_is_saved_on_the_road_with_its_photo(session, jakarta):
    base, url = jakarta
    page = session.page
    road, start, end = road_and_ends(url)
    open_page(session, (start, end))
    click_line(page, start, end)
    page.wait_for_selector("#info-tempel:has-text('Ditempel ke')")
    assert farthest(url, page.evaluate(DRAWN), road) < 1.0  # on the road in the draw layer already
    fill_proposal(page, "Paving jalan di atas jalan OSM", "APBD_KABKOTA")
    page.set_input_files("#foto", files=[{"name": "lokasi.jpg", "mimeType": "image/jpeg",
                                          "buffer": photo(start[0], start[1])}])
    saved = submit(page)
    assert saved.status == 201, saved.text()
    activity = saved.json()["id"]
    page.wait_for_selector("#info-foto:has-text('Foto tersimpan')")
    assert "posisi dari EXIF foto" in page.inner_text("#info-foto")
    with psycopg.connect(url) as conn:
        geometry = conn.execute("SELECT ST_AsGeoJSON(geom) FROM activities WHERE id = %s", [activity]).fetchone()[0]
        lon, lat, distance = conn.execute("SELECT lon, lat, distance_m FROM activity_attachments "
                                          "WHERE activity_id = %s", [activity]).fetchone()
    assert farthest(url, json.loads(geometry), road) < 1.0  # the saved line lies on the road, every metre of it
    assert lon == pytest.approx(start[0], abs=1e-5) and lat == pytest.approx(start[1], abs=1e-5)
    assert 10 < distance < 15  # the photo was taken where the line was clicked, 12 m off the road
    session.screenshot("usulan-tempel")
    assert session.external_requests() == [] and session.errors == []


def test_unticked_snapping_keeps_the_clicked_vertices(session, jakarta):
    base, url = jakarta
    page = session.page
    road, start, end = road_and_ends(url)
    open_page(session, (start, end))
    assert page.is_checked("#tempel")  # on by default
    page.uncheck("#tempel")
    click_line(page, start, end)
    page.wait_for_selector("#info-tempel:has-text('tidak ditempel')")
    kept = page.evaluate(DRAWN)["coordinates"]
    for (lon, lat), clicked in zip(kept, (start, end), strict=True):  # where the mouse was, to a pixel (~1.2 m)
        assert abs(lon - clicked[0]) < 3e-5 and abs(lat - clicked[1]) < 3e-5
    assert farthest(url, page.evaluate(DRAWN), road) > 10
    page.check("#tempel")  # ticked again: the same drawing goes onto the road
    page.wait_for_selector("#info-tempel:has-text('Ditempel ke')")
    assert farthest(url, page.evaluate(DRAWN), road) < 1.0
    page.uncheck("#tempel")  # and back as drawn
    page.wait_for_selector("#info-tempel:has-text('tidak ditempel')")
    assert page.evaluate(DRAWN)["coordinates"] == kept
    assert session.errors == []



def test_the_permalink_carries_the_drawing_to_a_new_page(session, jakarta, browser):
    """A planner shares the page: the link keeps the line as drawn (unsnapped here), and a colleague's browser, not
    logged in, shows that line with its length; a link whose drawing was mangled says so in Indonesian."""
    base, url = jakarta
    page = session.page
    road, start, end = road_and_ends(url)
    open_page(session, (start, end))
    page.uncheck("#tempel")
    click_line(page, start, end)
    page.wait_for_selector("#info-tempel:has-text('tidak ditempel')")
    kept = page.evaluate(DRAWN)["coordinates"]
    page.wait_for_function("() => document.getElementById('tautan-tampilan').value.includes('gambar=garis~')")
    link = page.input_value("#tautan-tampilan")
    assert link == page.url
    length = page.inner_text("#info-geometri")
    assert length.startswith("Garis sepanjang")

    colleague = Watched(browser, base)
    try:
        other = colleague.page
        other.goto(link)
        other.wait_for_selector("#info-tempel:has-text('Gambar dari tautan')")
        shared = other.evaluate(DRAWN)
        assert shared["type"] == "LineString" and len(shared["coordinates"]) == len(kept)
        for (lon, lat), (lon0, lat0) in zip(shared["coordinates"], kept, strict=True):  # six decimals: 10 cm
            assert abs(lon - lon0) < 1e-6 and abs(lat - lat0) < 1e-6
        assert other.inner_text("#info-geometri") == length
        assert farthest(url, shared, road) > 10  # placed as shared, not snapped again
        assert colleague.errors == []

        other.goto(link.replace("gambar=garis~", "gambar=garis~x"))
        other.reload()
        other.wait_for_selector("#info-tempel.gagal:has-text('tidak terbaca')")
        assert other.evaluate(DRAWN) is None
        assert colleague.errors == []
    finally:
        colleague.close()


def gpx(points: list[tuple[float, float]]) -> bytes:
    fixes = "".join(f'<trkpt lat="{lat}" lon="{lon}"><ele>5</ele></trkpt>' for lon, lat in points)
    return (f'<?xml version="1.0"?><gpx version="1.1" creator="uji" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<trk><name>Gang</name><trkseg>{fixes}</trkseg></trk></gpx>").encode()


def test_a_gpx_track_becomes_the_drawing_and_its_photo_takes_the_device_position(session, jakarta):
    base, url = jakarta
    page = session.page
    session.context.grant_permissions(["geolocation"], origin=base)
    session.context.set_geolocation({"longitude": MONAS[0], "latitude": MONAS[1], "accuracy": 8})
    road, start, end = road_and_ends(url)
    open_page(session, (start, end))
    page.uncheck("#tempel")  # the track as walked
    # the file buttons speak Indonesian whatever the browser's language (its own "Choose File" is hidden)
    assert page.inner_text("label:has(#jejak)") == "Pilih berkas jejak"
    assert page.inner_text("[data-berkas=jejak]") == "Belum ada berkas dipilih"
    assert page.inner_text("label:has(#foto)") == "Ambil atau pilih foto"
    track = [(MONAS[0] + i * 0.0001, MONAS[1] + i * 0.00005) for i in range(6)]
    page.set_input_files("#jejak", files=[{"name": "jalan kaki.gpx", "mimeType": "application/gpx+xml",
                                           "buffer": gpx(track)}])
    page.wait_for_selector("#info-jejak:has-text('Dari jalan kaki.gpx (GPX): garis dengan 6 titik')")
    assert page.inner_text("[data-berkas=jejak]") == "jalan kaki.gpx"
    drawing = page.evaluate(DRAWN)
    assert drawing["type"] == "LineString"
    assert [c for p in drawing["coordinates"] for c in p] == pytest.approx([c for p in track for c in p], abs=1e-9)
    assert "Garis sepanjang" in page.inner_text("#info-geometri")
    fill_proposal(page, "Saluran menurut jejak GPS", "APBD_KABKOTA", kind="drainase")
    png = photo()  # a JPEG without GPS: the device's position is kept
    page.set_input_files("#foto", files=[{"name": "tanpa-gps.jpg", "mimeType": "image/jpeg", "buffer": png}])
    page.wait_for_selector("#info-foto:has-text('lokasi perangkat')")
    saved = submit(page)
    assert saved.status == 201, saved.text()
    page.wait_for_selector("#info-foto:has-text('Foto tersimpan')")
    assert "posisi dari lokasi perangkat" in page.inner_text("#info-foto")
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT lon, capture_lon, capture_lat, capture_accuracy_m FROM activity_attachments "
                           "WHERE activity_id = %s", [saved.json()["id"]]).fetchone()
    assert row[0] is None and row[1:] == pytest.approx((MONAS[0], MONAS[1], 8))

    page.set_input_files("#jejak", files=[{"name": "titik.gpx", "mimeType": "application/gpx+xml", "buffer":
        b'<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
        b'<wpt lat="-6.17" lon="106.82"/></gpx>'}])
    page.wait_for_selector("#info-jejak.gagal:has-text('tidak memuat garis')")
    # the refused file is the one console error: the browser's own line about the 400
    assert [e for e in session.errors if not e.startswith("Failed to load resource: the server responded with a "
                                                          "status of 400")] == []
    assert len(session.errors) == 1 and session.errors[0].endswith(f"at {base}/drawing/track")
    assert session.external_requests() == []


def test_my_location_centres_the_map_or_says_why_not(session, jakarta):
    base, url = jakarta
    page = session.page
    session.context.grant_permissions(["geolocation"], origin=base)
    session.context.set_geolocation({"longitude": MONAS[0], "latitude": MONAS[1], "accuracy": 20})
    session.login(USER, "/peta/usulan")
    go_to(page, 106.80, -6.20, 13)
    page.click("#lokasi-saya")
    page.wait_for_selector("#info-lokasi:has-text('Lokasi Anda: -6.175400, 106.827200')")
    page.wait_for_function("() => !kotaku.map._animatingZoom")
    centre = page.evaluate("(() => { const c = kotaku.map.getCenter(); "
                           "return [c.lng, c.lat, kotaku.map.getZoom()]; })()")
    assert centre[0] == pytest.approx(MONAS[0], abs=5e-4) and centre[1] == pytest.approx(MONAS[1], abs=5e-4)
    assert centre[2] >= 16
    session.context.clear_permissions()
    page.reload()
    page.click("#lokasi-saya")
    page.wait_for_selector("#info-lokasi.gagal:has-text('Izin lokasi ditolak')")
