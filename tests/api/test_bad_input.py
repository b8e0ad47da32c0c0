"""Bad input is a 4xx, never a 500 (issue: hardening, item 4): every case goes to the real app with a real
principal, must answer 4xx in the {code, description, details} shape naming what is wrong, and must change no row.
The CLI's imports of a CSV with broken WKT exit 2 with the row and field named, without a traceback."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

from layers.accounts.access import Principal
from tests.api import test_activities_http
from tests.api.test_activities_http import ITEMS, KEPLING, ROAD, feature

app = test_activities_http.app  # the fixtures of the proposals tests: Medan's boundaries, clients acting as a principal
as_ = test_activities_http.as_

ADMIN = Principal(role="admin", username="admin1", tenant="12.71")
KOTAKU = str(Path(sys.executable).with_name("kotaku"))
TABLES = ("activities", "activity_events", "activity_attachments", "activity_links", "audit_log", "users",
          "api_tokens")


def snapshot(conn) -> dict[str, str | None]:
    """Every row of the tables a write touches, as one digest per table."""
    return {table: conn.execute(f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                                f"FROM {table} t").fetchone()[0] for table in TABLES}


def assert_refused(response, *names: str, statuses=(400,)) -> dict:
    """A 4xx in the error shape, its description or details naming every one of `names`, no traceback or None."""
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"code", "description", "details"}, body
    text = json.dumps(body)
    for name in names:
        assert name in text, (name, text[:500])
    for leak in ("Traceback", "None", "NoneType", "Error:", "psycopg"):
        assert leak not in body["description"], body["description"]
    return body


@pytest.fixture
def kepling(as_, conn):
    """A client acting as a kepling, with one saved proposal (id in .activity_id): a water connection at the road's
    start, so that a new road there meets no overlap and only the bad value can refuse it."""
    client = as_(KEPLING)
    created = client.post(ITEMS, json=feature(geometry={"type": "Point", "coordinates": ROAD["coordinates"][0]},
                                              kind="sambungan_air", title="Sambungan air"))
    assert created.status_code == 201, created.text
    client.activity_id = created.json()["id"]  # type: ignore[attr-defined]
    return client


def raw_feature(placeholder_field: str, literal: str) -> str:
    """A proposal body as text with `literal` (NaN, Infinity, 1e999 ...) written as the value of a field."""
    if placeholder_field == "coordinates":
        body = feature(geometry={"type": "LineString", "coordinates": [[98.6850, 3.5832], ["@@", 3.5832]]},
                       title="Jalan lain")
    else:
        body = feature(**{"title": "Jalan lain", placeholder_field: "@@"})
    return json.dumps(body).replace('"@@"', literal)


# --- numbers ----------------------------------------------------------------------------------------------------

NON_FINITE = ("NaN", "Infinity", "-Infinity", "1e999", "-1e999")


@pytest.mark.parametrize("literal", [*NON_FINITE, "1e300"])
@pytest.mark.parametrize("field", ["volume", "cost", "year_start", "coordinates"])
def test_numbers_that_are_not_finite_or_absurd_are_400_naming_the_field(kepling, conn, field, literal):
    before = snapshot(conn)
    name = "geometry" if field == "coordinates" else field
    for method, path in (("POST", ITEMS), ("PATCH", f"{ITEMS}/{kepling.activity_id}"), ("POST", "/overlap-check")):
        response = kepling.request(method, path, content=raw_feature(field, literal),
                                   headers={"Content-Type": "application/json"})
        assert_refused(response, name)
    assert snapshot(conn) == before


@pytest.mark.parametrize("literal", NON_FINITE)
def test_non_finite_numbers_anywhere_in_a_body_are_refused_by_the_shared_guard(as_, kepling, conn, literal):
    before = snapshot(conn)
    body = '{"action": "kemajuan", "progress": ' + literal + "}"
    response = kepling.post(f"/activities/{kepling.activity_id}/transitions", content=body,
                            headers={"Content-Type": "application/json"})
    assert_refused(response, "progress")
    admin = as_(ADMIN)
    response = admin.post("/users/kepling1/tokens", content='{"label": "x", "expires_days": ' + literal + "}",
                          headers={"Content-Type": "application/json"})
    assert_refused(response, "expires_days")
    assert snapshot(conn) == before


def test_a_progress_beyond_any_integer_column_is_400(kepling, conn):
    before = snapshot(conn)
    response = kepling.post(f"/activities/{kepling.activity_id}/transitions",
                            json={"action": "kemajuan", "progress": 10**30})
    assert_refused(response, "progress")
    assert snapshot(conn) == before


# --- text -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["title", "proposer_name", "proposer_area", "unit", "override_reason"])
def test_a_nul_byte_in_text_is_400_before_the_database(kepling, conn, field):
    before = snapshot(conn)
    response = kepling.post(ITEMS, json=feature(**{"title": "Jalan lain", field: "ab\x00cd"}))
    assert_refused(response, field, "NUL")
    response = kepling.patch(f"{ITEMS}/{kepling.activity_id}", json=feature(**{field: "\x00"}))
    assert_refused(response, field)
    assert snapshot(conn) == before


def test_nul_bytes_in_other_bodies(as_, kepling, conn):
    before = snapshot(conn)
    response = kepling.post(f"/activities/{kepling.activity_id}/transitions",
                            json={"action": "kembalikan", "reason": "kurang\x00lengkap"})
    assert_refused(response, "reason")
    admin = as_(ADMIN)
    assert_refused(admin.post("/users", json={"username": "baru", "role": "pokja", "area": "12.71",
                                              "display_name": "Ani\x00"}), "display_name")
    assert_refused(admin.post("/users/kepling1/tokens", json={"label": "\x00"}), "label")
    assert snapshot(conn) == before


@pytest.mark.parametrize("value", [{"a": 1}, ["Paving"], 5, 5.5, True])
@pytest.mark.parametrize("field", ["title", "proposer_name", "target_agency"])
def test_text_sent_as_an_object_array_number_or_boolean_is_400(kepling, conn, field, value):
    before = snapshot(conn)
    response = kepling.post(ITEMS, json=feature(**{"title": "Jalan lain", field: value}))
    assert_refused(response, field, "text")
    assert snapshot(conn) == before


@pytest.mark.parametrize(("field", "limit"), [
    ("title", 300), ("proposer_name", 200), ("proposer_area", 200), ("proposer_phone", 40), ("target_agency", 200),
    ("unit", 50), ("override_reason", 2000),
])
def test_over_long_text_is_400_naming_the_field_and_its_limit(kepling, conn, field, limit):
    before = snapshot(conn)
    response = kepling.post(ITEMS, json=feature(**{"title": "Jalan lain", field: "x" * (limit + 1)}))
    assert_refused(response, field, str(limit))
    at_limit = kepling.post("/overlap-check", json=feature(**{"title": "Jalan lain", field: "x" * limit}))
    assert at_limit.status_code == 200, at_limit.text
    assert snapshot(conn) == before


def test_over_long_reason_label_and_unknown_property(as_, kepling, conn):
    before = snapshot(conn)
    response = kepling.post(f"/activities/{kepling.activity_id}/transitions",
                            json={"action": "kembalikan", "reason": "x" * 2001})
    assert_refused(response, "reason", "2000")
    assert_refused(as_(ADMIN).post("/users/kepling1/tokens", json={"label": "x" * 201}), "label", "200")
    response = kepling.post(ITEMS, json=feature(title="Jalan lain", keterangan_lain="x" * 10_001))
    assert_refused(response, "keterangan_lain", "10000")
    assert snapshot(conn) == before


def test_every_write_route_runs_the_shared_body_guard():
    """A write route on a router without CheckedJSONRoute would let NaN, NUL and over-long text through."""
    from fastapi.routing import APIRoute

    from api.app import create_app
    from api.body_checks import CheckedJSONRoute

    def every(routes):  # FastAPI keeps an included router as one entry holding the router's own routes
        for route in routes:
            included = getattr(route, "original_router", None)
            yield from every(included.routes) if included is not None else [route]

    writes = [route for route in every(create_app("postgresql://nobody@127.0.0.1:1/none").routes)
              if isinstance(route, APIRoute) and route.methods & {"POST", "PUT", "PATCH"}]
    assert len(writes) >= 10
    unguarded = [f"{sorted(route.methods)} {route.path}" for route in writes if not isinstance(route, CheckedJSONRoute)]
    assert unguarded == []


# --- ids and paging ---------------------------------------------------------------------------------------------

HUGE = str(2**64 + 1)


@pytest.mark.parametrize("bad_id", ["abc", "1.5", HUGE, "-" + HUGE, "1e3"])
def test_ids_that_are_not_64_bit_integers_are_400_or_404(as_, kepling, conn, bad_id):
    before = snapshot(conn)
    admin = as_(ADMIN)
    calls = [
        (kepling, "GET", f"/activities/{bad_id}/history", None),
        (kepling, "GET", f"/activities/{bad_id}/links", None),
        (kepling, "POST", f"/activities/{bad_id}/transitions", {"action": "teruskan"}),
        (kepling, "PUT", f"{ITEMS}/{bad_id}", feature()),
        (kepling, "PATCH", f"{ITEMS}/{bad_id}", feature()),
        (kepling, "DELETE", f"{ITEMS}/{bad_id}", None),
        (kepling, "GET", f"{ITEMS}/{bad_id}", None),
        (kepling, "GET", f"/collections/regions/items/{bad_id}", None),
        (kepling, "GET", f"/collections/slum-areas/items/{bad_id}", None),
        (kepling, "GET", f"/survey-units/{bad_id}/scores", None),
        (admin, "DELETE", f"/users/kepling1/tokens/{bad_id}", None),
    ]
    for client, method, path, body in calls:
        response = client.request(method, path, json=body)
        assert_refused(response, statuses=(400, 404))
    files = {"file": ("foto.png", _png(), "image/png")}
    assert_refused(kepling.post(f"/activities/{bad_id}/attachments", files=files), statuses=(400, 404))
    assert snapshot(conn) == before


@pytest.mark.parametrize(("path", "field"), [
    ("/collections/activities/items/a%00b", "path"), ("/collections/regions/items/%00", "path"),
    ("/users/a%00b/tokens", "path"), ("/collections/activities/items?title=a%00b", "title"),
    ("/collections/activities/items?filter=title%3D%27a%00%27", "filter"), ("/tenants/12.71%00/scores", "path"),
    ("/collections/activities/items?x%00y=1", "x%00y"),
])
def test_a_nul_character_in_the_url_is_400_naming_where(as_, conn, path, field):
    before = snapshot(conn)
    admin = as_(ADMIN)
    for method in ("GET", "POST", "DELETE"):
        body = assert_refused(admin.request(method, path), "NUL", statuses=(400,))
        assert body["details"][0]["field"] == field
    assert snapshot(conn) == before


@pytest.mark.parametrize("parameter", ["offset", "limit"])
@pytest.mark.parametrize("value", [HUGE, str(2**63), "-" + HUGE, "1e3", "abc"])
def test_offset_and_limit_beyond_64_bits_are_400(kepling, parameter, value):
    for collection in ("activities", "regions"):
        response = kepling.get(f"/collections/{collection}/items", params={parameter: value})
        assert_refused(response, parameter)


@pytest.mark.parametrize("value", [HUGE, "99999999999", "-5", "abc"])
def test_a_year_beyond_any_year_is_400(kepling, value):
    assert_refused(kepling.get("/tenants/12.71/progress", params={"until": value}), "until")


# --- geometry ---------------------------------------------------------------------------------------------------

BAD_GEOMETRIES = {
    "collection": {"type": "GeometryCollection", "geometries": [ROAD]},
    "collection_of_nothing": {"type": "GeometryCollection", "geometries": []},
    "empty_polygon": {"type": "Polygon", "coordinates": []},
    "empty_line": {"type": "LineString", "coordinates": []},
    "unclosed_ring": {"type": "Polygon", "coordinates": [[[98.685, 3.583], [98.686, 3.583], [98.686, 3.584],
                                                          [98.685, 3.584]]]},
    "ring_of_three": {"type": "Polygon", "coordinates": [[[98.685, 3.583], [98.686, 3.583], [98.685, 3.583]]]},
    "one_point_line": {"type": "LineString", "coordinates": [[98.685, 3.583]]},
    "one_number": {"type": "LineString", "coordinates": [[98.685], [98.686, 3.583]]},
    "four_numbers": {"type": "LineString", "coordinates": [[98.685, 3.583, 1, 2], [98.686, 3.583, 1, 2]]},
    "strings": {"type": "LineString", "coordinates": [["98.685", "3.583"], ["98.686", "3.583"]]},
    "booleans": {"type": "LineString", "coordinates": [[True, False], [98.686, 3.583]]},
    "nested_wrong": {"type": "LineString", "coordinates": [[[98.685, 3.583]], [[98.686, 3.583]]]},
    "not_a_list": {"type": "LineString", "coordinates": "98.685 3.583"},
    "no_type": {"coordinates": [[98.685, 3.583], [98.686, 3.583]]},
    "unknown_type": {"type": "Circle", "coordinates": [98.685, 3.583]},
    "null_coordinate": {"type": "LineString", "coordinates": [[None, 3.583], [98.686, 3.583]]},
    "geometry_is_text": "LINESTRING(98.685 3.583, 98.686 3.583)",
    "geometry_is_list": [[98.685, 3.583], [98.686, 3.583]],
}


@pytest.mark.parametrize("case", BAD_GEOMETRIES)
def test_broken_geometry_is_400_naming_geometry(kepling, conn, case):
    before = snapshot(conn)
    body = feature(title="Jalan lain")
    body["geometry"] = BAD_GEOMETRIES[case]
    for method, path in (("POST", ITEMS), ("PATCH", f"{ITEMS}/{kepling.activity_id}"), ("POST", "/overlap-check")):
        assert_refused(kepling.request(method, path, json=body), "geometry")
    assert snapshot(conn) == before


# --- photos and videos ------------------------------------------------------------------------------------------

def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "PNG")
    return out.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with a few bytes of data (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) \
        + chunk(b"IEND", b"")


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG with its SOF0 frame header rewritten to claim width x height."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _jpeg_with_gps(gps: dict) -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8825).update(gps)
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(client, activity_id: int, name: str, content: bytes, media_type: str):
    return client.post(f"/activities/{activity_id}/attachments", files={"file": (name, content, media_type)})


@pytest.mark.parametrize("content", [_png_claiming(60_000, 60_000), _jpeg_claiming(65_000, 65_000),
                                     _png_claiming(20_000, 20_000)], ids=["png-3.6G", "jpeg-4.2G", "png-400M"])
def test_a_decompression_bomb_is_refused_without_a_500(kepling, conn, content):
    before = snapshot(conn)
    response = upload(kepling, kepling.activity_id, "bom.png", content, "image/png")
    assert_refused(response, "pixels", statuses=(400, 413, 415))
    assert snapshot(conn) == before


RATIONAL_ZERO = {1: "N", 2: ((3, 1), (35, 0), (0, 0)), 3: "E", 4: ((98, 1), (41, 1), (0, 0))}


@pytest.mark.parametrize("gps", [
    {1: "N", 2: (3.0, 35.0), 3: "E", 4: (98.0, 41.0, 5.0)},  # a part missing
    {1: "N", 2: (3.0,), 3: "E", 4: (98.0, 41.0, 5.0)},
    {1: "N", 2: (3.0, 35.0, 0.0)},  # longitude missing
    {1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (98.0, 41.0, 5.0)},  # latitude beyond 90
    {1: "N", 2: (3.0, 35.0, 0.0), 3: "E", 4: (1e30, 0.0, 0.0)},
], ids=["two-parts", "one-part", "no-longitude", "lat-95", "lon-1e30"])
def test_malformed_exif_gives_a_photo_without_position_flagged(kepling, conn, gps):
    response = upload(kepling, kepling.activity_id, "foto.jpg", _jpeg_with_gps(gps), "image/jpeg")
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["lon"] is None and record["lat"] is None and record["flagged"] is True


def test_zero_denominators_in_gps_rationals(kepling):
    """Written as raw EXIF rationals (x/0): the position is unknown, the photo kept and flagged."""
    exif = Image.Exif()
    from PIL.TiffImagePlugin import IFDRational
    exif.get_ifd(0x8825).update({1: "N", 2: (IFDRational(3, 1), IFDRational(35, 0), IFDRational(0, 0)),
                                 3: "E", 4: (IFDRational(98, 1), IFDRational(41, 1), IFDRational(0, 1))})
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(out, "JPEG", exif=exif.tobytes())
    response = upload(kepling, kepling.activity_id, "foto.jpg", out.getvalue(), "image/jpeg")
    assert response.status_code == 201, response.text
    assert response.json()["lat"] is None and response.json()["flagged"] is True


@pytest.mark.parametrize("value", ["tiga derajat", b"\x00\x01", 3.5, None, (3.0, "x", 1.0), (3.0, float("nan"), 0.0),
                                   (3.0, float("inf"), 0.0), ({}, 1, 2)])
def test_gps_parts_of_the_wrong_type_give_no_position(value):
    """Values Pillow cannot write but other cameras' EXIF gives it (text, bytes, a bare number, NaN): no position."""
    from layers.planning.attachments import _coordinate

    assert _coordinate(value, "N", ("S", b"S"), 90) is None
    assert _coordinate((3.0, 35.0, 0.0), "S", ("S", b"S"), 90) == pytest.approx(-3.5833333)


