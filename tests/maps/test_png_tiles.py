"""PNG choropleth tiles and legends over the Medan demo: the pixel over a slum area has its level's colour, the
programme-coverage map follows keterpaduan, legends list the same colours; class assignment as data."""

from __future__ import annotations

import warnings
from xml.etree import ElementTree

import morecantile
import numpy as np
import psycopg
import pytest
import rasterio
from fastapi.testclient import TestClient
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from api.app import create_app
from layers.serving.collections import SLUM_AREA_SCORES
from maps.styles import NO_DATA_COLOUR, hex_rgb, style_for, styles

TMS = morecantile.tms.get("WebMercatorQuad")


@pytest.fixture(scope="module")
def demo_db(fresh_demo):
    return fresh_demo()


@pytest.fixture(scope="module")
def client(demo_db):
    with TestClient(create_app(demo_db)) as test_client:
        yield test_client


def read_png(content: bytes) -> np.ndarray:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(content) as memory, memory.open() as png:
            assert (png.count, png.width, png.height) == (4, 256, 256)
            return np.moveaxis(png.read(), 0, 2)


def pixel_of(lon: float, lat: float, z: int) -> tuple[tuple[int, int, int], tuple[int, int]]:
    """The tile (z, x, y) holding the point, and the point's (row, column) in its 256-pixel image."""
    tile = TMS.tile(lon, lat, z)
    bounds = TMS.xy_bounds(tile)
    x, y = TMS.xy(lon, lat)
    column = int((x - bounds.left) / (bounds.right - bounds.left) * 256)
    row = int((bounds.top - y) / (bounds.top - bounds.bottom) * 256)
    return (z, tile.x, tile.y), (row, column)


def inner_point(demo_db: str, query: str) -> tuple[int, float, float, object]:
    """A slum area (id, lon, lat of a point well inside it, value) chosen by `query`."""
    with psycopg.connect(demo_db) as conn:
        return conn.execute(query).fetchone()


def test_slum_level_colour_at_a_slum_area(client, demo_db):
    style = style_for("slum-areas", None)
    seen = 0
    for level in ("KB", "KS", "KR", "TK"):
        found = inner_point(demo_db, (
            f"SELECT t.id, ST_X(p), ST_Y(p), sc.level FROM slum_areas t LEFT JOIN LATERAL ({SLUM_AREA_SCORES}) sc "
            "ON true, LATERAL (SELECT ST_PointOnSurface(ST_Buffer(t.geom::geography, -15)::geometry) p) q "
            f"WHERE sc.level = '{level}' AND NOT ST_IsEmpty(p) AND NOT EXISTS (SELECT 1 FROM slum_areas o "
            "WHERE o.id <> t.id AND ST_DWithin(o.geom::geography, p::geography, 30)) ORDER BY t.area_ha DESC LIMIT 1"))
        if found is None:
            continue
        seen += 1
        _, lon, lat, _ = found
        (z, x, y), (row, column) = pixel_of(lon, lat, 16)
        response = client.get(f"/tiles/slum-areas/{z}/{x}/{y}.png")
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        image = read_png(response.content)
        colour = next(c.colour for c in style.classes if c.value == level)
        assert tuple(image[row, column, :3]) == hex_rgb(colour), level
        assert image[row, column, 3] > 0
    assert seen >= 2  # the demo has several levels


