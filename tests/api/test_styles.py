"""MapLibre styles (issue 13 item 6): `/styles` lists them; every `/styles/{id}.json` is a v8 style whose sources are
our TileJSON URLs, whose colours are the classes of the PNG styles (one palette), validated by MapLibre's own
style-spec validator (`gl-style-validate`, installed by `make test` into var/npm when npm is present) and by
structural checks; online basemaps appear only when configured."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from layers.settings import Settings
from maps.style_json import colour_expression
from maps.styles import styles

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "var" / "npm" / "node_modules" / ".bin" / "gl-style-validate"
LAYER_TYPES = {"background", "fill", "line", "symbol", "circle", "raster", "fill-extrusion", "heatmap", "hillshade"}
ONLINE = "osm=https://tile.openstreetmap.org/{z}/{x}/{y}.png|(c) OpenStreetMap contributors"


@pytest.fixture(scope="module")
def client(fresh_demo):
    with TestClient(create_app(fresh_demo(), Settings(online_basemaps=ONLINE))) as test_client:
        yield test_client


def test_every_listed_style_is_a_v8_style_over_our_tilejson(client, tmp_path):
    listed = client.get("/styles").json()["styles"]
    ids = [s["id"] for s in listed]
    assert {"peta", "basemap", "tingkat-kumuh", "prioritas", "cakupan-program", "kegiatan"} <= set(ids)
    for entry in listed:
        href = entry["links"][0]["href"]
        doc = client.get(href.replace("http://testserver", "")).json()
        assert doc["version"] == 8 and doc["layers"] and doc["sources"]
        for source in doc["sources"].values():
            assert source["type"] in ("vector", "raster")
            if source["type"] == "vector":
                assert source["url"].startswith("http://testserver/tiles/") and source["url"].endswith("tilejson.json")
                tilejson = client.get(source["url"].replace("http://testserver", ""))
                assert tilejson.status_code == 200, source["url"]
        ids_seen = set()
        for layer in doc["layers"]:
            assert layer["type"] in LAYER_TYPES and layer["id"] not in ids_seen
            ids_seen.add(layer["id"])
            if layer["type"] != "background":
                assert layer["source"] in doc["sources"]
        (tmp_path / f"{entry['id']}.json").write_text(json.dumps(doc))
    if VALIDATOR.exists() and shutil.which("node"):
        result = subprocess.run([str(VALIDATOR), *sorted(map(str, tmp_path.glob("*.json")))], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_peta_combines_basemap_regions_slum_areas_activities(client):
    doc = client.get("/styles/peta.json?tenant=1271").json()
    assert {"basemap", "regions", "slum-areas", "activities", "online-osm"} <= set(doc["sources"])
    assert doc["sources"]["basemap"]["url"].endswith("/tiles/basemap/tilejson.json?tenant=12.71")
    layers = {layer["id"]: layer for layer in doc["layers"]}
    assert layers["online-osm"]["layout"]["visibility"] == "none"  # offered, off until chosen
    road_names = layers["basemap-road-names"]
    assert road_names["layout"]["symbol-placement"] == "line" and road_names["source-layer"] == "roads"
    assert doc["layers"][-1]["type"] == "symbol"  # names over everything
    fill = layers["tingkat-kumuh-fill"]["paint"]["fill-color"]
    assert fill == colour_expression(styles()["tingkat-kumuh"])
    for c in styles()["tingkat-kumuh"].classes:  # one palette: the PNG tiles' and legends' colours
        assert c.colour in fill
    assert client.get("/styles/nope.json").status_code == 404


def test_online_basemaps_are_off_unless_configured(empty_db):
    with TestClient(create_app(empty_db)) as plain:
        doc = plain.get("/styles/basemap.json").json()
    assert all(source["type"] == "vector" for source in doc["sources"].values())
    with pytest.raises(ValueError, match="KOTAKU_ONLINE_BASEMAPS"):
        Settings(online_basemaps="osm=ftp://example.org/tiles.png")
