"""The drawing helpers of /peta/usulan over HTTP, on the demo with Jakarta Pusat's real OSM roads (31.71): a line
drawn 12 m beside a road comes back on it (every point within a metre of the road in PostGIS), a drawing near a
Medan activity lands on the activity; GPX, KMZ and GeoJSON tracks come back as one line; bad drawings and files are
4xx in the error shape with an Indonesian sentence when asked, and nothing is stored."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile

import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient

from api.app import create_app
from layers.accounts import users
from layers.accounts.access import cli_principal
from layers.db.connection import connect_async
from layers.imports.demo_basemap import load_demo_basemap

INDONESIAN = {"Accept-Language": "id"}
# A road inside Kota Jakarta Pusat at least 400 m long, no other road within 30 m of its middle 40 %, which is
# offset by a number of metres to one side (in its UTM zone).
BESIDE_A_ROAD = """
WITH r AS (SELECT f.id, f.name, f.geom, kotaku_utm_srid(f.geom) AS s FROM basemap_features f
           JOIN regions k ON k.code = '31.71' AND ST_Contains(k.geom, ST_Buffer(f.geom::geography, 50)::geometry)
           WHERE f.layer = 'roads' AND f.tenant = '31.71' AND ST_Length(f.geom::geography) > 400 ORDER BY f.id)
SELECT r.id, ST_AsText(ST_Transform(ST_StartPoint(o), 4326)), ST_AsText(ST_Transform(ST_EndPoint(o), 4326))
FROM r, ST_OffsetCurve(ST_LineSubstring(ST_Transform(r.geom, r.s), 0.3, 0.7), %s) o
WHERE NOT EXISTS (SELECT 1 FROM basemap_features f WHERE f.layer = 'roads' AND f.id <> r.id
                  AND ST_DWithin(f.geom::geography, ST_Transform(o, 4326)::geography, 30))
LIMIT 1
"""
# every point of the drawing (segmentized each metre), farthest from the road: the drawing lies on it
OFF_THE_LINE = """
SELECT max(ST_Distance(ST_Transform(p.geom, s), ST_Transform(f.geom, s)))
FROM (SELECT geom FROM basemap_features WHERE id = %(id)s UNION ALL SELECT geom FROM activities WHERE id = %(activity)s)
     f(geom),
     ST_DumpPoints(ST_Segmentize(ST_Transform(ST_GeomFromText(%(wkt)s, 4326), kotaku_utm_srid(f.geom)), 1)) p,
     kotaku_utm_srid(f.geom) s
