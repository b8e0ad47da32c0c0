"""`kotaku import slum-areas`: the Delineasi_Kumuh_AR schema and other layouts, kelurahan by overlap."""

from __future__ import annotations

import geopandas as gpd
import psycopg
import pytest
import shapely
from shapely.geometry import box

from data import data_path
from geo.measure import geodesic_area_ha
from layers.imports.regions import import_regions
from layers.imports.report import ImportFailed
from layers.imports.slum_areas import import_slum_areas

MEDAN = data_path("demo", "boundaries")


@pytest.fixture
def medan(conn: psycopg.Connection) -> gpd.GeoDataFrame:
    for level in ("kab_kota", "kecamatan", "desa_kel"):
        import_regions(conn, MEDAN / f"kota_medan_{level}.geojson")
    return gpd.read_file(MEDAN / "kota_medan_desa_kel.geojson").set_index("kode")


def _around(point, half: float):
    return box(point.x - half, point.y - half, point.x + half, point.y + half)


def _delineasi(medan: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Three RT polygons in the national schema: two inside Pasar Baru, one on its border with a neighbour."""
    pasar_baru = medan.loc["12.71.01.1001"].geometry
    others = medan.drop(index="12.71.01.1001")
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.9):  # a point of its boundary that another kelurahan is next to
        on_border = pasar_baru.exterior.interpolate(fraction, normalized=True)
        near = others[shapely.distance(others.geometry.values, on_border) < 0.0002]
        if len(near):
            neighbour_code = near.index[0]
            break
    inside = pasar_baru.representative_point()
    geoms = [_around(inside, 0.0008), shapely.affinity.translate(_around(inside, 0.0003), 0.0012, 0),
             _around(on_border, 0.0008)]
    areas = geodesic_area_ha(geoms)
    return gpd.GeoDataFrame({
        "Provinsi": ["Sumatera Utara"] * 3, "Kode_Prov": ["12"] * 3, "Kab_Kota": ["Medan"] * 3,
        "Kode_Kab": ["71"] * 3, "KECAMATAN": ["Medan Kota"] * 3, "Kode_Kec": ["01"] * 3,
        "KELURAHAN": ["Pasar Baru"] * 3, "Kode_Kel": ["1001"] * 3,
        "KODE_RT_RW": ["1001-RT01_RW01", "1001-RT02_RW01", "1001-RT03_RW02"],
        "LUAS_KUMUH": [round(areas[0], 4), round(areas[1] * 1.05, 4), round(areas[2], 4)],
        "skor_kumuh": [39.0, 44.0, 61.0], "SUMBR_DATA": ["uji"] * 3, "SK_KUMUH": [None] * 3,
        "Kawasan": ["Kawasan Uji A", "Kawasan Uji A", "Kawasan Uji B"],
    }, geometry=geoms, crs="EPSG:4326"), neighbour_code


def test_delineasi_kumuh_shapefile(conn, medan, tmp_path):
    frame, neighbour = _delineasi(medan)
    path = tmp_path / "Delineasi_Kumuh_AR.shp"
    frame.to_file(path)
    report = import_slum_areas(conn, path, tenant="1271", decree="SK 050/123/2024")
    assert report.ok and report.features_written == 3
    assert report.fields["kawasan"] == "Kawasan" and report.fields["stated_area_ha"] == "LUAS_KUMUH"
    rows = conn.execute(
        "SELECT unit_label, kelurahan_code, declared_kelurahan_code, kawasan, area_ha, stated_area_ha "
        "FROM slum_areas ORDER BY source_feature").fetchall()
    assert [r[1] for r in rows[:2]] == ["12.71.01.1001", "12.71.01.1001"]
    assert all(r[2] == "12.71.01.1001" for r in rows)
    assert rows[0][3] == "Kawasan Uji A"
    # stated 5 % larger than measured: kept beside it and reported
    assert rows[1][5] == pytest.approx(rows[1][4] * 1.05, rel=1e-3)
    assert any(p.feature == 2 and "differs from the geodesic area" in p.reason for p in report.warnings)
    # the border RT straddles: every share is stored and reported
    shares = conn.execute(
        "SELECT region_code, share FROM slum_area_regions sr JOIN slum_areas s ON s.id = sr.slum_area_id "
        "WHERE s.source_feature = 3 ORDER BY share DESC").fetchall()
    assert {"12.71.01.1001", neighbour} <= {code for code, _ in shares}
    assert sum(share for _, share in shares) == pytest.approx(1.0, abs=0.02)
    assert any(p.feature == 3 and "straddles" in p.reason for p in report.warnings)
    decree = conn.execute("SELECT tenant, number FROM decrees").fetchone()
    assert decree == ("12.71", "SK 050/123/2024")


def test_reimport_of_a_decree_with_replace_replaces_its_areas(conn, medan, tmp_path):
    frame, _ = _delineasi(medan)
    path = tmp_path / "a.gpkg"
    frame.to_file(path, driver="GPKG")
    import_slum_areas(conn, path, tenant="12.71", decree="SK 1")
    report = import_slum_areas(conn, path, tenant="12.71", decree="SK 1", mode="replace")
    assert report.summary["replaced_areas"] == 3
    assert conn.execute("SELECT count(*) FROM slum_areas").fetchone()[0] == 3


def test_one_bad_feature_rejects_the_file_and_changes_nothing(conn, medan, tmp_path):
    frame, _ = _delineasi(medan)
    import_slum_areas(conn, _save(frame, tmp_path / "ok.geojson"), tenant="12.71", decree="SK 1")
    before = conn.execute("SELECT count(*), sum(area_ha) FROM slum_areas").fetchone()
    broken = frame.copy()
    broken.loc[1, "geometry"] = shapely.Polygon()
    broken["LUAS_KUMUH"] = broken["LUAS_KUMUH"].astype(object)
    broken.loc[2, "LUAS_KUMUH"] = "tiga"
    with pytest.raises(ImportFailed) as failed:
        import_slum_areas(conn, _save(broken, tmp_path / "bad.geojson"), tenant="12.71", decree="SK 1")
    errors = {(p.feature, p.field) for p in failed.value.report.errors}
    assert (2, "geometry") in errors and (3, "LUAS_KUMUH") in errors
    assert conn.execute("SELECT count(*), sum(area_ha) FROM slum_areas").fetchone() == before


def test_areas_of_another_kab_kota_are_refused(conn, medan, tmp_path):
    frame, _ = _delineasi(medan)
    with pytest.raises(ImportFailed, match="not in tenant 73.07"):
        import_slum_areas(conn, _save(frame, tmp_path / "x.geojson"), tenant="73.07")
    other = frame.copy()
    other["Kode_Kel"] = None
    other.loc[0, "geometry"] = _around(shapely.Point(106.8, -6.2), 0.001)  # Jakarta, not Medan
    with pytest.raises(ImportFailed, match=r"lies 1,399,\d{3} m outside kab/kota 12.71"):
        import_slum_areas(conn, _save(other, tmp_path / "y.geojson"), tenant="12.71")
    assert conn.execute("SELECT count(*) FROM slum_areas").fetchone()[0] == 0


def test_kml_with_extended_data(conn, medan, tmp_path):
    frame, _ = _delineasi(medan)
    kml = tmp_path / "kawasan.kml"
    placemarks = "".join(
        f"<Placemark><name>{row.Kawasan}</name><ExtendedData>"
        f"<Data name='KODE_RT_RW'><value>{row.KODE_RT_RW}</value></Data>"
        f"<Data name='LUAS_HA'><value>{row.LUAS_KUMUH}</value></Data></ExtendedData>"
        f"<Polygon><outerBoundaryIs><LinearRing><coordinates>"
        + " ".join(f"{x},{y},0" for x, y in row.geometry.exterior.coords)
        + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        for row in frame.itertuples()
    )
    kml.write_text(f"<?xml version='1.0' encoding='UTF-8'?><kml xmlns='http://www.opengis.net/kml/2.2'>"
                   f"<Document>{placemarks}</Document></kml>")
    report = import_slum_areas(conn, kml, tenant="12.71")
    assert report.ok and report.features_written == 3
    labels = [r[0] for r in conn.execute("SELECT unit_label FROM slum_areas ORDER BY source_feature")]
    assert labels == list(frame.KODE_RT_RW)
    assert conn.execute("SELECT count(*) FROM slum_areas WHERE kelurahan_code IS NULL").fetchone()[0] == 0


def _save(frame: gpd.GeoDataFrame, path):
    frame.to_file(path)
    return path


def test_sinjai_delineasi_kumuh(conn, shared_data):
    folder = shared_data / "boundaries" / "kemendagri"
    for level in ("kab_kota", "kecamatan", "desa_kel"):
        import_regions(conn, folder / f"kab_sinjai_{level}.geojson")
    shp = shared_data / "slum" / "sinjai" / "delineasi_shp" / "Delineasi_Kumuh_AR.shp"
    report = import_slum_areas(conn, shp, tenant="73.07")
    assert report.ok and report.features_written == 50
    total = conn.execute("SELECT sum(area_ha), count(DISTINCT kawasan) FROM slum_areas").fetchone()
    assert total[0] == pytest.approx(132.24, abs=0.3)
    assert total[1] == 9
    assert conn.execute("SELECT count(*) FROM slum_areas WHERE kelurahan_code IS NULL").fetchone()[0] == 0
    # SOURCE.txt: the coded kelurahan is the largest overlap for 49 of 50 (one Balangnipa RT lies in Lappa)
    agree = conn.execute(
        "SELECT count(*) FROM slum_areas WHERE kelurahan_code = declared_kelurahan_code").fetchone()[0]
    assert agree == 49
    assert sum("largest overlap" in p.reason for p in report.warnings) == 1


def test_the_file_attributes_are_kept_as_a_json_object(conn, medan, tmp_path):
    frame, _ = _delineasi(medan)
    import_slum_areas(conn, _save(frame, tmp_path / "a.geojson"), tenant="12.71")
    kind, kawasan = conn.execute(
        "SELECT jsonb_typeof(attributes), attributes->>'Kawasan' FROM slum_areas ORDER BY id LIMIT 1").fetchone()
    assert (kind, kawasan) == ("object", "Kawasan Uji A")
