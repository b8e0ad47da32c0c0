"""Writes obey the workflow and the map (issue: hardening, item 2): server-owned fields are never taken from the
client, and a changed geometry meets every check of a create (inside the kab/kota, the caller's area, kelurahan
derived again, overlap)."""

from __future__ import annotations

import pytest

from layers.accounts.access import Principal
from tests.api import test_activities_http
from tests.api.test_activities_http import ITEMS, KEPLING, feature

app = test_activities_http.app  # the fixtures of the proposals tests: Medan's boundaries, clients acting as a principal
as_ = test_activities_http.as_

ADMIN = Principal(role="admin", username="admin1", tenant="12.71")
OUTSIDE_MEDAN = {"type": "LineString", "coordinates": [[98.9000, 3.5000], [98.9018, 3.5000]]}


def count(conn, where: str = "true") -> int:
    return conn.execute(f"SELECT count(*) FROM activities WHERE {where}").fetchone()[0]


def other_kelurahan_road(conn, than: str) -> tuple[str, dict]:
    """A short road inside another kelurahan of Medan than `than`."""
    code, x, y = conn.execute(
        "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM regions "
        "WHERE level = 'desa_kelurahan' AND code LIKE '12.71.%%' AND code <> %s ORDER BY code LIMIT 1) r",
        [than]).fetchone()
    line = {"type": "LineString", "coordinates": [[x, y], [x + 0.0002, y]]}
    inside = conn.execute("SELECT code FROM regions WHERE level = 'desa_kelurahan' AND ST_Intersects(geom, "
                          "ST_PointOnSurface(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)))",
                          [__import__("json").dumps(line)]).fetchone()[0]
    return inside, line


@pytest.mark.parametrize(("field", "value"), [
    ("stage", "serah_terima"), ("status", "selesai"), ("progress", 100), ("stage", "pelaksanaan"),
])
def test_a_create_cannot_set_workflow_fields(as_, conn, field, value):
    response = as_(KEPLING).post(ITEMS, json=feature(**{field: value}))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["details"][0]["field"] == field and "transitions" in body["description"]
    assert count(conn) == 0  # nothing saved


def test_a_create_may_repeat_the_starting_values_and_ignores_derived_fields(as_, conn):
    response = as_(KEPLING).post(ITEMS, json=feature(stage="rembuk_warga", status="aktif", progress=0,
                                                    kelurahan_code="12.71.99.9999", slum_area_id=12345, id=77))
    assert response.status_code == 201, response.text
    stage, status, progress, kelurahan, slum = conn.execute(
        "SELECT stage, status, progress, kelurahan_code, slum_area_id FROM activities").fetchone()
    assert (stage, status, progress) == ("rembuk_warga", "aktif", 0)
    assert kelurahan == "12.71.01.1001" and slum is None  # derived from the geometry, not from the body


def test_a_patch_cannot_move_the_workflow(as_, conn):
    client = as_(KEPLING)
    created = client.post(ITEMS, json=feature()).json()["id"]
    for body in ({"stage": "selesai"}, {"status": "selesai"}, {"progress": 50}):
        response = client.patch(f"{ITEMS}/{created}", json={"type": "Feature", "properties": body})
        assert response.status_code == 400, response.text
    same = client.patch(f"{ITEMS}/{created}", json={"type": "Feature",
                                                   "properties": {"stage": "rembuk_warga", "title": "Paving"}})
    assert same.status_code == 200, same.text
    assert conn.execute("SELECT stage, status, progress, title FROM activities").fetchone() == (
        "rembuk_warga", "aktif", 0, "Paving")


def test_a_patch_cannot_move_a_proposal_out_of_its_kab_kota(as_, conn):
    client = as_(KEPLING)
    created = client.post(ITEMS, json=feature()).json()["id"]
    response = client.patch(f"{ITEMS}/{created}", json={"type": "Feature", "geometry": OUTSIDE_MEDAN})
    assert response.status_code == 400 and "outside kab/kota 12.71" in response.json()["description"]
    moved = client.patch(f"{ITEMS}/{created}", json={"type": "Feature", "properties": {"tenant": "12.75"}})
    assert moved.status_code == 400
    assert conn.execute("SELECT tenant, ST_AsGeoJSON(geom) FROM activities").fetchone()[0] == "12.71"
    assert count(conn, "ST_XMin(geom) > 98.8") == 0


def test_a_patch_into_another_kelurahan_needs_the_callers_area_there(as_, conn):
    client = as_(KEPLING)
    created = client.post(ITEMS, json=feature()).json()["id"]
    elsewhere, road = other_kelurahan_road(conn, "12.71.01.1001")
    response = client.patch(f"{ITEMS}/{created}", json={"type": "Feature", "geometry": road})
    assert response.status_code == 403, response.text
    assert conn.execute("SELECT kelurahan_code FROM activities").fetchone()[0] == "12.71.01.1001"


def test_a_geometry_change_derives_kelurahan_and_length_again(as_, conn):
    created = as_(KEPLING).post(ITEMS, json=feature()).json()["id"]
    elsewhere, road = other_kelurahan_road(conn, "12.71.01.1001")
    response = as_(ADMIN).patch(f"{ITEMS}/{created}", json={"type": "Feature", "geometry": road})
    assert response.status_code == 200, response.text
    kelurahan, length = conn.execute("SELECT kelurahan_code, length_m FROM activities").fetchone()
    assert kelurahan == elsewhere != "12.71.01.1001"
    assert 15 < length < 30  # 0.0002 degrees of longitude near the equator: about 22 m
