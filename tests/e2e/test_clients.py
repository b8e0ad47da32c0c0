"""Real clients against a live `kotaku serve --workers 2` on loopback, over the Medan demo: GDAL's OAPIF driver
(ogrinfo lists every collection, ogr2ogr copies each to GeoPackage with the right count), OWSLib, tiles decoded by
mapbox-vector-tile and by GDAL's MVT driver, and keep-alive on the socket kotaku binds."""

from __future__ import annotations

import subprocess

import httpx
import mapbox_vector_tile
import morecantile
import psycopg
import pyogrio
import pytest

from tests.e2e.servers import running_server

COLLECTIONS = ("regions", "slum-areas", "survey-units", "activities", "keterpaduan")
SECRET_PHONE = "081355512345"


@pytest.fixture(scope="module")
def server(fresh_demo):
    database_url = fresh_demo()
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE activities SET proposer_phone = %s", [SECRET_PHONE])
        conn.commit()
    with running_server(database_url, "--workers", "2", "--no-access-log") as base:
        yield base, database_url


def public_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        slum = conn.execute("SELECT count(*) FROM slum_areas s JOIN decrees d ON d.id = s.decree_id "
                            "WHERE d.published").fetchone()[0]
        return {
            "regions": conn.execute("SELECT count(*) FROM regions").fetchone()[0],
            "slum-areas": slum,
            "survey-units": conn.execute("SELECT count(*) FROM survey_units").fetchone()[0],
            "activities": conn.execute("SELECT count(*) FROM activities").fetchone()[0],
            "keterpaduan": slum,
        }


def test_ogrinfo_lists_every_collection(server):
    base, _ = server
    result = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{base}/"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for collection in COLLECTIONS:
        assert f": {collection}" in result.stdout, result.stdout


def test_ogr2ogr_copies_each_collection_to_geopackage(server, tmp_path):
    base, url = server
    counts = public_counts(url)
    for collection in COLLECTIONS:
        target = tmp_path / f"{collection}.gpkg"
        result = subprocess.run(["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{base}/", collection,
                                 "-nlt", "GEOMETRY"], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        info = pyogrio.read_info(target, force_feature_count=True)
        assert info["features"] == counts[collection] > 0, collection
    activities = pyogrio.read_dataframe(tmp_path / "activities.gpkg")
    assert {"stage", "program", "funding_source", "year"} <= set(activities.columns)
    assert not {"proposer_name", "proposer_phone"} & set(activities.columns)
    assert SECRET_PHONE.encode() not in (tmp_path / "activities.gpkg").read_bytes()


def test_owslib_lists_collections_and_items(server):
    from owslib.ogcapi.features import Features

    base, url = server
    api = Features(base)
    assert set(COLLECTIONS) <= {c["id"] for c in api.collections()["collections"]}  # and the subsets, catalogues
    assert any(c.endswith("/conf/geojson") for c in api.conformance()["conformsTo"])
    items = api.collection_items("activities", limit=25, stage="selesai")
    assert items["type"] == "FeatureCollection" and 0 < items["numberReturned"] <= 25
    assert {f["properties"]["stage"] for f in items["features"]} == {"selesai"}
    assert items["numberMatched"] == public_counts_where(url, "stage = 'selesai'")
    queryables = api.collection_queryables("slum-areas")
    assert "level" in queryables["properties"]


def public_counts_where(url: str, where: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM activities WHERE {where}").fetchone()[0]


def test_tiles_decode_with_mapbox_vector_tile_and_gdal(server, tmp_path):
    base, _ = server
    tile = morecantile.tms.get("WebMercatorQuad").tile(98.675, 3.60, 13)
    for collection in ("activities", "slum-areas", "keterpaduan"):
        response = httpx.get(f"{base}/tiles/{collection}/13/{tile.x}/{tile.y}.pbf", timeout=30)
        assert response.status_code == 200
        features = mapbox_vector_tile.decode(response.content)[collection]["features"]
        assert len(features) == int(response.headers["x-tile-features"]) > 0
        path = tmp_path / collection / "13" / str(tile.x) / f"{tile.y}.pbf"  # z/x/y in the path georeferences it
        path.parent.mkdir(parents=True)
        path.write_bytes(response.content)
        result = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        assert f"Layer name: {collection}" in result.stdout
        gdal_count = sum(int(line.split(":")[1]) for line in result.stdout.splitlines()
                         if line.startswith("Feature Count:"))
        assert gdal_count == len(features)
        extent = next(line for line in result.stdout.splitlines() if line.startswith("Extent:"))
        (minx, miny), (maxx, maxy) = (map(float, part.strip(" ()").split(",")) for part in
                                      extent.removeprefix("Extent:").split(" - "))
        box = morecantile.tms.get("WebMercatorQuad").xy_bounds(tile)
        margin = (box.right - box.left) * 64 / 4096  # the tile buffer
        assert box.left - margin <= minx < maxx <= box.right + margin  # in place: Medan, in EPSG:3857
        assert box.bottom - margin <= miny < maxy <= box.top + margin


def test_keep_alive_answers_on_our_socket_with_the_plain_loop(server):
    """`kotaku serve --workers 2` on the plain asyncio loop (uvloop would set TCP_NODELAY itself) answers every
    request of one keep-alive connection. That the socket has TCP_NODELAY is checked deterministically in
    tests/api/test_server_socket.py; the latency it saves (~40 ms a response) is measured by bench/nodelay.py."""
    _, url = server
    with running_server(url, "--workers", "2", "--no-access-log", env={"KOTAKU_SERVE_LOOP": "asyncio"}) as base:
        tile = morecantile.tms.get("WebMercatorQuad").tile(98.675, 3.60, 14)
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(10):
                response = client.get(f"/tiles/activities/14/{tile.x}/{tile.y}.pbf")
                assert response.status_code == 200
                assert response.headers.get("connection", "keep-alive") != "close"
