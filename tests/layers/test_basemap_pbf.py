"""`kotaku basemap import` of a real OpenStreetMap PBF (issue 13). The demo's Kota Jakarta Pusat roads and buildings
(data/demo/jakarta_pusat/jakarta_pusat_osm.gpkg, (c) OpenStreetMap contributors, ODbL: OSM-ATTRIBUTION.txt beside
it) are written as OSM XML (nodes and ways, as JOSM writes them) with a canal, a place and a landuse added, and
Debian's osmium-tool turns that into `.osm.pbf` (`osmium cat`), the format Geofabrik and the HOT export tool hand
out. Through the command line both files load the same rows (layer, class, name, zoom, OSM id, geometry), every
road and building of the extract with its name and class. A missing, empty, cut or non-OSM file ends with exit 2
and a message in Bahasa Indonesia (no traceback, no Python words), and changes no row."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import psycopg
import pytest
import shapely

from data import data_path

KOTAKU = os.path.join(os.path.dirname(sys.executable), "kotaku")
EXTRACT = data_path("demo", "jakarta_pusat", "jakarta_pusat_osm.gpkg")
# what the extract lacks, hand-made beside it: a canal, a place name and a residential landuse
EXTRA = {"water": ("waterway", "canal", "Kali Contoh", [(106.8230, -6.1815), (106.8270, -6.1815)]),
         "landuse": ("landuse", "residential", None, [(106.8240, -6.1820), (106.8250, -6.1820), (106.8250, -6.1828),
                                                      (106.8240, -6.1828), (106.8240, -6.1820)])}
PLACE = ("village", "Kampung Contoh", (106.8250, -6.1808))
ROWS = ("SELECT layer, class, name, min_zoom, rank, osm_id, ST_AsBinary(geom) FROM basemap_features "
        "WHERE tenant = '31.71' ORDER BY layer, osm_id, class, name")
BAD_FILES = {  # name: content (None: no such file; "cut": the first half of the real PBF, "cut-xml" of the XML)
    "tidak_ada.osm.pbf": None, "kosong.osm.pbf": b"", "terpotong.osm.pbf": "cut",
    "bukan_osm.osm.pbf": b'{"type": "FeatureCollection", "features": []}',
    "halaman.osm": b"<html><body>bukan peta</body></html>", "terpotong.osm": "cut-xml"}


class Writer:
    """OSM XML of geometries: a node per vertex (7 decimals, OSM's precision), a way per ring or line, a
    multipolygon relation for a polygon with holes or parts."""

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.ways: list[str] = []
        self.relations: list[str] = []

    def node(self, x: float, y: float, tags: dict[str, str] | None = None) -> int:
        ref = len(self.nodes) + 1
        inner = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in (tags or {}).items())
        self.nodes.append(f'<node id="{ref}" lat="{y:.7f}" lon="{x:.7f}" version="1">{inner}</node>')
        return ref

    def way(self, coords, tags: dict[str, str]) -> int:
        refs = [self.node(x, y) for x, y in coords]
        if len(coords) > 3 and tuple(coords[0]) == tuple(coords[-1]):
            refs[-1] = refs[0]  # a closed ring ends on its first node
        body = "".join(f'<nd ref="{r}"/>' for r in refs) + tag_elements(tags)
        self.ways.append(f'<way id="{len(self.ways) + 1}" version="1">{body}</way>')
        return len(self.ways)

    def area(self, shape, tags: dict[str, str]) -> None:
        polygons = list(getattr(shape, "geoms", [shape]))
        if len(polygons) == 1 and not polygons[0].interiors:
            self.way(shapely.get_coordinates(polygons[0].exterior).tolist(), tags)
            return
        members = [(role, self.way(shapely.get_coordinates(ring).tolist(), {}))
                   for polygon in polygons for role, ring in [("outer", polygon.exterior)]
                   + [("inner", hole) for hole in polygon.interiors]]
        body = "".join(f'<member type="way" ref="{ref}" role="{role}"/>' for role, ref in members)
        body += tag_elements({"type": "multipolygon", **tags})
        self.relations.append(f'<relation id="{len(self.relations) + 1}" version="1">{body}</relation>')

    def xml(self) -> str:
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="kotaku-gis test">\n'
                + "\n".join(self.nodes + self.ways + self.relations) + "\n</osm>\n")


def tag_elements(tags: dict[str, str]) -> str:
    return "".join(f"<tag k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in tags.items() if v)


def extract_as_osm(path: Path) -> dict[str, int]:
    """Write the demo extract (plus EXTRA and PLACE) as OSM XML; how many features of each layer it holds."""
    writer = Writer()
    roads = gpd.read_file(EXTRACT, layer="roads")
    buildings = gpd.read_file(EXTRACT, layer="buildings")
    for line, highway, name in zip(roads.geometry, roads["highway"], roads["name"], strict=True):
        writer.way(shapely.get_coordinates(line).tolist(),
                   {"highway": highway, "name": name if isinstance(name, str) else ""})
    for shape, building, name in zip(buildings.geometry, buildings["building"], buildings["name"], strict=True):
        writer.area(shape, {"building": building or "yes", "name": name if isinstance(name, str) else ""})
    for tag, value, name, coords in EXTRA.values():
        writer.way(coords, {tag: value, "name": name or ""})
    writer.node(*PLACE[2], {"place": PLACE[0], "name": PLACE[1]})
    path.write_text(writer.xml(), encoding="utf-8")
    return {"roads": len(roads), "buildings": len(buildings), "water": 1, "landuse": 1, "places": 1}


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> tuple[Path, Path, dict[str, int]]:
    osmium = shutil.which("osmium")
    if osmium is None:
        pytest.fail("osmium-tool is missing: `make test` installs it (the Makefile's DEBIAN_PACKAGES)")
    folder = tmp_path_factory.mktemp("osm")
    xml = folder / "jakarta_pusat.osm"
    counts = extract_as_osm(xml)
    pbf = folder / "jakarta_pusat.osm.pbf"
    subprocess.run([osmium, "cat", str(xml), "-o", str(pbf), "--overwrite"], check=True, capture_output=True)
    return xml, pbf, counts


def kotaku(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([KOTAKU, "--lang", "id", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DATABASE_URL": url})


def rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(ROWS).fetchall()


def test_pbf_loads_every_layer_with_the_same_rows_as_the_xml(empty_db, extract):
    xml, pbf, counts = extract
    assert pbf.stat().st_size < xml.stat().st_size / 4  # a real PBF: compressed blocks, not the XML renamed
    done = kotaku(empty_db, "basemap", "import", str(xml), "--tenant", "31.71", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["layers"] == counts
    from_xml = rows(empty_db)
    done = kotaku(empty_db, "basemap", "import", str(pbf), "--tenant", "31.71", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["layers"] == counts and report["replaced"] == sum(counts.values())
    from_pbf = rows(empty_db)
    # row for row; coordinates within 1e-9 degree (XML's decimals and PBF's integers give the last bit apart)
    assert [r[:6] for r in from_pbf] == [r[:6] for r in from_xml]
    assert all(shapely.equals_exact(shapely.from_wkb(a[6]), shapely.from_wkb(b[6]), tolerance=1e-9)
               for a, b in zip(from_pbf, from_xml, strict=True))
    roads = gpd.read_file(EXTRACT, layer="roads")
    named = {(r[1], r[2]) for r in from_pbf if r[0] == "roads"}
    assert ("motorway", "Tol Dalam Kota Jakarta") in named and ("secondary", "Palmerah Barat") in named
    assert sum(1 for r in from_pbf if r[0] == "roads" and r[2]) == int(roads["name"].notna().sum())
    assert {r[:3] for r in from_pbf if r[0] in ("water", "places", "landuse")} == {
        ("water", "canal", "Kali Contoh"), ("places", "village", "Kampung Contoh"), ("landuse", "residential", None)}
    assert any(r[0] == "buildings" and r[2] == "BNI 46" for r in from_pbf)


def test_a_bad_file_is_exit_2_in_indonesian_and_changes_nothing(empty_db, extract, tmp_path):
    xml, pbf, _ = extract
    assert kotaku(empty_db, "basemap", "import", str(pbf), "--tenant", "31.71").returncode == 0
    before = rows(empty_db)
    for name, content in BAD_FILES.items():
        path = tmp_path / name
        if content == "cut":
            path.write_bytes(pbf.read_bytes()[: pbf.stat().st_size // 2])
        elif content == "cut-xml":
            path.write_bytes(xml.read_bytes()[: xml.stat().st_size // 2])
        elif isinstance(content, bytes):
            path.write_bytes(content)
        done = kotaku(empty_db, "basemap", "import", str(path), "--tenant", "31.71")
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        message = " ".join(done.stderr.split())
        assert name in message and "berkas" in message.lower(), message
        for word in ("Traceback", "None", "Error", "Exception", str(tmp_path)):
            assert word not in message, message
        assert rows(empty_db) == before, name
