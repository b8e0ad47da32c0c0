"""HTTP: the keterpaduan summary (GET /tenants/{tenant}/keterpaduan) and the downloads under /exports/, for
anonymous visitors and logged-in users of two kab/kota; bad tenants and formats are clear 4xx."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import current_principal
from layers.accounts.access import PUBLIC, Principal
from tests.two_tenants import seed

POKJA_MEDAN = Principal(role="pokja", username="pokja-medan", tenant="12.71")
KONSULTAN_SINJAI = Principal(role="konsultan", username="konsultan", tenants=("73.07",))


@pytest.fixture
def ids(conn):
    found = seed(conn)
    conn.commit()
    return found


@pytest.fixture
def client(ids, empty_db):
    app = create_app(empty_db)
    with TestClient(app) as test_client:
        test_client.as_user = lambda p: app.dependency_overrides.__setitem__(current_principal, lambda: p)
        yield test_client


def test_summary_endpoint_contract_and_row_filter(client, ids):
    body = client.get("/tenants/1271/keterpaduan").json()
    assert {"tenant", "slum_areas", "kelurahan", "kecamatan", "kabkota"} <= set(body) and body["tenant"] == "12.71"
    [area] = body["slum_areas"]
    assert area["slum_area_id"] == ids["12.71"]["published"] and area["kawasan"] == "Kawasan published"
    assert {"slum_area_id", "kawasan", "kelurahan_code", "kelurahan", "area_ha", "level", "total_score",
            "projected_level", "projected_total", "activities", "programs", "proposed_cost", "budgeted", "realised",
            "criteria_addressed", "criteria_remaining", "collaborations"} <= set(area)
    assert body["kabkota"]["code"] == "12.71" and body["kabkota"]["activities"] == 1
    assert "Pak Budi" not in json.dumps(body)
    client.as_user(POKJA_MEDAN)
    own = client.get("/tenants/12.71/keterpaduan").json()
    assert [a["kawasan"] for a in own["slum_areas"]] == ["Kawasan unpublished"]


def test_summary_endpoint_errors(client):
    assert client.get("/tenants/99/keterpaduan").status_code == 400
    missing = client.get("/tenants/12.72/keterpaduan")
    assert missing.status_code == 404 and "12.72" in missing.json()["description"]
    assert client.get("/tenants/12.71/keterpaduan", params={"decree": "SK 12.71 unpublished"}).status_code == 404


def _kawasan(response) -> list[str]:
    assert response.status_code == 200, response.text
    doc = json.loads(response.content)
    return sorted(f["properties"]["kawasan"] for f in doc["features"] if f["properties"]["layer"] == "kawasan_kumuh")


def test_downloads_hold_what_the_caller_may_export(client):
    anonymous = client.get("/exports/keterpaduan.geojson", params={"tenant": "12.71"})
    assert anonymous.headers["content-type"] == "application/geo+json"
    assert anonymous.headers["content-disposition"] == 'attachment; filename="keterpaduan_1271.geojson"'
    assert _kawasan(anonymous) == ["Kawasan published"] and json.loads(anonymous.content)["public_only"]
    client.as_user(POKJA_MEDAN)
    assert _kawasan(client.get("/exports/keterpaduan.geojson", params={"tenant": "1271"})) == ["Kawasan unpublished"]
    client.as_user(KONSULTAN_SINJAI)  # not assigned to Medan: the public rows; Sinjai: its own
    assert _kawasan(client.get("/exports/keterpaduan.geojson", params={"tenant": "12.71"})) == ["Kawasan published"]
    assert _kawasan(client.get("/exports/keterpaduan.geojson", params={"tenant": "73.07"})) == ["Kawasan unpublished"]
    for fmt in ("csv", "kml"):
        body = client.get(f"/exports/keterpaduan.{fmt}", params={"tenant": "73.07"})
        assert body.status_code == 200 and b"Pak Budi" not in body.content and b"0812-000" not in body.content
    client.as_user(PUBLIC)
    shp = client.get("/exports/keterpaduan.shp.zip", params={"tenant": "12.71"})
    assert shp.status_code == 200 and shp.headers["content-type"] == "application/zip"
    assert shp.content[:2] == b"PK"


def test_download_errors_are_clear(client):
    bad_format = client.get("/exports/keterpaduan.docx", params={"tenant": "12.71"})
    assert bad_format.status_code == 400 and "gpkg" in bad_format.json()["description"]
    assert client.get("/exports/keterpaduan.csv", params={"tenant": "1"}).status_code == 400
    unknown = client.get("/exports/keterpaduan.csv", params={"tenant": "12.72"})
    assert unknown.status_code == 400 and "12.72" in unknown.json()["description"]
    assert client.get("/exports/keterpaduan.csv").status_code == 400  # tenant is required
    index = client.get("/exports").json()
    assert index["keterpaduan"]["formats"] == ["gpkg", "shp", "kml", "kmz", "geojson", "csv", "xlsx", "pdf", "png",
                                               "html"]
