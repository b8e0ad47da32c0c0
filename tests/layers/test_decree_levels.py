"""The decree's own level counts: an SK table that states a level (Berat/Sedang/Ringan, KB/KS/KR, "Kumuh Berat",
a score) and no survey volumes gives every slum area its level, shown with source "SK" in items, tiles,
keterpaduan and priority, until a survey import supersedes it (source "survei")."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from data import data_path
from layers.db.frames import run
from layers.imports.regions import import_regions
from layers.imports.report import ImportFailed
from layers.imports.slum_areas import import_slum_areas
from layers.imports.surveys import import_surveys
from layers.scoring.priority import MISSING_LABELS, priorities_op
from layers.scoring.scores import SYSTEM
from tests.layers.scoring_helpers import write_csv

MEDAN = data_path("demo", "boundaries")
SPELLINGS = {  # the level as SK tables write it -> the level code every view shows
    "Kumuh Berat": "KB", "Berat": "KB", "KB": "KB", "berat": "KB", "KUMUH SEDANG": "KS", "Sedang": "KS",
    "KS": "KS", "Ringan": "KR", "KR": "KR", "kumuh ringan": "KR", "Tidak Kumuh": "TK", "TK": "TK",
}


@pytest.fixture
def medan(conn):
    for level in ("kab_kota", "kecamatan", "desa_kel"):
        import_regions(conn, MEDAN / f"kota_medan_{level}.geojson")
    return conn


def _sk_table(n: int) -> gpd.GeoDataFrame:
    """The first n areas of the shipped demo delineation, kept with their codes but without their scores."""
    frame = gpd.read_file(data_path("demo", "medan_slum_areas.geojson")).head(n)
    return frame.drop(columns=["skor_kumuh"]).assign(KODE_RT_RW=[f"RT {i + 1:02d}" for i in range(n)])


def _items(url: str) -> dict[str, dict]:
    with TestClient(create_app(url)) as client:
        body = client.get("/collections/slum-areas/items", params={"limit": 1000}).json()
    return {f["properties"]["unit_label"]: f["properties"] for f in body["features"]}


def test_sk_levels_in_every_spelling_show_everywhere_then_a_survey_supersedes(medan, empty_db, tmp_path):
    frame = _sk_table(len(SPELLINGS)).assign(Tingkat_Kekumuhan=list(SPELLINGS))
    path = tmp_path / "lampiran_sk.gpkg"
    frame.to_file(path, driver="GPKG")
    report = import_slum_areas(medan, path, tenant="12.71", decree="SK 2025", published=True)
    medan.commit()
    assert report.fields["level"] == "Tingkat_Kekumuhan" and report.summary["stated_levels"] == len(SPELLINGS)
    expected = dict(zip(frame["KODE_RT_RW"], SPELLINGS.values(), strict=True))

    items = _items(empty_db)
    assert {label: p["level"] for label, p in items.items()} == expected
    assert {p["level_source"] for p in items.values()} == {"SK"}
    assert all(p["score"] is None for p in items.values())  # the SK states a level, no score: none is invented

    # tiles: the same level and source in the vector tile of the first area
    first = frame.iloc[0]
    point = first.geometry.representative_point()
    z = 15
    x = int((point.x + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(point.y))) / math.pi) / 2 * 2**z)
    with TestClient(create_app(empty_db)) as client:
        pbf = client.get(f"/tiles/slum-areas/{z}/{x}/{y}.pbf")
    features = mapbox_vector_tile.decode(pbf.content)["slum-areas"]["features"]
    mine = [f["properties"] for f in features if f["properties"].get("unit_label") == first["KODE_RT_RW"]]
    assert mine and mine[0]["level"] == expected[first["KODE_RT_RW"]] and mine[0]["level_source"] == "SK"

    # keterpaduan and priority use the SK level
    with TestClient(create_app(empty_db)) as client:
        summary = client.get("/tenants/12.71/keterpaduan").json()
    by_label = {a["unit_label"]: a for a in summary["slum_areas"]}
    assert {label: a["level"] for label, a in by_label.items()} == expected
    assert {a["score_source"] for a in by_label.values()} == {"SK"}
    ranked = run(medan, priorities_op("12.71", SYSTEM))
    assert dict(zip(ranked["unit_label"], ranked["level"], strict=True)) == expected
    assert set(ranked["score_source"]) == {"SK"}
    assert not ranked["missing"].fillna("").str.contains(MISSING_LABELS["level"]).any()  # the level is not missing

    # a survey of RT 01 (volumes: nothing bad) supersedes the SK's "Kumuh Berat" for that area only
    survey = {"kelurahan_code": first["Kode_Prov"] + "." + first["Kode_Kab"] + "." + first["Kode_Kec"] + "."
              + first["Kode_Kel"], "label": "RT 01", "round": "2026", "area_ha": 1, "buildings": 100,
              "population": 400, "households": 100, "road_length_m": 500, "drainage_length_m": 500,
              **{f"v_{c}": 0 for c in ("1a", "1b", "1c", "2a", "2b", "3a", "3b", "4a", "4b", "4c", "5a", "5b", "6a",
                                       "6b", "7a", "7b")}}
    import_surveys(medan, write_csv(tmp_path / "survei.csv", [survey]), tenant="12.71")
    medan.commit()
    items = _items(empty_db)
    assert (items["RT 01"]["level"], items["RT 01"]["level_source"], items["RT 01"]["score"]) == ("TK", "survei", 0)
    assert {p["level_source"] for label, p in items.items() if label != "RT 01"} == {"SK"}


def test_a_score_only_sk_table_takes_its_level_from_the_bands(medan, empty_db, tmp_path):
    frame = _sk_table(4).assign(Nilai_Kekumuhan=["62", "39,0", 20, 15])  # KB, KS, KR, TK (scheme 14/2018)
    path = tmp_path / "sk.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = import_slum_areas(medan, path, tenant="12.71", decree="SK skor", published=True)
    medan.commit()
    assert report.fields["score"] == "Nilai_Kekumuhan" and "level" not in report.fields
    items = _items(empty_db)
    assert [(items[f"RT 0{i}"]["level"], items[f"RT 0{i}"]["score"]) for i in range(1, 5)] == [
        ("KB", 62), ("KS", 39), ("KR", 20), ("TK", 15)]
    assert {p["level_source"] for p in items.values()} == {"SK"}


def test_mapped_level_field_and_disagreeing_score(medan, tmp_path):
    frame = _sk_table(2).assign(KELAS=["KB", "KR"], SKOR=[70, 70])
    path = tmp_path / "sk.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = import_slum_areas(medan, path, tenant="12.71", decree="SK map", field_map="level=KELAS,score=SKOR")
    levels = medan.execute("SELECT stated_level, stated_score FROM slum_areas ORDER BY source_feature").fetchall()
    assert levels == [("KB", 70), ("KR", 70)]  # the stated level is in charge; the score is kept beside it
    [warning] = [w for w in report.warnings if "level field says" in w.reason]
    assert warning.feature == 2 and warning.field == "SKOR" and "70 is level KB" in warning.reason


def test_unknown_level_text_names_feature_field_and_value_and_writes_nothing(medan, tmp_path):
    frame = _sk_table(3).assign(TINGKAT=["Berat", "Parah sekali", "Sedang"])
    path = tmp_path / "sk.geojson"
    frame.to_file(path, driver="GeoJSON")
    with pytest.raises(ImportFailed) as failed:
        import_slum_areas(medan, path, tenant="12.71", decree="SK x")
    [error] = failed.value.report.errors
    assert (error.feature, error.field) == (2, "TINGKAT") and "'Parah sekali'" in error.reason
    assert "None" not in str(failed.value) and medan.execute("SELECT count(*) FROM slum_areas").fetchone()[0] == 0


def test_sinjai_sk_appendix_levels(conn, shared_data, tmp_path):
    """The real Kab. Sinjai SK appendix (Tingkat_Kekumuhan and Nilai_Kekumuhan per RT, located by its lat/lon)
    joined to its delineation: every area the appendix locates gets the appendix's level."""
    shared = shared_data
    sinjai = shared / "slum" / "sinjai"
    import_regions(conn, shared / "boundaries" / "kemendagri" / "kab_sinjai_kab_kota.geojson")
    import_regions(conn, shared / "boundaries" / "kemendagri" / "kab_sinjai_desa_kel.geojson")
    lampiran = gpd.pd.read_csv(sinjai / "lampiran_lokasi_kawasan_sinjai.csv")
    points = gpd.GeoDataFrame(lampiran, geometry=gpd.points_from_xy(lampiran["Bujur"], lampiran["Lintang"]),
                              crs="EPSG:4326")
    areas = gpd.read_file(sinjai / "delineasi_shp" / "Delineasi_Kumuh_AR.shp").to_crs(4326)
    joined = gpd.sjoin(areas, points[["Tingkat_Kekumuhan", "Nilai_Kekumuhan", "geometry"]], how="left",
                       predicate="contains").drop_duplicates("KODE_RT_RW").drop(columns=["index_right", "skor_kumuh"])
    path = tmp_path / "sinjai_sk.gpkg"
    joined.to_file(path, driver="GPKG")
    report = import_slum_areas(conn, path, tenant="73.07", decree="SK Sinjai 2024", published=True)
    stated = conn.execute("SELECT stated_level, count(*) FROM slum_areas GROUP BY 1").fetchall()
    assert report.fields["level"] == "Tingkat_Kekumuhan" and report.summary["stated_levels"] > 0
    assert {level for level, _ in stated if level} <= {"KR", "KS", "KB", "TK"}
    levels = dict(conn.execute("SELECT unit_label, stated_level FROM slum_areas"))
    located = joined.dropna(subset=["Tingkat_Kekumuhan"])
    assert len(located) > 0
    for label, text in zip(located["KODE_RT_RW"], located["Tingkat_Kekumuhan"], strict=True):
        assert levels[label] == {"Kumuh Berat": "KB", "Kumuh Sedang": "KS", "Kumuh Ringan": "KR"}[text.strip()]
    assert json.dumps(report.as_dict(), default=str)


def test_level_text_spellings():
    from indicators.level_text import level_from_text
    assert [level_from_text(v)[0] for v in SPELLINGS] == list(SPELLINGS.values())
    assert level_from_text("60") == ("KB", 60) and level_from_text(" ") == (None, None)
