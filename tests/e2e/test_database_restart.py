"""A PostgreSQL restart under a running app (issue 15 item 7): on a cluster of its own, the app answers 503
database_unavailable while the server is down (never 500), and afterwards items, a tile, an export and a write
work again without restarting the app (its pools check connections and reconnect by themselves)."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import current_principal
from layers.accounts.access import Principal
from layers.db.cluster import Cluster
from layers.db.schema import migrate
from layers.settings import Settings
from tests.e2e.servers import free_port, start, stop, wait_healthy
from tests.two_tenants import seed

KEPLING = Principal(role="kepling", username="kepling1", tenant="12.71", area_code="12.71.01.1001/RT 03")
ROAD: list[tuple[float, float]] = [(98.6300, 3.5300), (98.6318, 3.5300)]  # a road inside the seeded kelurahan


def proposal(n: int) -> dict:
    """A road proposal inside the seeded kelurahan; `n` moves it north so no two overlap."""
    line = [[lon, lat + n * 0.002] for lon, lat in ROAD]
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": line},
            "properties": {"title": f"Paving jalan {n}", "kind": "jalan_paving", "year_start": 2025,
                           "program": "REGULER", "funding_source": "APBD_KABKOTA", "proposer_area": "RT 03",
                           "target_agency": "Dinas Perkim"}}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


@pytest.fixture
def cluster(tmp_path: Path):
    own = Cluster(var_dir=tmp_path / "var", database="kotaku_restart", fast=True)
    own.up()
    try:
        yield own
    finally:
        own.destroy()


def requests(client: TestClient, n: int) -> dict[str, int]:
    """Statuses of what a visitor and a kepling do: items, a tile, an export, a proposal."""
    z, x, y = tile_of(98.615, 3.515, 12)
    return {
        "items": client.get("/collections/slum-areas/items").status_code,
        "tile": client.get(f"/tiles/slum-areas/{z}/{x}/{y}.pbf").status_code,
        "export": client.get("/exports/keterpaduan.csv", params={"tenant": "12.71"}).status_code,
        "write": client.post("/collections/activities/items", json=proposal(n)).status_code,
    }


def test_the_app_rides_out_a_database_restart(cluster: Cluster, tmp_path: Path):
    url = cluster.url()
    migrate(url)
    with psycopg.connect(url) as conn:
        seed(conn)
    settings = Settings(pool_timeout_s=2, var=tmp_path / "var", attachments=tmp_path / "files")
    app = create_app(url, settings, access_log=False)
    app.dependency_overrides[current_principal] = lambda: KEPLING
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.own_login is True
        up = {"items": 200, "tile": 200, "export": 200, "write": 201}
        assert requests(client, 1) == up
        assert cluster.down()
        down = requests(client, 2)
        assert down == {"items": 503, "tile": 503, "export": 503, "write": 503}
        body = client.get("/collections/slum-areas/items").json()
        assert body["code"] == "database_unavailable"
        cluster.up()
        deadline = time.monotonic() + 30  # the pools reconnect with backoff (1 s, 2 s, 4 s ... at most 10 s)
        while client.get("/healthz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert requests(client, 3) == up
    with psycopg.connect(url) as conn:
        titles = [row[0] for row in conn.execute("SELECT title FROM activities WHERE title LIKE 'Paving jalan %' "
                                                 "ORDER BY title")]
    assert titles == ["Paving jalan 1", "Paving jalan 3"]  # the write during the outage changed nothing


def test_the_private_cluster_keeps_the_app_login_beside_the_owners(cluster: Cluster):
    """cluster.json (mode 600) holds the app role's password; cluster.app_url() logs in as the app role."""
    migrate(cluster.url())
    state_file = cluster.var_dir / "cluster.json"
    assert state_file.stat().st_mode & 0o777 == 0o600
    assert '"app_password"' in state_file.read_text()
    with psycopg.connect(cluster.app_url()) as conn:
        assert conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
                            ).fetchone() == ("kotaku_app", False)


def test_kotaku_serve_logs_in_as_the_app_role_and_comes_back_after_a_restart(tmp_path: Path):
    """A real `kotaku serve` on its own private cluster: its connections are the app role's (never the owner's),
    a restart of PostgreSQL is 503 while it lasts and 200 afterwards, the server process untouched."""
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KOTAKU_DATABASE_URL")}
    env.update(KOTAKU_VAR=str(var), KOTAKU_POOL_TIMEOUT_S="2", KOTAKU_LOG_LEVEL="ERROR")
    port = free_port()
    process = start(port, env=env)
    cluster = Cluster(var_dir=var)
    items = f"http://127.0.0.1:{port}/collections/slum-areas/items"
    try:
        wait_healthy(port, process)
        assert httpx.get(items, timeout=10).status_code == 200
        with psycopg.connect(cluster.url()) as conn:
            users = {row[0] for row in conn.execute(
                "SELECT usename FROM pg_stat_activity WHERE application_name LIKE 'kotaku%%' "
                "AND datname = current_database()")}
        assert users == {"kotaku_app"}
        assert cluster.down()
        outage = httpx.get(items, timeout=10)
        assert outage.status_code == 503 and outage.json()["code"] == "database_unavailable"
        cluster.up()
        wait_healthy(port, process, timeout=30)
        assert httpx.get(items, timeout=10).status_code == 200
        assert process.poll() is None  # the same server process throughout
    finally:
        stop(process)
        cluster.destroy()
