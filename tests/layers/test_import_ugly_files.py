"""Ugly variants of real files through the importers: each test builds a file with one flaw seen when a new
city's files were run through `kotaku import` (copied rows, a 0-byte .dbf, ...) and checks what a Pokja member
would check: what was stored, and what the report says in Bahasa Indonesia."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from shapely.geometry import Polygon, box

from data import data_path
from geo.errors import InvalidInput
from geo.messages import describe
from layers.imports.regions import import_regions
from layers.imports.report import ImportFailed
from layers.imports.slum_areas import import_slum_areas

MEDAN = data_path("demo", "boundaries")


@pytest.fixture
def medan(conn: psycopg.Connection) -> gpd.GeoDataFrame:
    for level in ("kab_kota", "kecamatan", "desa_kel"):
        import_regions(conn, MEDAN / f"kota_medan_{level}.geojson")
    return gpd.read_file(MEDAN / "kota_medan_desa_kel.geojson").set_index("kode")


def _rt_polygons(medan: gpd.GeoDataFrame, count: int = 3) -> gpd.GeoDataFrame:
    """`count` side-by-side RT squares inside Pasar Baru (12.71.01.1001) in the Delineasi_Kumuh_AR schema."""
    inside = medan.loc["12.71.01.1001"].geometry.representative_point()
    squares = [box(inside.x + i * 0.0004, inside.y, inside.x + i * 0.0004 + 0.0003, inside.y + 0.0003)
               for i in range(count)]
    return gpd.GeoDataFrame({
        "Kode_Kel": ["12.71.01.1001"] * count, "KELURAHAN": ["Pasar Baru"] * count,
        "KODE_RT_RW": [f"RT0{i + 1}_RW01" for i in range(count)], "Kawasan": ["Kawasan Uji"] * count,
    }, geometry=squares, crs="EPSG:4326")


def test_a_row_repeated_in_the_file_is_refused_naming_both_features(conn, medan, tmp_path):
    # the real Kota Pekalongan RT layer lists three polygons twice (features 344-346 = 347-349)
    frame = _rt_polygons(medan)
    repeated = gpd.GeoDataFrame(pd.concat([frame, frame.iloc[[0]]], ignore_index=True), crs=frame.crs)
    path = tmp_path / "Delineasi_Kumuh_AR.shp"
    repeated.to_file(path)
    with pytest.raises(ImportFailed) as failed:
        import_slum_areas(conn, path, tenant="12.71", decree="SK 1")
    [problem] = failed.value.report.errors
    assert (problem.feature, problem.field) == (4, "geometry")
    assert "fitur 1 dari berkas yang sama" in problem.text("id")
    assert conn.execute("SELECT count(*) FROM slum_areas").fetchone()[0] == 0
    # neighbours that only touch are not repeats
    frame.to_file(tmp_path / "ok.gpkg")
    assert import_slum_areas(conn, tmp_path / "ok.gpkg", tenant="12.71", decree="SK 1").features_written == 3


def test_a_shapefile_with_a_0_byte_dbf_is_refused_not_imported_without_attributes(conn, medan, tmp_path):
    path = tmp_path / "kumuh.shp"
    _rt_polygons(medan).to_file(path)
    (tmp_path / "kumuh.dbf").write_bytes(b"")  # an interrupted copy: GDAL still reads the polygons
    with pytest.raises(InvalidInput) as failed:
        import_slum_areas(conn, path, tenant="12.71", decree="SK 1")
    assert describe(failed.value, "id") == (
        "kumuh.dbf dari kumuh.shp kosong (0 bita): atribut fitur (nama, kode, luas) akan hilang; "
        "kirim ulang berkas-berkas shapefile-nya")
    (tmp_path / "empty.geojson").write_bytes(b"")
    with pytest.raises(InvalidInput) as failed:
        import_slum_areas(conn, tmp_path / "empty.geojson", tenant="12.71", decree="SK 1")
    assert describe(failed.value, "id").startswith("empty.geojson kosong (0 bita)")
    assert conn.execute("SELECT count(*) FROM slum_areas").fetchone()[0] == 0


def test_geometry_and_crs_problems_read_in_indonesian(conn, medan, tmp_path):
    frame = _rt_polygons(medan)
    frame.to_file(tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    report = import_slum_areas(conn, tmp_path / "noprj.shp", tenant="12.71", decree="SK 1")
    assert report.warnings[0].text("id") == (
        "berkas tidak memiliki sistem koordinat; koordinatnya tampak seperti bujur/lintang, jadi EPSG:4326 "
        "(WGS 84) dipakai")
    points = frame.copy()
    points["geometry"] = points.geometry.representative_point()
    points.to_file(tmp_path / "titik.shp")
    with pytest.raises(ImportFailed) as failed:
        import_slum_areas(conn, tmp_path / "titik.shp", tenant="12.71", decree="SK 2")
    assert failed.value.report.errors[0].text("id") == (
        "fitur/baris 1, kolom geometry: geometri adalah Point, tetapi lapisan ini menerima poligon "
        "(Polygon atau MultiPolygon)")
    x0, y0, x1, y1 = frame.geometry[0].bounds
    bowtie = frame.copy()
    bowtie.loc[0, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    bowtie.to_file(tmp_path / "bowtie.shp")
    report = import_slum_areas(conn, tmp_path / "bowtie.shp", tenant="12.71", decree="SK 3")
    assert report.repairs[0].text("id").startswith(
        "fitur/baris 1, kolom geometry: geometri tidak valid diperbaiki: Self-intersection")
    assert "ha sebelum" in report.repairs[0].text("id")
