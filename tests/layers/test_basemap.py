"""The basemap (issue 13): `kotaku basemap import` of a real OSM file (GDAL's OSM driver) and of GeoJSON, its
tiles decoded with mapbox-vector-tile (roads with name and class at z16, only major roads at z11, buildings from
z15, region names as label points), TileJSON with the five layers, ETag/304; the PNG tiles the pages draw."""

from __future__ import annotations

import io
import json
from pathlib import Path

import mapbox_vector_tile
import morecantile
import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from geo.errors import InvalidInput
from layers.basemap.imports import import_basemap
from maps.styles import BASEMAP_COLOURS, hex_rgb

TMS = morecantile.tms.get("WebMercatorQuad")
# A hand-made OpenStreetMap extract (XML, as JOSM or osmium writes it) in central Jakarta.
TINY_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="kotaku-gis test">
  <node id="1" lat="-6.1800" lon="106.8200" version="1"/>
  <node id="2" lat="-6.1800" lon="106.8300" version="1"/>
  <node id="3" lat="-6.1805" lon="106.8240" version="1"/>
  <node id="4" lat="-6.1805" lon="106.8260" version="1"/>
  <node id="5" lat="-6.1810" lon="106.8240" version="1"/>
  <node id="6" lat="-6.1810" lon="106.8242" version="1"/>
  <node id="7" lat="-6.1812" lon="106.8242" version="1"/>
  <node id="8" lat="-6.1812" lon="106.8240" version="1"/>
  <node id="9" lat="-6.1808" lon="106.8250" version="1">
    <tag k="place" v="village"/>
    <tag k="name" v="Kampung Contoh"/>
  </node>
  <node id="20" lat="-6.1815" lon="106.8230" version="1"/>
  <node id="21" lat="-6.1815" lon="106.8270" version="1"/>
  <node id="30" lat="-6.1820" lon="106.8240" version="1"/>
  <node id="31" lat="-6.1820" lon="106.8250" version="1"/>
  <node id="32" lat="-6.1828" lon="106.8250" version="1"/>
  <node id="33" lat="-6.1828" lon="106.8240" version="1"/>
  <way id="10" version="1">
    <nd ref="1"/>
    <nd ref="2"/>
    <tag k="highway" v="primary"/>
    <tag k="name" v="Jalan Utama"/>
  </way>
  <way id="11" version="1">
    <nd ref="3"/>
    <nd ref="4"/>
    <tag k="highway" v="residential"/>
    <tag k="name" v="Gang Mawar"/>
  </way>
  <way id="12" version="1">
    <nd ref="5"/>
    <nd ref="6"/>
    <nd ref="7"/>
    <nd ref="8"/>
    <nd ref="5"/>
    <tag k="building" v="yes"/>
  </way>
  <way id="13" version="1">
    <nd ref="20"/>
    <nd ref="21"/>
    <tag k="waterway" v="canal"/>
    <tag k="name" v="Kali Contoh"/>
  </way>
  <way id="14" version="1">
    <nd ref="30"/>
    <nd ref="31"/>
    <nd ref="32"/>
    <nd ref="33"/>
    <nd ref="30"/>
    <tag k="landuse" v="residential"/>
  </way>
