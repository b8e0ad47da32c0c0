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
from layers.imports.activities import import_activities
from layers.imports.regions import import_regions
from layers.imports.report import ImportFailed
from layers.imports.slum_areas import import_slum_areas
from layers.imports.surveys import import_surveys

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


def test_field_names_a_shapefile_cut_to_10_characters_are_recognised(conn, medan, tmp_path):
    frame = _rt_polygons(medan)
    long_names = gpd.GeoDataFrame({
        "Nama_Kawasan": frame["Kawasan"], "Kode_Kelurahan": frame["Kode_Kel"], "Nama_RT_RW": frame["KODE_RT_RW"],
        "Luasan_Kumuh_Ha": [0.1, 0.2, 0.3], "Tingkat_Kekumuhan": ["Kumuh Berat", "Kumuh Sedang", "Kumuh Ringan"],
    }, geometry=frame.geometry, crs=frame.crs)
    path = tmp_path / "kumuh.shp"
    with pytest.warns(RuntimeWarning, match="laundered"):
        long_names.to_file(path)  # GDAL cuts the names: Nama_Kawas, Kode_Kelur, Luasan_Kum, Tingkat_Ke
    report = import_slum_areas(conn, path, tenant="12.71", decree="SK 1")
    assert report.fields["stated_area_ha"] == "Luasan_Kum" and report.fields["level"] == "Tingkat_Ke"
    rows = conn.execute("SELECT kawasan, unit_label, declared_kelurahan_code, stated_area_ha, stated_level "
                        "FROM slum_areas ORDER BY source_feature").fetchall()
    assert rows == [("Kawasan Uji", "RT01_RW01", "12.71.01.1001", 0.1, "KB"),
                    ("Kawasan Uji", "RT02_RW01", "12.71.01.1001", 0.2, "KS"),
                    ("Kawasan Uji", "RT03_RW01", "12.71.01.1001", 0.3, "KR")]


def test_a_decree_table_row_finds_its_rt_polygon_whose_label_adds_a_place_name(conn, medan, tmp_path):
    # Kab. Sinjai: the delineation labels '1003-RT01_RW01 TOKINJONG', its SK appendix 'RT001-RW001'
    frame = _rt_polygons(medan)
    frame["KODE_RT_RW"] = ["1001-RT01_RW01 KAMPUNG BARU", "1001-RT02_RW01 LORONG A", "1001-RT02_RW01 LORONG B"]
    frame.to_file(tmp_path / "delineasi.gpkg")
    import_slum_areas(conn, tmp_path / "delineasi.gpkg", tenant="12.71", decree="SK 1")
    table = tmp_path / "lampiran.csv"
    table.write_text("Kelurahan;RT/RW;Tingkat Kekumuhan\n"
                     "Kel. Pasar Baru;RT001-RW001;Kumuh Berat\n"
                     "Kel. Pasar Baru;RT002-RW001;Kumuh Sedang\n"       # two RT02 polygons: which one is not guessed
                     "Kel. Pasar Baru;RT001-RW012;Kumuh Ringan\n", encoding="utf-8")  # RW012 is not RW01
    report = import_surveys(conn, table, tenant="12.71", round="SK 2024", create_units=True)
    units = dict(conn.execute(
        "SELECT u.label, u.attributes->>'geometry_source' || ' ' || coalesce(s.unit_label, '-') FROM survey_units u "
        "LEFT JOIN slum_areas s ON s.id = u.slum_area_id AND u.attributes->>'geometry_source' = 'slum_area'"
    ).fetchall())
    assert units == {"RT001-RW001": "slum_area 1001-RT01_RW01 KAMPUNG BARU", "RT002-RW001": "kelurahan -",
                     "RT001-RW012": "kelurahan -"}
    texts = [w.text("id") for w in report.warnings]
    assert "unit survei RT001-RW001 (12.71.01.1001) tidak bertumpang tindih" not in " ".join(texts)
    assert any(t.startswith("unit survei RT001-RW012 (12.71.01.1001) tidak bertumpang tindih") for t in texts)


def test_a_level_column_written_b_s_r_gives_the_levels(conn, medan, tmp_path):
    frame = _rt_polygons(medan)
    frame["TINGKAT"] = ["B", "s", "R "]
    frame.to_file(tmp_path / "tingkat.shp")
    report = import_slum_areas(conn, tmp_path / "tingkat.shp", tenant="12.71", decree="SK 1")
    assert report.summary["stated_levels"] == 3
    assert [r[0] for r in conn.execute("SELECT stated_level FROM slum_areas ORDER BY source_feature")] == [
        "KB", "KS", "KR"]


