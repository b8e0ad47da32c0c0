"""`kotaku import regions`: real boundary files in, rows with code, level, parent and geodesic area out."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from data import data_path
from layers.imports.regions import import_regions
from layers.imports.report import ImportFailed

MEDAN = data_path("demo", "boundaries")


def _count(conn: psycopg.Connection, where: str = "TRUE") -> int:
    return conn.execute(f"SELECT count(*) FROM regions WHERE {where}").fetchone()[0]


def test_medan_kelurahan_import_with_levels_parents_and_areas(conn):
    report = import_regions(conn, MEDAN / "kota_medan_desa_kel.geojson")
    assert report.ok and report.features_written == 151
    assert _count(conn, "level = 'desa_kelurahan' AND tenant = '12.71' AND kind = 'kelurahan'") == 151
    assert _count(conn, "parent_code IS NULL OR parent_code NOT LIKE '12.71.__'") == 0
    # our geodesic area agrees with PostGIS' own spheroidal area within 0.1 %
    worst = conn.execute(
        "SELECT max(abs(area_ha - ST_Area(geom::geography) / 1e4) / area_ha) FROM regions"
    ).fetchone()[0]
    assert worst < 0.001
    pasar_baru = conn.execute("SELECT name, parent_code FROM regions WHERE code = '12.71.01.1001'").fetchone()
    assert pasar_baru == ("Pasar Baru", "12.71.01")


def test_reimport_replaces_rows_not_duplicates(conn):
    import_regions(conn, MEDAN / "kota_medan_kecamatan.geojson")
    import_regions(conn, MEDAN / "kota_medan_kecamatan.geojson")
    assert _count(conn, "level = 'kecamatan'") == 21


def _write_geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _square(x: float, y: float, d: float = 0.01) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


def test_broken_file_is_rejected_whole_with_every_bad_feature_named(conn, tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[98.6, 3.6], [98.61, 3.61], [98.61, 3.6], [98.6, 3.61], [98.6, 3.6]]]}
    features = [
        {"type": "Feature", "properties": {"kode": "12.71.01.1001", "nama": "Baik"}, "geometry": _square(98.6, 3.5)},
        {"type": "Feature", "properties": {"kode": "12.71.01.1002", "nama": "Dasi"}, "geometry": bowtie},
        {"type": "Feature", "properties": {"kode": "12.7X", "nama": "Kode salah"}, "geometry": _square(98.7, 3.5)},
        {"type": "Feature", "properties": {"kode": "12.71.01.1001", "nama": "Ganda"}, "geometry": _square(98.6, 3.7)},
        {"type": "Feature", "properties": {"kode": "12.71.01.1004", "nama": "Tertukar"},
         "geometry": _square(3.5, 98.6)},
    ]
    path = _write_geojson(tmp_path / "rusak.geojson", features)
    with pytest.raises(ImportFailed) as failed:
        import_regions(conn, path)
    report = failed.value.report
    by_feature = {p.feature: p.reason for p in report.errors}
    assert "not a Kemendagri code" in by_feature[3]
    assert "appears again (first at feature 1)" in by_feature[4]
    assert "swapped" in by_feature[5]
    assert [p.feature for p in report.repairs] == [2]  # the bowtie is repairable, so not an error
    assert _count(conn) == 0  # all-or-nothing


def test_missing_code_field_says_how_to_map_it(conn, tmp_path):
    path = _write_geojson(tmp_path / "x.geojson", [
        {"type": "Feature", "properties": {"KD_WIL_X": "1271011001", "NAMA": "Pasar Baru"},
         "geometry": _square(98.68, 3.58)}])
    with pytest.raises(ImportFailed, match="--map code=FIELD"):
        import_regions(conn, path)
    report = import_regions(conn, path, field_map="code=KD_WIL_X")
    assert report.ok and _count(conn, "code = '12.71.01.1001'") == 1


@pytest.mark.parametrize("city", ["kota_medan", "kab_sinjai", "kab_madiun"])
def test_shared_boundaries_import(conn, shared_data, city):
    folder = shared_data / "boundaries" / "kemendagri"
    reports = {level: import_regions(conn, folder / f"{city}_{level}.geojson")
               for level in ("kab_kota", "kecamatan", "desa_kel")}
    expected = {"kota_medan": 1 + 21 + 151, "kab_sinjai": 1 + 9 + 80, "kab_madiun": 1 + 15 + 206}[city]
    assert sum(r.features_written for r in reports.values()) == expected == _count(conn)
    assert _count(conn, "NOT ST_IsValid(geom)") == 0
    repaired = [p.feature for p in reports["desa_kel"].repairs]
    if city == "kab_madiun":  # the source has one self-intersecting desa: repaired and reported
        import geopandas

        codes = geopandas.read_file(folder / f"{city}_desa_kel.geojson")["kode"]
        assert [codes[f - 1] for f in repaired] == ["35.19.13.2012"]
    else:
        assert repaired == []