def test_png_and_mvt_come_from_the_same_rows(client):
    z, x, y = pixel_of(98.675, 3.60, 11)[0]
    png = client.get(f"/tiles/slum-areas/{z}/{x}/{y}.png")
    mvt = client.get(f"/tiles/slum-areas/{z}/{x}/{y}.pbf")
    assert png.headers["x-tile-features"] == mvt.headers["x-tile-features"] != "0"
    assert png.headers["etag"] != mvt.headers["etag"]
    ogc = client.get(f"/collections/slum-areas/map/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert ogc.content == png.content


def test_priority_style_colours_each_class_and_unscored_areas(client, demo_db):
    found = inner_point(demo_db, (
        f"SELECT t.id, ST_X(p), ST_Y(p), sc.priority FROM slum_areas t LEFT JOIN LATERAL ({SLUM_AREA_SCORES}) sc "
        "ON true, LATERAL (SELECT ST_PointOnSurface(ST_Buffer(t.geom::geography, -15)::geometry) p) q "
        "WHERE NOT ST_IsEmpty(p) AND NOT EXISTS (SELECT 1 FROM slum_areas o WHERE o.id <> t.id AND "
        "ST_DWithin(o.geom::geography, p::geography, 30)) ORDER BY t.area_ha DESC LIMIT 1"))
    _, lon, lat, priority = found
    (z, x, y), (row, column) = pixel_of(lon, lat, 16)
    image = read_png(client.get(f"/tiles/slum-areas/{z}/{x}/{y}.png", params={"style": "prioritas"}).content)
    style = style_for("slum-areas", "prioritas")
    expected = next((c.colour for c in style.classes if c.value == priority), NO_DATA_COLOUR)  # None: not scored
    assert tuple(image[row, column, :3]) == hex_rgb(expected)


def test_programme_coverage_follows_keterpaduan(client, demo_db):
    found = inner_point(demo_db, (
        "SELECT s.id, ST_X(p), ST_Y(p), (SELECT count(DISTINCT a.program) FROM activities a WHERE "
        "ST_Intersects(a.geom, s.geom) AND a.status NOT IN ('ditolak', 'dibatalkan')) FROM slum_areas s, "
        "LATERAL (SELECT ST_PointOnSurface(ST_Buffer(s.geom::geography, -15)::geometry) p) q "
        "WHERE NOT ST_IsEmpty(p) AND NOT EXISTS (SELECT 1 FROM slum_areas o WHERE o.id <> s.id AND "
        "ST_DWithin(o.geom::geography, p::geography, 30)) ORDER BY 4 DESC, s.id LIMIT 1"))
    _, lon, lat, programmes = found
    assert programmes >= 2
    (z, x, y), (row, column) = pixel_of(lon, lat, 16)
    image = read_png(client.get(f"/tiles/keterpaduan/{z}/{x}/{y}.png").content)
    style = style_for("keterpaduan", None)
    expected = style.classes[min(programmes, 3)].colour
    assert tuple(image[row, column, :3]) == hex_rgb(expected)


def test_legends_match_the_styles(client):
    legend = client.get("/tiles/slum-areas/legend.json").json()
    assert legend["property"] == "level"
    assert [c["label"] for c in legend["classes"]] == ["Kumuh berat", "Kumuh sedang", "Kumuh ringan", "Tidak kumuh",
                                                       "Belum dinilai"]
    colours = {c["value"]: c["colour"] for c in legend["classes"]}
    assert colours["KB"] == style_for("slum-areas", None).classes[0].colour
    priority = client.get("/tiles/slum-areas/legend.json", params={"style": "prioritas"}).json()
    assert [c["value"] for c in priority["classes"]][:3] == ["A1", "A2", "A3"]
    svg = client.get("/tiles/keterpaduan/legend.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(svg.content)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[0] == "Cakupan program (jumlah program)" and "3 program atau lebih" in texts


def test_png_tiles_only_for_choropleth_layers(client):
    assert client.get("/tiles/regions/10/800/500.png").status_code == 404
    response = client.get("/tiles/slum-areas/10/800/500.png", params={"style": "cakupan-program"})
    assert response.status_code == 404 and "tingkat-kumuh" in response.json()["description"]
    assert client.get("/tiles/slum-areas/12/100/100.png").status_code == 204


def test_class_numbers_are_data_driven():
    level = styles()["tingkat-kumuh"]
    assert level.class_numbers(["KB", "KS", "KR", "TK", None, "??"]).tolist() == [1, 2, 3, 4, 5, 5]
    coverage = styles()["cakupan-program"]
    assert coverage.class_numbers([0, 1, 2, 3, 9, None]).tolist() == [1, 2, 3, 4, 4, 5]
    assert rasterio.__version__
