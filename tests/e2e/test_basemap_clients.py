"""Real clients of the issue-13 resources on a live `kotaku serve` over the Medan demo: GDAL's MVT driver reads a
whole tileset from `/tiles/{id}/metadata.json` + `{z}/{x}/{y}.pbf`; GDAL's OAPIF driver sees the per-geometry
activity collections (each one geometry type, their counts adding up to `activities`) and regions per level."""

from __future__ import annotations

import json
import re
import subprocess

import httpx
import psycopg
import pytest

from tests.e2e.servers import running_server


@pytest.fixture(scope="module")
def server(fresh_demo):
    database_url = fresh_demo()
    with running_server(database_url, "--no-access-log") as base:
        yield base, database_url


def ogrinfo(*args: str) -> str:
    result = subprocess.run(["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def feature_count(summary: str) -> int:
    found = re.search(r"Feature Count: (\d+)", summary)
    assert found, summary
    return int(found.group(1))


def geometry_types(summary: str) -> set[str]:
    return set(re.findall(r"^Geometry: (.+)$", summary, flags=re.M))


def test_gdal_mvt_driver_reads_a_tileset_from_its_metadata(server):
    base, url = server
    with psycopg.connect(url) as conn:
        published = conn.execute("SELECT count(*) FROM slum_areas s JOIN decrees d ON d.id = s.decree_id "
                                 "WHERE d.published").fetchone()[0]
    summary = ogrinfo("-so", f"MVT:{base}/tiles/slum-areas/12", "slum-areas")
    assert "Layer name: slum-areas" in summary
    # features cut by tile edges are read once per tile they touch
    assert feature_count(summary) >= published > 0
    assert "level: String" in summary and "area_ha: Real" in summary
    metadata = httpx.get(f"{base}/tiles/slum-areas/metadata.json").json()
    west, south, east, north = map(float, metadata["bounds"].split(","))
    assert 98 < west < east < 99 and 3 < south < north < 4  # Medan: the data's bounds, not Indonesia's
    assert json.loads(metadata["json"])["vector_layers"][0]["id"] == "slum-areas"


def test_ogc_api_collections_per_geometry_type_add_up(server):
    base, url = server
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT count(*) FROM activities").fetchone()[0]
        by_level = dict(conn.execute("SELECT level, count(*) FROM regions GROUP BY level").fetchall())
    counts = {}
    for kind, expected in (("points", "Point"), ("lines", "Line String"), ("polygons", "Polygon")):
        summary = ogrinfo("-so", f"OAPIF:{base}/", f"activities-{kind}")
        counts[kind] = feature_count(summary)
        types = geometry_types(summary)
        assert len(types) == 1 and expected in next(iter(types)), types
    assert sum(counts.values()) == total and all(counts.values()), counts
    summary = ogrinfo("-so", f"OAPIF:{base}/", "regions-kecamatan")
    assert feature_count(summary) == by_level["kecamatan"]