@pytest.mark.parametrize("content", [
    b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 8 + b"not a video at all" * 10,
    b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp42",  # a header and nothing else
    b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp42" + b"\x00\x00\x00\x08free" + b"\xff" * 100,
    b"\x00\x00\xff\xffftypmp42" + b"\x00" * 40,  # the box claims more bytes than the file has
])
def test_a_fake_mp4_is_415(kepling, conn, content):
    before = snapshot(conn)
    response = upload(kepling, kepling.activity_id, "video.mp4", content, "video/mp4")
    assert_refused(response, "MP4", statuses=(400, 415))
    assert snapshot(conn) == before


def test_a_real_mp4_shape_is_still_accepted(kepling):
    """ftyp, moov and mdat boxes that add up to the file: accepted as a video (the guard must be able to pass)."""
    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload
    content = box(b"ftyp", b"isom\x00\x00\x02\x00isommp42") + box(b"moov", box(b"mvhd", b"\x00" * 100)) \
        + box(b"mdat", b"\x00" * 64)
    response = upload(kepling, kepling.activity_id, "video.mp4", content, "video/mp4")
    assert response.status_code == 201, response.text
    assert response.json()["media_type"] == "video/mp4"


# --- CLI imports of a CSV with broken WKT -----------------------------------------------------------------------

