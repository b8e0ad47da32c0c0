"""HTTP: scores and their history per unit, slum area and region; priorities and progress per tenant; what a
caller may not see stays hidden."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import current_principal
from layers.accounts.access import Principal
from layers.scoring.status import refresh_status
from tests.layers.scoring_helpers import TENANT, scalar


@pytest.fixture
def medan(demo_conn):
    refresh_status(demo_conn, TENANT)
    demo_conn.commit()
    return demo_conn


@pytest.fixture
def client(medan, demo_url):
    with TestClient(create_app(demo_url)) as test_client:
        yield test_client


def test_tenant_scores_as_json_and_csv(client):
    body = client.get("/tenants/1271/scores", params={"round": "2023"}).json()
    assert body["tenant"] == TENANT and body["count"] == 192
    row = body["rows"][0]
    assert {"label", "kelurahan_code", "kelurahan", "round", "v_1a", "p_1a", "s_1a", "total", "level"} <= set(row)
    assert all(r["round"] == "2023" and r["level"] in ("TK", "KR", "KS", "KB") for r in body["rows"])
    csv = client.get("/tenants/12.71/scores", params={"format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert len(pd.read_csv(io.StringIO(csv.text))) == 384
    assert client.get("/tenants/12.71/scores", params={"format": "xml"}).status_code == 400
    assert client.get("/tenants/Medan/scores").json()["code"] == "invalid_input"


def test_histories_of_a_unit_a_slum_area_and_a_region(client, medan):
    unit = scalar(medan, "SELECT min(id) FROM survey_units")
    history = client.get(f"/survey-units/{unit}/scores").json()["history"]
    assert [h["round"] for h in history] == ["baseline", "2023"]
    area = scalar(medan, "SELECT slum_area_id FROM survey_units WHERE id = %s", unit)
    body = client.get(f"/slum-areas/{area}/scores").json()
    assert body["slum_area"]["id"] == area and [h["round"] for h in body["history"]] == ["baseline", "2023"]
    assert {u["unit_id"] for u in body["units"]} >= {unit}
    kecamatan = scalar(medan, "SELECT left(kelurahan_code, 8) FROM survey_units WHERE id = %s", unit)
    region = client.get(f"/regions/{kecamatan}/scores").json()
    assert region["scope"] == "kecamatan" and [h["round"] for h in region["history"]] == ["SK", "baseline", "2023"]
    assert region["history"][0]["slum_ha"] >= region["history"][1]["slum_ha"]
    assert str(area) in {s["code"] for s in region["slum_areas"]}
    assert client.get("/regions/12.71.99/scores").status_code == 404
    assert client.get("/slum-areas/999999/scores").status_code == 404


def test_priorities_and_progress_of_a_tenant(client):
    body = client.get("/tenants/12.71/priorities").json()
    assert body["count"] == 60 and [r["position"] for r in body["rows"]] == list(range(1, 61))
    assert all("basis" in r and "missing" in r and r["kewenangan"] for r in body["rows"])
    progress = client.get("/tenants/12.71/progress").json()
    assert progress["baseline"] == "baseline" and progress["rounds"] == ["SK", "baseline", "2023"]
    city = [s for s in progress["series"] if s["scope"] == "kabkota"]
    assert [c["round"] for c in city] == ["SK", "baseline", "2023"] and city[2]["left_slum_ha"] > 0
    akhir = progress["kumuh_akhir"]
    assert akhir["summary"]["units"] == 192 and akhir["regions"][0]["scope"] == "kabkota"


@pytest.mark.writes_demo
def test_unpublished_decrees_are_hidden_from_the_public(client, medan):
    medan.execute("UPDATE decrees SET published = false")
    medan.commit()
    area = scalar(medan, "SELECT min(id) FROM slum_areas")
    assert client.get(f"/slum-areas/{area}/scores").status_code == 404
    assert client.get("/tenants/12.71/scores").json()["count"] == 0
    assert client.get("/tenants/12.71/priorities").json()["count"] == 0
    client.app.dependency_overrides[current_principal] = lambda: Principal(role="pokja", tenant=TENANT)
    try:
        assert client.get(f"/slum-areas/{area}/scores").status_code == 200
        assert client.get("/tenants/12.71/scores").json()["count"] == 384
    finally:
        client.app.dependency_overrides.clear()
