"""A plain GeoPackage of regions is read as WKB (geo.read_wkb: no GeoDataFrame, the file's own WKB stored where
no repair was needed) and stores exactly what the same features store from GeoJSON, read the long way:
codes, names, areas and geometries to the byte, repairs and promotions to MultiPolygon included. Bad features
are named by number and nothing changes; a projected GeoPackage still takes the long way, reprojected."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import geopandas
import pyogrio
import pytest
import shapely

from geo.errors import InvalidInput
from geo.read import read_vector
from geo.read_wkb import plain_layer
from layers.imports.regions import COPY_CHUNK, import_regions
from layers.imports.report import ImportFailed
from tests.layers.test_import_regions_chunks import _file
from tests.layers.test_import_regions_values import _assert_stored_as_checked

BOWTIE = {"type": "Polygon", "coordinates": [[[98.6, 3.5], [98.61, 3.51], [98.61, 3.5], [98.6, 3.51], [98.6, 3.5]]]}
SWAPPED = {"type": "Polygon", "coordinates": [[[3.5, 98.6], [3.6, 98.6], [3.6, 98.7], [3.5, 98.6]]]}


def _gpkg(geojson: Path, *options: str, driver: str = "GPKG") -> Path:
    target = geojson.with_suffix(".gpkg" if driver == "GPKG" else ".fgb")
    subprocess.run(["ogr2ogr", "-f", driver, str(target), str(geojson), *options], check=True, capture_output=True)
    return target


def _rows(conn) -> list[tuple]:
    return conn.execute("SELECT code, bps_code, name, level, kind, parent_code, area_ha, source, "
                        "ST_AsBinary(geom), ST_SRID(geom) FROM regions ORDER BY code").fetchall()


def _imported(conn, path: Path) -> tuple[list[tuple], list[int]]:
    report = import_regions(conn, path)
    rows = [(*row[:7], row[8], row[9]) for row in _rows(conn)]  # source is the file name
    conn.rollback()
    return rows, [p.feature for p in report.repairs]


@pytest.mark.parametrize(("driver", "options"), [("GPKG", ("-nlt", "MULTIPOLYGON")), ("GPKG", ()),
                                                 ("FlatGeobuf", ("-nlt", "MULTIPOLYGON"))],
                         ids=["multipolygon", "polygon", "flatgeobuf"])
def test_geopackage_stores_its_checked_geometries_and_areas(conn, tmp_path, driver, options):
    """MultiPolygons stored as the file has them (a repaired one as repaired), Polygons promoted."""
    count = COPY_CHUNK + 300
    geojson = _file(tmp_path / "desa.geojson", count, {7: BOWTIE, COPY_CHUNK + 3: BOWTIE})
    gpkg = _gpkg(geojson, *options, driver=driver)
    assert plain_layer(gpkg) is not None and plain_layer(geojson) is None  # the fast way is what is checked
    assert _assert_stored_as_checked(conn, gpkg) == count
    assert {bytes(row[8])[:5] for row in _rows(conn)} == {b"\x01\x06\x00\x00\x00"}  # MultiPolygon


def test_geopackage_stores_what_the_same_geojson_stores(conn, tmp_path):
    count = COPY_CHUNK + 300
    geojson = _file(tmp_path / "desa.geojson", count, {7: BOWTIE, COPY_CHUNK + 3: BOWTIE})
    from_gpkg, from_geojson = _imported(conn, _gpkg(geojson)), _imported(conn, geojson)
    assert from_gpkg[1] == from_geojson[1] == [7, COPY_CHUNK + 3]
    assert len(from_gpkg[0]) == count
    assert from_gpkg[0] == from_geojson[0]


def test_bad_features_in_a_geopackage_are_named_and_nothing_changes(conn, tmp_path):
    import_regions(conn, _file(tmp_path / "before.geojson", 30, {}))
    conn.commit()
    before = _rows(conn)
    count = COPY_CHUNK * 2 + 500
    gpkg = _gpkg(_file(tmp_path / "big.geojson", count, {COPY_CHUNK + 7: SWAPPED, count: SWAPPED, 5: BOWTIE}))
    assert plain_layer(gpkg) is not None
    with pytest.raises(ImportFailed) as failed:
        import_regions(conn, gpkg)
    report = failed.value.report
    assert [p.feature for p in report.errors] == [COPY_CHUNK + 7, count]
    assert "latitude and longitude look swapped" in report.errors[0].reason
    assert [p.feature for p in report.repairs] == [5]
    conn.rollback()
    assert _rows(conn) == before


def test_projected_geopackage_is_reprojected(conn, tmp_path):
    geojson = _file(tmp_path / "desa.geojson", 50, {})
    utm = _gpkg(geojson, "-t_srs", "EPSG:32647", "-nlt", "MULTIPOLYGON")
    assert plain_layer(utm) is None
    report = import_regions(conn, utm)
    assert report.ok and report.source_crs == "EPSG:32647"
    areas = dict(conn.execute("SELECT code, area_ha FROM regions").fetchall())
    conn.rollback()
    expected = dict((row[0], row[6]) for row in _imported(conn, geojson)[0])
    assert sorted(areas) == sorted(expected)
    assert all(abs(areas[code] / expected[code] - 1) < 1e-6 for code in expected)


def test_text_not_utf8_late_in_a_geopackage_is_named_and_nothing_changes(conn, tmp_path):
    """The batch holding the bad text comes after the first chunks were checked: the same message as
    read_vector's, nothing written."""
    import_regions(conn, _file(tmp_path / "before.geojson", 30, {}))
    conn.commit()
    before = _rows(conn)
    gpkg = _gpkg(_file(tmp_path / "desa.geojson", COPY_CHUNK * 2 + 100, {}), "-lco", "SPATIAL_INDEX=NO")
    with sqlite3.connect(gpkg) as db:  # cp1252 bytes where UTF-8 is declared
        db.execute("UPDATE desa SET nama = CAST(X'44657361205072e974' AS TEXT) WHERE fid = ?", [COPY_CHUNK * 2 + 5])
    db.close()
    with pytest.raises(InvalidInput) as expected:
        read_vector(gpkg)
    assert "nama" in str(expected.value)
    with pytest.raises(InvalidInput) as failed:
        import_regions(conn, gpkg)
    assert str(failed.value) == str(expected.value)
    conn.rollback()
    assert _rows(conn) == before


def test_z_in_a_geopackage_declaring_2d_is_dropped(conn, tmp_path):
    """A layer whose header says 2D but whose features carry Z (a hand-edited gpkg_geometry_columns) stores
    them 2D, as read_vector reads them, instead of failing in the COPY."""
    ring = [(98.6, 3.5, 7.0), (98.61, 3.5, 7.0), (98.61, 3.51, 7.0), (98.6, 3.5, 7.0)]
    frame = geopandas.GeoDataFrame({"kode": ["12.71.01.2001"], "nama": ["Desa Z"]}, crs=4326,
                                   geometry=[shapely.MultiPolygon([shapely.Polygon(ring)])])
    path = tmp_path / "z.gpkg"
    pyogrio.write_dataframe(frame, path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE gpkg_geometry_columns SET z = 0")
    db.close()
    assert plain_layer(path) is not None
    assert _assert_stored_as_checked(conn, path) == 1
    assert conn.execute("SELECT ST_NDims(geom) FROM regions").fetchone() == (2,)