"""


@pytest.fixture(scope="module")
def site(fresh_demo):
    url = fresh_demo()
    with psycopg.connect(url) as conn:
        load_demo_basemap(conn)
        conn.commit()

    async def token() -> str:
        async with await connect_async(url, autocommit=True) as conn:
            await users.add_user(conn, cli_principal(), "pokja.jakpus", "pokja", "31.71", password="kata-sandi-uji-1")
            return (await users.issue_token(conn, cli_principal(), "pokja.jakpus"))[1]

    bearer = {"Authorization": f"Bearer {asyncio.run(token())}"}
    with TestClient(create_app(url)) as client:
        yield client, url, bearer


def beside_a_road(url: str, offset_m: float = 12) -> tuple[int, shapely.LineString]:
    with psycopg.connect(url) as conn:
        road, start, end = conn.execute(BESIDE_A_ROAD, [offset_m]).fetchone()
    return road, shapely.LineString([shapely.from_wkt(start).coords[0], shapely.from_wkt(end).coords[0]])


def farthest(url: str, wkt: str, road: int | None = None, activity: int | None = None) -> float:
    with psycopg.connect(url) as conn:
        return conn.execute(OFF_THE_LINE, {"id": road, "activity": activity, "wkt": wkt}).fetchone()[0]


def snap(client, geometry, **extra):
    return client.post("/drawing/snap", json={"geometry": shapely.geometry.mapping(geometry), **extra})


def test_a_line_drawn_beside_a_road_lands_on_the_road(site):
    client, url, _ = site
    road, drawn = beside_a_road(url)
    assert farthest(url, drawn.wkt, road) > 11  # as drawn: its ends 12 m off, its chord farther where the road bends
    answer = snap(client, drawn, tolerance_m=25, tenant="31.71")  # anyone drawing may snap
    assert answer.status_code == 200, answer.text
    feature = answer.json()
    snapped = shapely.geometry.shape(feature["geometry"])
    assert snapped.geom_type == "LineString"
    assert farthest(url, snapped.wkt, road) < 1.0  # every point, not only the vertices
    assert feature["properties"]["snapped"] == 2 and feature["properties"]["vertices"] == 2
    assert [t["id"] for t in feature["properties"]["targets"]] == [road]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM activities WHERE tenant = '31.71'").fetchone()[0] == 0


def test_a_drawing_farther_than_the_tolerance_stays_as_drawn(site):
    client, url, _ = site
    _, drawn = beside_a_road(url)
    feature = snap(client, drawn, tolerance_m=5, tenant="31.71").json()
    assert feature["properties"]["snapped"] == 0
    assert shapely.geometry.shape(feature["geometry"]).equals_exact(drawn, 1e-9)


def test_a_point_and_a_polygon_snap_to_an_activity_of_medan(site):
    client, url, _ = site
    with psycopg.connect(url) as conn:
        activity, start = conn.execute(
            "SELECT id, ST_AsText(ST_Transform(ST_Translate(ST_Transform(ST_LineInterpolatePoint(geom, 0.5), s), "
            "0, 6), 4326)) FROM activities, kotaku_utm_srid(geom) s WHERE tenant = '12.71' "
            "AND GeometryType(geom) = 'LINESTRING' AND status NOT IN ('ditolak', 'dibatalkan') ORDER BY id LIMIT 1"
        ).fetchone()
    point = shapely.from_wkt(start)
    feature = snap(client, point, tolerance_m=15, tenant="12.71").json()
    assert feature["properties"]["targets"][0] == {"source": "kegiatan", "id": activity,
                                                   "name": feature["properties"]["targets"][0]["name"]}
    assert farthest(url, shapely.geometry.shape(feature["geometry"]).wkt, activity=activity) < 0.5
    square = shapely.Polygon([(point.x - 0.0003, point.y - 0.0003), (point.x + 0.0003, point.y - 0.0003),
                              (point.x + 0.0003, point.y + 0.0003), (point.x - 0.0003, point.y + 0.0003)])
    polygon = snap(client, square, tolerance_m=10, tenant="12.71").json()
    assert shapely.geometry.shape(polygon["geometry"]).is_valid
    assert shapely.geometry.shape(polygon["geometry"]).geom_type == "Polygon"


@pytest.mark.parametrize(("geometry", "extra", "status", "field", "words"), [
    (shapely.LineString([(106.80, -6.17), (106.90, -6.17)]), {}, 413, "geometry", "membentang"),  # 11 km
    (shapely.MultiLineString([[(106.82, -6.17), (106.821, -6.17)]]), {}, 400, "geometry", "titik, garis atau poligon"),
    (shapely.LineString([(106.82, -6.17), (106.821, -6.17)]), {"tolerance_m": 500}, 400, "tolerance_m", "tolerance_m"),
    (shapely.LineString([(106.82, -6.17), (106.821, -6.17)]), {"tenant": "jakarta"}, 400, None, "jakarta"),
])
def test_snap_refuses_bad_drawings_in_the_error_shape(site, geometry, extra, status, field, words):
    client, _, _ = site
    answer = client.post("/drawing/snap", json={"geometry": shapely.geometry.mapping(geometry), **extra},
                         headers=INDONESIAN)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"code", "description", "details"}
    assert words in body["description"] and "None" not in body["description"]
    if field:
        assert any(d.get("field") == field for d in body["details"])


def gpx(*segments: list[tuple[float, float]]) -> bytes:
    parts = "".join("<trkseg>" + "".join(f'<trkpt lat="{lat}" lon="{lon}"><ele>7</ele></trkpt>' for lon, lat in seg)
                    + "</trkseg>" for seg in segments)
    return (f'<?xml version="1.0"?><gpx version="1.1" creator="uji" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<wpt lat='-6.17' lon='106.82'><name>Titik</name></wpt><trk><name>Jalan gang</name>{parts}</trk></gpx>"
            ).encode()


def upload(client, bearer, name: str, content: bytes):
    return client.post("/drawing/track", files={"file": (name, content)}, headers={**bearer, **INDONESIAN})


def test_a_gpx_track_of_two_segments_comes_back_as_one_line(site):
    client, _, bearer = site
    answer = upload(client, bearer, "jejak hp.gpx",
                    gpx([(106.8272, -6.1754), (106.8280, -6.1760)], [(106.8280, -6.1760), (106.8290, -6.1770)]))
    assert answer.status_code == 200, answer.text
    feature = answer.json()
    assert feature["geometry"] == {"type": "LineString", "coordinates": [[106.8272, -6.1754], [106.828, -6.176],
                                                                         [106.829, -6.177]]}
    assert feature["properties"]["format"] == "GPX" and feature["properties"]["parts"] == 2


def test_a_long_track_is_simplified_to_an_editable_line(site):
    client, _, bearer = site
    walk = [(106.82 + i * 1e-5, -6.17 + (i % 2) * 1e-6) for i in range(3000)]  # 3,000 fixes, ~330 m, 10 cm zigzag
    feature = upload(client, bearer, "panjang.gpx", gpx(walk)).json()
    assert feature["properties"]["vertices_read"] == 3000
    assert 2 <= feature["properties"]["vertices"] <= 1000 and feature["properties"]["simplified_m"] == 0.5


def test_kmz_and_geojson_tracks(site):
    client, _, bearer = site
    kml = ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>'
           "<name>Saluran</name><LineString><coordinates>106.83,-6.18,0 106.831,-6.181,0</coordinates></LineString>"
           "</Placemark></Document></kml>")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as kmz:
        kmz.writestr("doc.kml", kml)
    feature = upload(client, bearer, "saluran.kmz", packed.getvalue()).json()
    assert feature["geometry"]["coordinates"] == [[106.83, -6.18], [106.831, -6.181]]
    area = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[106.83, -6.18], [106.831, -6.18], [106.831, -6.181], [106.83, -6.18]]]}}]}
    feature = upload(client, bearer, "kawasan.geojson", json.dumps(area).encode()).json()
    assert feature["geometry"]["type"] == "Polygon"


@pytest.mark.parametrize(("name", "content", "status", "words"), [
    ("kosong.gpx", b"", 400, "kosong"),
    ("titik.geojson", json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
     "geometry": {"type": "Point", "coordinates": [106.83, -6.18]}}]}).encode(), 400, "tidak memuat garis"),
    ("hanya-titik.gpx", b'<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
     b'<wpt lat="-6.17" lon="106.82"/></gpx>', 400, "tidak memuat garis"),
    ("rusak.gpx", b"<gpx><trk><trkseg><trkpt lat=", 400, "bukan berkas GPX"),
    ("foto.jpg", b"\xff\xd8\xff\xe0 not a track", 415, "GPX, KML, KMZ atau GeoJSON"),
    ("eropa.gpx", gpx([(4.9, 52.37), (4.91, 52.38)]), 400, "di luar Indonesia"),
    ("besar.gpx", b"<gpx>" + b" " * (10 * 1024 * 1024 + 10) + b"</gpx>", 413, "melebihi batas 10 MB"),
])
def test_bad_track_files_are_refused_in_indonesian(site, name, content, status, words):
    client, _, bearer = site
    answer = upload(client, bearer, name, content)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"code", "description", "details"}
    assert words in body["description"], body["description"]
    assert name in body["description"] and "None" not in body["description"]


def test_reading_a_track_needs_a_user(site):
    client, _, _ = site
    answer = client.post("/drawing/track", files={"file": ("jejak.gpx", gpx([(106.82, -6.17), (106.83, -6.17)]))})
    assert answer.status_code == 401 and answer.json()["code"] == "unauthorized"
