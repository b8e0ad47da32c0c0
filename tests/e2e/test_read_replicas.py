"""Read replicas (issue 14 item 3): a real streaming replica of a private cluster (layers/db/cluster.py
`start_replica`: pg_basebackup -R), the app with KOTAKU_DATABASE_READ_URL on it. Reads go to the replica, a writer
reads its own write at once (from the primary while the replica has not replayed it; another caller does not see
it yet, so the reads really come from the replica), and a stopped replica is skipped: reads answer from the primary
with no error. Exports and the other reads of the sync pool follow the same choice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import current_principal
from layers.accounts.access import Principal
from layers.db.cluster import Cluster
from layers.settings import Settings

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
ITEMS = "/collections/activities/items"
KEPLING = Principal(role="kepling", username="kepling1", tenant="12.71", area_code="12.71.01.1001/RT 03")
ROAD = {"type": "LineString", "coordinates": [[98.6850, 3.5832], [98.6868, 3.5832]]}
OTHER_ROAD = {"type": "LineString", "coordinates": [[98.6850, 3.5838], [98.6868, 3.5838]]}  # 65 m north
EXPORT = "/exports/keterpaduan.geojson"


def feature(title: str, road: dict = ROAD) -> dict:
    properties = {"title": title, "kind": "jalan_paving", "year_start": 2025, "program": "REGULER",
                  "funding_source": "APBD_KABKOTA", "proposer_area": "RT 03", "proposer_name": "Budi",
                  "proposer_phone": "0812000000", "target_agency": "Dinas Perkim"}
    return {"type": "Feature", "geometry": road, "properties": properties}


@pytest.fixture(scope="module")
def replicated(tmp_path_factory):
    cluster = Cluster(var_dir=tmp_path_factory.mktemp("replicated"), database="kotaku", fast=True)
    cluster.up()
    try:
        primary = cluster.url()
        subprocess.run([KOTAKU, "demo", "--if-empty"], env={**os.environ, "DATABASE_URL": primary}, check=True,
                       capture_output=True)
        replica = cluster.start_replica()
        yield cluster, primary, replica
    finally:
        cluster.stop_replica(mode="immediate")
        cluster.destroy()


def app_on(primary: str, replica: str, tmp_path: Path, **settings):
    app = create_app(primary, Settings(database_read_url=replica, attachments=tmp_path, _env_file=None, **settings))
    app.dependency_overrides[current_principal] = lambda: KEPLING
    return app


def wait_for(check, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_reads_go_to_the_replica_and_a_writer_reads_its_own_write_at_once(replicated, tmp_path):
    cluster, primary, replica = replicated
    # a lag limit far beyond the pause below: the replica stays in use for callers who wrote nothing
    with TestClient(app_on(primary, replica, tmp_path, replica_max_lag_s=3600)) as client:
        routed = client.app.state.pool
        assert wait_for(lambda: routed.replicas[0].up)
        before = routed.replicas[0].served
        assert client.get(ITEMS, params={"limit": 1}).status_code == 200
        assert routed.replicas[0].served > before  # the read took a connection of the replica
        with psycopg.connect(replica) as on_replica:  # and the app is logged in there, as itself
            names = on_replica.execute("SELECT usename FROM pg_stat_activity WHERE application_name LIKE 'kotaku%' "
                                       "AND usename IS NOT NULL").fetchall()
            assert ("kotaku_app",) in names
            on_replica.execute("SELECT pg_wal_replay_pause()")  # the replica now falls behind every write
        try:
            created = client.post(ITEMS, json=feature("Usulan dibaca sendiri"))
            assert created.status_code == 201, created.text
            assert created.headers["x-kotaku-lsn"] and client.cookies.get("kotaku_lsn")
            new = created.json()["id"]
            # the writer (its cookie) reads its write at once: from the primary, the replica has not replayed it
            mine = client.get(f"{ITEMS}/{new}")
            assert mine.status_code == 200 and mine.json()["properties"]["title"] == "Usulan dibaca sendiri"
            # another caller (no cookie) reads the replica: the write is not there yet
            client.cookies.clear()
            assert client.get(f"{ITEMS}/{new}").status_code == 404
        finally:
            with psycopg.connect(replica) as on_replica:
                on_replica.execute("SELECT pg_wal_replay_resume()")
        assert wait_for(lambda: client.get(f"{ITEMS}/{new}").status_code == 200)  # replayed: everyone sees it


def kawasan(answer) -> dict[int, str]:
    """slum area id -> name, from a GeoJSON export."""
    assert answer.status_code == 200, answer.text
    features = json.loads(answer.content)["features"]
    return {f["properties"]["slum_area_id"]: f["properties"]["kawasan"] for f in features
            if f["properties"]["layer"] == "kawasan_kumuh"}


def test_exports_read_the_replica_and_a_writer_exports_its_own_write(replicated, tmp_path):
    cluster, primary, replica = replicated
    with TestClient(app_on(primary, replica, tmp_path, replica_max_lag_s=3600)) as client:
        routed = client.app.state.pool
        assert wait_for(lambda: routed.replicas[0].up)
        before = routed.replicas[0].served
        names = kawasan(client.get(EXPORT, params={"tenant": "12.71"}))
        assert names and routed.replicas[0].served == before + 1  # the export's one connection: the replica's
        first = min(names)
        with psycopg.connect(replica) as on_replica:
            on_replica.execute("SELECT pg_wal_replay_pause()")
        try:
            with psycopg.connect(primary) as conn:  # renamed on the primary only (the replica does not replay it)
                conn.execute("UPDATE slum_areas SET kawasan = 'Kawasan penanda primer' WHERE id = %s", [first])
            # a caller who wrote nothing exports from the replica: the old name, so the export was read there
            assert kawasan(client.get(EXPORT, params={"tenant": "12.71"}))[first] == names[first]
            created = client.post(ITEMS, json=feature("Usulan lalu ekspor", OTHER_ROAD))
            assert created.status_code == 201, created.text
            new = created.json()["id"]
            # the writer (its LSN cookie, past the rename) exports from the primary: the new name; its proposal's
            # history (a sync read too) is there
            assert kawasan(client.get(EXPORT, params={"tenant": "12.71"}))[first] == "Kawasan penanda primer"
            assert client.get(f"/activities/{new}/history").status_code == 200
            client.cookies.clear()  # anyone else: the replica, which has neither yet
            assert client.get(f"/activities/{new}/history").status_code == 404
            assert kawasan(client.get(EXPORT, params={"tenant": "12.71"}))[first] == names[first]
        finally:
            with psycopg.connect(replica) as on_replica:
                on_replica.execute("SELECT pg_wal_replay_resume()")
        assert wait_for(lambda: client.get(f"/activities/{new}/history").status_code == 200)
        assert kawasan(client.get(EXPORT, params={"tenant": "12.71"}))[first] == "Kawasan penanda primer"


def test_a_stopped_replica_is_skipped_without_errors(replicated, tmp_path):
    cluster, primary, replica = replicated
    with TestClient(app_on(primary, replica, tmp_path)) as client:
        routed = client.app.state.pool
        assert wait_for(lambda: routed.replicas[0].up)
        assert client.get(ITEMS, params={"limit": 5}).status_code == 200
        cluster.stop_replica(mode="immediate")
        try:
            # an export at once (the replica may still be marked up: its sync pool finds no connection)
            assert kawasan(client.get(EXPORT, params={"tenant": "12.71"}))
            for _ in range(5):  # at once (the pool finds no connection) and after the monitor marked it down
                answer = client.get(ITEMS, params={"limit": 5})
                assert answer.status_code == 200 and len(answer.json()["features"]) == 5
            assert not routed.replicas[0].up
            tile = client.get("/tiles/slum-areas/12/3206/2037.pbf")
            assert tile.status_code in (200, 204)
            assert kawasan(client.get(EXPORT, params={"tenant": "12.71"}))  # and once it is marked down
        finally:
            cluster.start_replica()


def test_reads_go_on_from_the_replica_while_the_primary_is_down(replicated, tmp_path):
    cluster, primary, replica = replicated
    # a lag limit of 2 minutes: stopping the primary takes seconds on a loaded machine, and the lag then grows
    # with the outage; past the limit reads leave the replica (tests/api/test_read_routing_choice.py)
    with TestClient(app_on(primary, replica, tmp_path, replica_max_lag_s=120)) as client:
        routed = client.app.state.pool
        assert wait_for(lambda: routed.replicas[0].up and routed.replicas[0].lag_s == 0)
        cluster.down()  # the primary is gone; the replica's last replayed transaction ages from now on
        try:
            time.sleep(1.5)  # the monitor has checked again, without the primary
            answer = client.get(ITEMS, params={"limit": 5})
            assert answer.status_code == 200 and len(answer.json()["features"]) == 5
            assert kawasan(client.get(EXPORT, params={"tenant": "12.71"}))
            # it holds all the primary had written when last seen: its lag is the time since then (reads stay
            # there for KOTAKU_REPLICA_MAX_LAG_S into the outage)
            assert routed.replicas[0].up and 0 < routed.replicas[0].lag_s < 120
        finally:
            cluster.up()


def test_a_revoked_token_is_refused_at_once_while_the_replica_lags(replicated, tmp_path):
    cluster, primary, replica = replicated
    import asyncio

    from layers.accounts import users
    from layers.accounts.access import cli_principal
    from layers.db.connection import connect_async

    async def token() -> str:
        async with await connect_async(primary, autocommit=True) as conn:
            await users.add_user(conn, cli_principal(), "pokja.replika", "pokja", "12.71",
                                 password="kata-sandi-replika-123")
            return (await users.issue_token(conn, cli_principal(), "pokja.replika"))[1]

    bearer = {"Authorization": f"Bearer {asyncio.run(token())}"}
    app = create_app(primary, Settings(database_read_url=replica, replica_max_lag_s=3600, attachments=tmp_path,
                                       _env_file=None))
    with TestClient(app) as client:
        assert wait_for(lambda: client.get(ITEMS, params={"limit": 1}, headers=bearer).status_code == 200)
        with psycopg.connect(replica) as on_replica:
            on_replica.execute("SELECT pg_wal_replay_pause()")
        try:
            with psycopg.connect(primary) as conn:
                conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND user_id = "
                             "(SELECT id FROM users WHERE username = 'pokja.replika')")
            # the replica still holds the token as valid; credentials are checked on the primary
            assert client.get(ITEMS, params={"limit": 1}, headers=bearer).status_code == 401
            assert client.get(ITEMS, params={"limit": 1}).status_code == 200  # anonymous reads still served
        finally:
            with psycopg.connect(replica) as on_replica:
                on_replica.execute("SELECT pg_wal_replay_resume()")