def run_cli(args: list[str], url: str) -> subprocess.CompletedProcess:
    return subprocess.run([KOTAKU, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DATABASE_URL": url})


BROKEN_WKT = {
    "cut_off": "POLYGON((98.68 3.58, 98.69 3.58, 98.69",
    "garbage": "not wkt at all",
    "nan": "POINT(nan nan)",
    "inf": "LINESTRING(98.68 3.58, inf 3.58)",
    "empty": "POLYGON EMPTY",
    "ring_of_two": "POLYGON((98.68 3.58, 98.69 3.58))",
    "collection": "GEOMETRYCOLLECTION(POINT(98.68 3.58), LINESTRING(98.68 3.58, 98.69 3.58))",
    "nul": "POINT(98.68\x00 3.58)",
}


@pytest.mark.parametrize("case", BROKEN_WKT)
@pytest.mark.parametrize("command", ["activities", "slum-areas"])
def test_cli_import_of_a_csv_with_broken_wkt_exits_2_naming_the_row(empty_db, conn, tmp_path, command, case):
    from data import data_path
    from layers.imports.regions import import_regions

    import_regions(conn, data_path("demo", "boundaries", "kota_medan_kab_kota.geojson"))
    good = "POLYGON((98.680 3.580, 98.681 3.580, 98.681 3.581, 98.680 3.581, 98.680 3.580))"
    if command == "activities":
        header = "title,kind,year_start,wkt"
        line = "LINESTRING(98.680 3.580, 98.681 3.580)"
        rows = [f'Jalan satu,drainase,2025,"{line}"', f'Jalan dua,drainase,2025,"{BROKEN_WKT[case]}"']
    else:
        header = "Kawasan,wkt"
        rows = [f'Kawasan Satu,"{good}"', f'Kawasan Dua,"{BROKEN_WKT[case]}"']
    path = tmp_path / "input.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    before = snapshot(conn)
    result = run_cli(["import", command, str(path), "--tenant", "12.71"], empty_db)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    report = run_cli(["import", command, str(path), "--tenant", "12.71", "--json"], empty_db)
    assert report.returncode == 2 and "Traceback" not in report.stderr
    answer = json.loads(report.stdout)  # a file that cannot be read (details) or a rejected import (errors)
    errors = answer.get("errors") or answer.get("details")
    assert errors and all(e["feature"] == 2 and e["field"] in ("geometry", "wkt") for e in errors), errors
    assert snapshot(conn) == before