def test_survey_tables_saved_by_excel_on_windows_or_cut_off(conn, medan, tmp_path):
    table = tmp_path / "baseline.csv"  # Excel's "CSV" on Windows: cp1252, ';'
    table.write_bytes("Kelurahan;RT/RW;Tingkat\nKel. Pasar Baru;RT 01 – Lorong Sé;Kumuh Berat\n".encode("cp1252"))
    report = import_surveys(conn, table, tenant="12.71", round="SK 2024", create_units=True)
    assert report.features_written == 1
    assert conn.execute("SELECT label FROM survey_units").fetchone()[0] == "RT 01 – Lorong Sé"
    (tmp_path / "kosong.csv").write_bytes(b"")  # before: a pandas EmptyDataError traceback
    with pytest.raises(InvalidInput) as failed:
        import_surveys(conn, tmp_path / "kosong.csv", tenant="12.71", round="SK 2025")
    assert describe(failed.value, "id").startswith("kosong.csv kosong (0 bita)")
    assert conn.execute("SELECT count(*) FROM surveys").fetchone()[0] == 1


def test_an_activity_table_exported_from_a_spreadsheet_with_its_title_and_map_app_coordinates(conn, medan, tmp_path):
    # like Kab. Sinjai's ARSINUM list: title rows, a two-line header cell, "lat, lon" pasted from a map app,
    # rupiah with thousands dots, the funding source by its name
    table = tmp_path / "ARSINUM 2022-2025.csv"
    table.write_text(
        '\ufeff"DATA KEGIATAN PEMBANGUNAN TEKNOLOGI AIR SIAP MINUM\nDI KOTA MEDAN";;;;;;\n'
        'NO.;JENIS;DESA;"ANGGARAN\n(Rp.)";SUMBER DANA;TITIK KOORDINAT;TAHUN\n'
        '1;Tandon Air;Pasar Baru;844.000.000;APBD PROVINSI;3.5840, 98.6860;2022\n'
        ';;;;;;\n', encoding="utf-8")
    report = import_activities(conn, table, tenant="12.71", field_map="title=DESA")
    assert report.features_written == 1 and report.fields["cost"] == "ANGGARAN\n(Rp.)"
    row = conn.execute("SELECT title, kind, cost, funding_source, year_start, ST_X(geom), ST_Y(geom) "
                       "FROM activities").fetchone()
    assert row == ("Pasar Baru", "tandon_air", 844_000_000, "APBD_PROV", 2022, 98.686, 3.584)


def test_activity_file_problems_read_in_indonesian(conn, medan, tmp_path):
    table = tmp_path / "usulan.csv"
    table.write_text("judul;jenis;tahun;lat;lon\nJl. Uji;Jalan Paving;2025;3,5840;98,6860\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        import_activities(conn, table, tenant="12.71")
    assert [p.text("id") for p in failed.value.report.errors] == [
        "fitur/baris 1, kolom geometry: geometri adalah Point, tetapi jenis kegiatan ini digambar sebagai garis"]
    (tmp_path / "usulan.geojson").write_text("bukan peta")
    with pytest.raises(InvalidInput) as refused:
        import_activities(conn, tmp_path / "usulan.geojson", tenant="12.71")
    assert describe(refused.value, "id").startswith("usulan.geojson bukan format vektor yang dapat dibaca")
    assert str(tmp_path) not in str(refused.value.as_dict())  # no server path in what an HTTP client sees


def test_a_score_with_decimals_is_said_to_be_a_score_not_a_level(conn, medan, tmp_path):
    table = tmp_path / "lampiran.csv"
    table.write_text("Kelurahan;RT/RW;Nilai Kekumuhan\nPasar Baru;RT 01;39,5\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        import_surveys(conn, table, tenant="12.71", round="SK 2024", create_units=True)
    assert [p.text("id") for p in failed.value.report.errors] == [
        "fitur/baris 2, kolom Nilai Kekumuhan: skor '39,5' bukan bilangan bulat dari 0 sampai 80 (skema permen14_2018)"]


def test_a_csv_row_longer_than_its_header_is_named_not_cut(conn, medan, tmp_path):
    table = tmp_path / "usulan.csv"  # a thousands comma without quotes pushes the values one cell right
    table.write_text("judul,jenis,tahun,biaya,lat,lon\nMCK Uji,MCK,2025,5,000,3.5840,98.6860\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as failed:
        import_activities(conn, table, tenant="12.71")
    assert describe(failed.value, "id") == (
        "usulan.csv: baris 1 di bawah judul kolom berisi 7 sel, padahal judul kolom menyebut 6 kolom: ada pemisah "
        "di dalam nilai tanpa tanda kutip?")
