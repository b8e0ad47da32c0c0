"""The shipped demo basemap (data/demo/jakarta_pusat, ODbL + MIT): Kota Jakarta Pusat's boundaries and real
OpenStreetMap roads and buildings load through the regions and basemap importers, and its tiles show named roads,
buildings and kelurahan names where a map user would look (around Monas)."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import psycopg
from fastapi.testclient import TestClient

from api.app import create_app
from data import data_path
from layers.imports.demo_basemap import BASEMAP_DIR, load_demo_basemap

MONAS = (106.8272, -6.1754)


def test_demo_basemap_files_carry_their_licences():
    folder = data_path("demo") / "jakarta_pusat"
    assert "OpenStreetMap contributors" in (folder / "OSM-ATTRIBUTION.txt").read_text()
    assert "MIT License" in (folder / "LICENSE-wilayah_boundaries.txt").read_text()
    assert sum(p.stat().st_size for p in folder.iterdir()) < 3_000_000  # small enough to ship


def test_jakarta_pusat_loads_and_draws(empty_db):
    with psycopg.connect(empty_db) as conn:
        summary = load_demo_basemap(conn)
        assert summary["basemap"]["layers"]["roads"] == 2008 and summary["basemap"]["layers"]["buildings"] == 2596
        levels = dict(conn.execute("SELECT level, count(*) FROM regions WHERE tenant = '31.71' GROUP BY level"))
        assert levels == {"kabkota": 1, "kecamatan": 8, "desa_kelurahan": 44}
        unnamed = conn.execute("SELECT count(*) FILTER (WHERE name IS NULL), count(*) FILTER (WHERE name = 'nan') "
                               "FROM basemap_features WHERE layer = 'roads'").fetchone()
        assert unnamed == (901, 0)  # the file's roads without a name stay without one (never labelled 'nan')
        assert load_demo_basemap(conn, if_empty=True)["skipped"]
        conn.commit()
    assert (BASEMAP_DIR / "jakarta_pusat_osm.gpkg").exists()
    tms = morecantile.tms.get("WebMercatorQuad")
    with TestClient(create_app(empty_db)) as client:
        tile = tms.tile(*MONAS, 16)
        z16 = mapbox_vector_tile.decode(client.get(f"/tiles/basemap/16/{tile.x}/{tile.y}.pbf?tenant=31.71").content)
        named = [f["properties"] for f in z16["roads"]["features"] if f["properties"].get("name")]
        assert named and all(p["class"] for p in named)
        assert z16["buildings"]["features"]
        tile = tms.tile(*MONAS, 14)
        z14 = mapbox_vector_tile.decode(client.get(f"/tiles/basemap/14/{tile.x}/{tile.y}.pbf").content)
        assert {"kelurahan"} <= {f["properties"]["class"] for f in z14["places"]["features"]}
        doc = client.get("/tiles/basemap/tilejson.json?tenant=31.71").json()
        west, south, east, north = doc["bounds"]
        assert west < MONAS[0] < east and south < MONAS[1] < north
