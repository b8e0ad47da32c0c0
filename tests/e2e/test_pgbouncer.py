"""Pooling (issue 14 item 4): the app through a real PgBouncer in transaction mode, with prepared statements off
(KOTAKU_PREPARE_THRESHOLD=none). Streamed items (a server-side cursor), tiles, a proposal with the overlap check
(advisory transaction locks), workflow transitions: all as without PgBouncer. With prepared statements on, two
sessions that meet on one server connection collide, which is why the setting exists."""

from __future__ import annotations

import morecantile
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import current_principal
from layers.accounts.access import Principal
from layers.db.connection import app_login_url
from layers.settings import Settings
from tests.e2e.pgbouncer import available, pgbouncer

pytestmark = pytest.mark.skipif(not available(), reason="pgbouncer is not installed (Debian package pgbouncer; "
                                                        "`make test` installs it)")
ITEMS = "/collections/activities/items"
KEPLING = Principal(role="kepling", username="kepling1", tenant="12.71", area_code="12.71.01.1001/RT 03")
LURAH = Principal(role="lurah", username="lurah1", tenant="12.71", area_code="12.71.01.1001")
ROAD = {"type": "LineString", "coordinates": [[98.6850, 3.5832], [98.6868, 3.5832]]}
TMS = morecantile.tms.get("WebMercatorQuad")


def feature(**properties):
    base = {"title": "Paving jalan RT 03", "kind": "jalan_paving", "year_start": 2025, "program": "REGULER",
            "funding_source": "APBD_KABKOTA", "proposer_area": "RT 03", "proposer_name": "Budi",
            "proposer_phone": "0812000000", "target_agency": "Dinas Perkim"}
    return {"type": "Feature", "geometry": ROAD, "properties": {**base, **properties}}


@pytest.fixture
def bouncer(demo_url):
    with pgbouncer(demo_url) as url:
        yield url


@pytest.mark.writes_demo
def test_the_app_works_through_pgbouncer_in_transaction_mode_without_prepared_statements(bouncer, demo_url,
                                                                                          tmp_path):
    settings = Settings(prepare_threshold=None, tile_cache_mb=0, attachments=tmp_path / "files", _env_file=None)
    app = create_app(bouncer, settings)
    principal = {"who": Principal(role="publik")}
    app.dependency_overrides[current_principal] = lambda: principal["who"]
    with psycopg.connect(demo_url) as direct:
        activities = direct.execute("SELECT count(*) FROM activities").fetchone()[0]
        lon, lat = direct.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)) c "
                                  "FROM slum_areas) s").fetchone()
    with TestClient(app) as client:
        for _ in range(8):  # more than psycopg's default threshold (5): nothing may be prepared
            items = client.get(ITEMS, params={"limit": 10000})  # streamed through a server-side cursor
            assert items.status_code == 200, items.text
            assert len(items.json()["features"]) == activities
            for z in (12, 13, 14):
                tile = TMS.tile(lon, lat, z)
                answer = client.get(f"/tiles/slum-areas/{z}/{tile.x}/{tile.y}.pbf")
                assert answer.status_code == 200 and answer.content, answer.text

        principal["who"] = KEPLING
        created = client.post(ITEMS, json=feature())
        assert created.status_code == 201, created.text
        duplicate = client.post(ITEMS, json=feature(program="NSUP", funding_source="NSUP_WB_AIIB"))
        assert duplicate.status_code == 409  # the overlap check, under its advisory transaction lock
        assert duplicate.json()["details"]["conflicts"][0]["id"] == created.json()["id"]
        principal["who"] = LURAH
        step = client.post(f"/activities/{created.json()['id']}/transitions", json={"action": "teruskan"})
        assert step.status_code == 200 and step.json()["stage"] == "musrenbang_kelurahan", step.text
        principal["who"] = Principal(role="publik")
        history = client.get(f"/activities/{created.json()['id']}/history").json()["history"]
        assert history[-1]["to_stage"] == "musrenbang_kelurahan" and history[-1]["action"] == "teruskan"
        etag = client.get(ITEMS, params={"limit": 1}).headers["etag"]
        assert client.get(ITEMS, params={"limit": 1}, headers={"If-None-Match": etag}).status_code == 304
    with psycopg.connect(demo_url) as direct:
        assert direct.execute("SELECT count(*) FROM activities").fetchone()[0] == activities + 1


def test_prepared_statements_collide_in_transaction_mode_and_the_setting_turns_them_off(bouncer):
    login = app_login_url(bouncer)
    assert login is not None

    def two_sessions(threshold: int | None) -> None:
        first = psycopg.connect(login, autocommit=True, prepare_threshold=threshold)
        second = psycopg.connect(login, autocommit=True, prepare_threshold=threshold)
        try:
            for conn in (first, second, first, second):  # both land on the one idle server connection
                assert conn.execute("SELECT count(*) FROM layer_versions WHERE version >= %s", [0]).fetchone()
        finally:
            first.close()
            second.close()

    two_sessions(None)  # KOTAKU_PREPARE_THRESHOLD=none: fine
    with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
        two_sessions(0)  # each session names its first statement _pg3_0 on the same server connection