</osm>
"""
CENTRE = (106.8250, -6.1806)


@pytest.fixture
def osm_file(tmp_path: Path) -> Path:
    path = tmp_path / "contoh.osm"
    path.write_text(TINY_OSM, encoding="utf-8")
    return path


def roads_geojson(tmp_path: Path) -> Path:
    path = tmp_path / "jalan.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"highway": "secondary", "name": "Jalan Sekunder"},
         "geometry": {"type": "LineString", "coordinates": [[106.821, -6.1802], [106.829, -6.1802]]}},
        {"type": "Feature", "properties": {"highway": "footway", "name": "Jalan Setapak"},
         "geometry": {"type": "LineString", "coordinates": [[106.8245, -6.1803], [106.8255, -6.1803]]}},
        {"type": "Feature", "properties": {"highway": "primary", "name": "Bukan garis"},
         "geometry": {"type": "Point", "coordinates": [106.825, -6.18]}},
    ]}), encoding="utf-8")
    return path


def decode(client: TestClient, z: int, lon: float = CENTRE[0], lat: float = CENTRE[1], query: str = "") -> dict:
    tile = TMS.tile(lon, lat, z)
    answer = client.get(f"/tiles/basemap/{z}/{tile.x}/{tile.y}.pbf{query}")
    assert answer.status_code in (200, 204), answer.text
    return mapbox_vector_tile.decode(answer.content) if answer.status_code == 200 else {}


def names(tile: dict, layer: str) -> dict[str, str]:
    return {f["properties"].get("name"): f["properties"]["class"] for f in tile.get(layer, {}).get("features", [])}


def test_osm_import_fills_every_layer_and_replaces(empty_db, osm_file):
    with psycopg.connect(empty_db) as conn:
        report = import_basemap(conn, osm_file, tenant="3171").as_dict()
        assert report["tenant"] == "31.71"
        assert report["layers"] == {"roads": 2, "buildings": 1, "water": 1, "landuse": 1, "places": 1}
        rows = conn.execute("SELECT layer, class, name, min_zoom FROM basemap_features").fetchall()
        assert ("roads", "primary", "Jalan Utama", 10) in rows
        assert ("roads", "residential", "Gang Mawar", 14) in rows
        assert ("buildings", "yes", None, 15) in rows
        again = import_basemap(conn, osm_file, tenant="31.71").as_dict()
        assert again["replaced"] == 6
        assert conn.execute("SELECT count(*) FROM basemap_features").fetchone()[0] == 6


def test_geojson_roads_and_forced_kind(empty_db, tmp_path):
    with psycopg.connect(empty_db) as conn:
        report = import_basemap(conn, roads_geojson(tmp_path)).as_dict()
        assert report["layers"]["roads"] == 2 and report["skipped"] == 1  # a point is no road
        untagged = tmp_path / "garis.geojson"
        untagged.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"NAMA": "Sungai Deli"},
             "geometry": {"type": "LineString", "coordinates": [[98.67, 3.58], [98.68, 3.59]]}}]}))
        with pytest.raises(InvalidInput, match="no feature"):
            import_basemap(conn, untagged, kind=None, tenant="12.71")
        forced = import_basemap(conn, untagged, kind="water", tenant="12.71").as_dict()
        assert forced["layers"]["water"] == 1
        named = untagged.rename(tmp_path / "sungai_medan.geojson")  # the layer's name says what it holds
        assert import_basemap(conn, named, tenant="12.71").as_dict()["layers"]["water"] == 1
        assert conn.execute("SELECT name, class FROM basemap_features WHERE layer = 'water'").fetchone() == (
            "Sungai Deli", "water")
        # the shared basemap (no tenant) was kept: tenants replace only their own
        assert conn.execute("SELECT count(*) FROM basemap_features WHERE tenant IS NULL").fetchone()[0] == 2


def test_basemap_tiles_by_zoom_and_tilejson(empty_db, osm_file, tmp_path):
    with psycopg.connect(empty_db) as conn:
        import_basemap(conn, osm_file)
        import_basemap(conn, roads_geojson(tmp_path), append=True)
    with TestClient(create_app(empty_db)) as client:
        z16 = decode(client, 16)
        roads = names(z16, "roads")
        assert roads == {"Jalan Utama": "primary", "Gang Mawar": "residential", "Jalan Sekunder": "secondary",
                         "Jalan Setapak": "footway"}
        assert len(z16["buildings"]["features"]) == 1
        assert names(z16, "places") == {"Kampung Contoh": "village"}
        assert names(z16, "water") == {"Kali Contoh": "canal"}
        assert "landuse" in z16
        assert names(decode(client, 11), "roads") == {"Jalan Utama": "primary", "Jalan Sekunder": "secondary"}
        z14 = decode(client, 14)
        assert "buildings" not in z14 and "Jalan Setapak" not in names(z14, "roads")
        assert decode(client, 9) == {}  # nothing is drawn that far out: 204
        tile = TMS.tile(*CENTRE, 16)
        first = client.get(f"/tiles/basemap/16/{tile.x}/{tile.y}.pbf")
        assert client.get(f"/tiles/basemap/16/{tile.x}/{tile.y}.pbf",
                          headers={"If-None-Match": first.headers["etag"]}).status_code == 304
        doc = client.get("/tiles/basemap/tilejson.json").json()
        assert [layer["id"] for layer in doc["vector_layers"]] == ["roads", "buildings", "water", "landuse", "places"]
        assert doc["tiles"][0].endswith("/tiles/basemap/{z}/{x}/{y}.pbf")
        west, south, east, north = doc["bounds"]
        assert west <= 106.82 and east >= 106.83 and south <= -6.1828 and north >= -6.18
        assert "OpenStreetMap" in doc["attribution"]
        assert client.get("/tiles/basemap/40/0/0.pbf").status_code == 404
        assert client.get("/tiles/basemap/14/0/0.pbf?tenant=x").status_code == 400


def test_region_names_are_label_points(demo_url):
    with TestClient(create_app(demo_url)) as client:
        with psycopg.connect(demo_url) as conn:
            name, lon, lat = conn.execute(
                "SELECT name, ST_X(p), ST_Y(p) FROM (SELECT name, ST_PointOnSurface(geom) p FROM regions "
                "WHERE level = 'desa_kelurahan' ORDER BY code LIMIT 1) s").fetchone()
        z14 = decode(client, 14, lon, lat, "?tenant=12.71")
        assert names(z14, "places").get(name) in ("kelurahan", "desa")
        z9 = decode(client, 9, lon, lat)
        assert name not in names(z9, "places")
        assert "kabkota" in names(z9, "places").values()
        doc = client.get("/tiles/basemap/tilejson.json?tenant=12.71").json()
        west, south, east, north = doc["bounds"]
        assert west < lon < east and south < lat < north  # the kab/kota's own bounds, not Indonesia's
        assert doc["tiles"][0].endswith("?tenant=12.71")


def test_collection_tilejson_takes_the_tenants_bounds(demo_url):
    with TestClient(create_app(demo_url)) as client:
        doc = client.get("/tiles/slum-areas/tilejson.json?tenant=1271").json()
        west, south, east, north = doc["bounds"]
        assert 98.5 < west < east < 98.8 and 3.4 < south < north < 3.9  # Kota Medan, not Indonesia
        lon, lat, zoom = doc["center"]
        assert west < lon < east and south < lat < north and zoom == 12
        assert client.get("/tiles/slum-areas/tilejson.json").json()["bounds"][0] < 96  # all of Indonesia


def png(client: TestClient, z: int, query: str = "", lon: float = CENTRE[0], lat: float = CENTRE[1]):
    tile = TMS.tile(lon, lat, z)
    return client.get(f"/tiles/basemap/{z}/{tile.x}/{tile.y}.png{query}")


def share(answer, colour: str, tolerance: int = 8) -> float:
    """Share of the opaque pixels of a PNG answer within `tolerance` of `colour`."""
    pixels = np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGBA")).astype(int)
    opaque = pixels[..., 3] > 200
    close = (np.abs(pixels[..., :3] - np.array(hex_rgb(colour))) <= tolerance).all(axis=2) & opaque
    return float(close.mean())


def test_png_basemap_draws_the_styles_ground_and_names_apart(empty_db, osm_file):
    """The PNG the pages draw: the ground in the style's colours on a transparent background (online basemaps
    show through), the names apart (the pages lay them over the slum fills), 512 or 1024 px, cached like the MVT."""
    with psycopg.connect(empty_db) as conn:
        import_basemap(conn, osm_file)
    with TestClient(create_app(empty_db)) as client:
        ground = png(client, 16, "?part=ground")
        assert ground.status_code == 200 and ground.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(ground.content))
        assert image.size == (512, 512)
        alpha = np.asarray(image.convert("RGBA"))[..., 3]
        assert (alpha == 0).mean() > 0.3  # nothing drawn there: transparent, no background colour
        for colour in ("major_road", "road_casing", "building", "water", "road"):
            assert share(ground, BASEMAP_COLOURS[colour]) > 0.0005, colour
        assert share(ground, BASEMAP_COLOURS["label"]) == 0  # no names on the ground
        names = png(client, 16, "?part=names")
        assert names.status_code == 200 and share(names, BASEMAP_COLOURS["label"]) > 0.0001  # Kampung Contoh
        assert share(names, BASEMAP_COLOURS["major_road"]) == 0
        everything = png(client, 16)  # the default (QGIS, GDAL): ground and names
        assert share(everything, BASEMAP_COLOURS["label"]) > 0 and share(everything, BASEMAP_COLOURS["major_road"]) > 0
        double = png(client, 16, "?part=ground&scale=2")
        assert Image.open(io.BytesIO(double.content)).size == (1024, 1024)
        etags = {a.headers["etag"] for a in (ground, names, everything, double)}
        assert len(etags) == 4
        assert png(client, 16, "?part=ground").headers["etag"] == ground.headers["etag"]
        tile = TMS.tile(*CENTRE, 16)
        again = client.get(f"/tiles/basemap/16/{tile.x}/{tile.y}.png?part=ground",
                           headers={"If-None-Match": ground.headers["etag"]})
        assert again.status_code == 304
        z12 = np.asarray(Image.open(io.BytesIO(png(client, 12, "?part=ground").content)).convert("RGBA"))
        assert 0 < (z12[..., 3] > 0).mean() < 0.05  # the primary road, a line of a few pixels at this zoom
        assert png(client, 9).status_code == 204  # nothing drawn that far out
        assert png(client, 16, "?part=roads").status_code == 400
        assert "parts: all, ground, names" in png(client, 16, "?part=roads").json()["description"]
        assert png(client, 16, "?scale=3").status_code == 400
        assert client.get("/tiles/basemap/40/0/0.png").status_code == 404
