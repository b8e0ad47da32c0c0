"""Numbers with their unit in imported files (issue 11 item 4): "7.067 ha", "4,075 ha", "14340 m2", "45,5%",
"1.234" households, "12,5 m" are read with their unit by `kotaku import slum-areas`, `surveys` and
`priority-inputs`; a value that cannot be read is an error naming the row, the field and the value, and the
import changes no row; `--map field=-` reads a field from nowhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from data import data_path
from geo.measure import geodesic_area_ha
from layers.imports.priority import import_priority_inputs
from layers.imports.regions import import_regions
from layers.imports.report import ImportFailed
from layers.imports.slum_areas import import_slum_areas
from layers.imports.surveys import import_surveys
from layers.scoring.status import refresh_status
from layers.values.quantities import read_quantities
from tests.layers.scoring_helpers import TENANT, scalar, write_csv

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
DEMO_AREAS = data_path("demo", "medan_slum_areas.geojson")
DEMO_SURVEYS = data_path("demo", "medan_surveys.csv")


@pytest.fixture
def medan_regions(conn):
    for level in ("kab_kota", "kecamatan", "desa_kel"):
        import_regions(conn, data_path("demo", "boundaries", f"kota_medan_{level}.geojson"))
    conn.commit()
    return conn


def slum_file(tmp_path: Path, texts: list[str]) -> tuple[Path, list[float]]:
    """The first len(texts) demo slum areas as a GeoJSON whose LUAS_KUMUH holds `texts`; their geodesic areas."""
    frame = gpd.read_file(DEMO_AREAS).head(len(texts))
    frame["LUAS_KUMUH"] = texts
    path = tmp_path / "sk_kumuh.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path, [float(a) for a in geodesic_area_ha(frame.geometry.values)]


def test_stated_areas_are_read_with_their_unit(medan_regions, tmp_path):
    areas = [float(a) for a in geodesic_area_ha(gpd.read_file(DEMO_AREAS).head(5).geometry.values)]
    assert all(1 <= a < 100 for a in areas[:2])  # "d.ddd ha" below is ambiguous only for such areas
    texts = [f"{areas[0]:.3f} ha".replace(".", ","),  # 4,075 ha
             f"{areas[1]:.3f} Ha",  # 1.434 Ha: decimal point or thousands? the polygon says which
             f"{areas[2] * 10_000:.0f} m2",
             "0,5 hektar",
             f"{areas[4]:.3f}".replace(".", ",")]  # no unit: hectares
    path, _ = slum_file(tmp_path, texts)
    report = import_slum_areas(medan_regions, path, tenant="12.71", decree="SK uji satuan")
    medan_regions.commit()
    assert report.ok and report.features_written == 5
    stored = [r[0] for r in medan_regions.execute(
        "SELECT stated_area_ha FROM slum_areas ORDER BY source_feature").fetchall()]
    assert stored == pytest.approx([round(areas[0], 3), round(areas[1], 3), areas[2], 0.5, round(areas[4], 3)],
                                   abs=1e-3)
    warned = {(w.feature, w.field): w.reason for w in report.warnings}
    assert "read as" in warned[(2, "LUAS_KUMUH")] and "nearer to the geometry" in warned[(2, "LUAS_KUMUH")]
    assert "differs from the geodesic area" in warned[(4, "LUAS_KUMUH")]  # 0,5 ha stated for a larger polygon


def test_an_ambiguous_area_is_read_as_thousands_when_the_polygon_is_that_large():
    reading, = read_quantities(["7.067 ha"], "ha", references=[7_100.0])
    assert reading.value == 7067 and "nearer to the geometry" in reading.note


def test_a_column_writing_decimals_one_way_reads_its_ambiguous_values_that_way():
    """Survey volumes have no polygon to compare with: the column's other values tell the decimal mark."""
    assert [r.value for r in read_quantities(["1.09", "1.155"], "ha")] == [1.09, 1.155]
    assert [r.value for r in read_quantities(["12,5", "1.155"], "m")] == [12.5, 1155]
    lone, = read_quantities(["1.155"], "ha")
    assert lone.value == 1.155 and "ambiguous" in lone.note and "1,155 or 1155" in lone.note


def test_an_unreadable_area_exits_2_naming_feature_field_and_value(empty_db, medan_regions, tmp_path):
    path, _ = slum_file(tmp_path, ["4,075 ha", "1.434 Ha", "dua hektar"])
    result = subprocess.run([KOTAKU, "import", "slum-areas", str(path), "--tenant", "12.71"], capture_output=True,
                            text=True, timeout=300,
                            env={**os.environ, "DATABASE_URL": empty_db})
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output and "None" not in output
    assert "feature 3, field LUAS_KUMUH: 'dua hektar' is not a number" in output
    assert scalar(medan_regions, "SELECT count(*) FROM slum_areas") == 0
    assert scalar(medan_regions, "SELECT count(*) FROM decrees") == 0


def test_map_dash_ignores_the_stated_area(medan_regions, tmp_path):
    path, _ = slum_file(tmp_path, ["dua hektar", "tidak diukur"])
    report = import_slum_areas(medan_regions, path, tenant="12.71", decree="SK tanpa luas",
                               field_map="stated_area_ha=-")
    medan_regions.commit()
    assert report.ok and report.features_written == 2 and "stated_area_ha" not in report.fields
    stored = medan_regions.execute("SELECT stated_area_ha, area_ha FROM slum_areas").fetchall()
    assert [s for s, _ in stored] == [None, None] and all(a > 0 for _, a in stored)


# --- priority inputs ---------------------------------------------------------------------------------------------

@pytest.mark.writes_demo
def test_priority_inputs_read_percentages_and_counts_with_units(demo_conn, tmp_path):
    refresh_status(demo_conn, TENANT)
    ids = [r[0] for r in demo_conn.execute("SELECT id FROM slum_areas ORDER BY id LIMIT 3").fetchall()]
    rows = [{"slum_area_id": ids[0], "persen_mbr": "45 %", "penduduk": "1.234 jiwa"},
            {"slum_area_id": ids[1], "persen_mbr": "45,5%", "penduduk": "2.500"},
            {"slum_area_id": ids[2], "persen_mbr": "12.5", "penduduk": 800}]
    report = import_priority_inputs(demo_conn, write_csv(tmp_path / "pl.csv", rows), tenant=TENANT)
    demo_conn.commit()
    assert report.ok, report.errors
    stored = dict((a, (m, p)) for a, m, p in demo_conn.execute(
        "SELECT slum_area_id, mbr_share_pct, population FROM slum_area_priority_inputs").fetchall())
    assert stored == {ids[0]: (45.0, 1234), ids[1]: (45.5, 2500), ids[2]: (12.5, 800)}


def test_priority_inputs_name_the_value_they_cannot_read(demo_conn, tmp_path):
    rows = [{"slum_area_id": 1, "persen_mbr": "45 ha"}, {"slum_area_id": 2, "persen_mbr": "separuh"}]
    with pytest.raises(ImportFailed) as failed:
        import_priority_inputs(demo_conn, write_csv(tmp_path / "bad.csv", rows), tenant=TENANT)
    found = {(p.feature, p.field): p.reason for p in failed.value.report.errors}
    assert "'45 ha'" in found[(2, "persen_mbr")] and "%" in found[(2, "persen_mbr")]
    assert "'separuh' is not a number" in found[(3, "persen_mbr")]
    demo_conn.rollback()
    assert scalar(demo_conn, "SELECT count(*) FROM slum_area_priority_inputs") == 0


# --- surveys -----------------------------------------------------------------------------------------------------

def survey_rows(n: int = 2) -> list[dict]:
    rows = pd.read_csv(DEMO_SURVEYS, dtype=str, keep_default_na=False)
    return [r.to_dict() for _, r in rows[rows["round"] == "baseline"].head(n).iterrows()]


@pytest.mark.writes_demo
def test_surveys_read_counts_and_volumes_with_units(demo_conn, tmp_path):
    rows = survey_rows()
    rows[0] |= {"households": "1.234", "v_2a": "12,5 m", "v_4a": "0,25 ha", "population": "4.321 jiwa"}
    rows[1] |= {"v_2b": "0,1 km", "buildings": "103 unit"}
    report = import_surveys(demo_conn, write_csv(tmp_path / "survei.csv", rows), tenant=TENANT)
    demo_conn.commit()
    assert report.ok, report.errors
    first = demo_conn.execute(
        "SELECT s.households, s.population, s.volumes FROM surveys s JOIN survey_units u ON u.id = s.unit_id "
        "WHERE s.round = 'baseline' AND u.label = %s AND u.kelurahan_code = %s",
        [rows[0]["label"], rows[0]["kelurahan_code"]]).fetchone()
    assert first[0] == 1234 and first[1] == 4321
    assert first[2]["2a"] == 12.5 and first[2]["4a"] == 0.25
    second = demo_conn.execute(
        "SELECT s.buildings, s.volumes FROM surveys s JOIN survey_units u ON u.id = s.unit_id "
        "WHERE s.round = 'baseline' AND u.label = %s AND u.kelurahan_code = %s",
        [rows[1]["label"], rows[1]["kelurahan_code"]]).fetchone()
    assert second[0] == 103 and second[1]["2b"] == 100.0


def test_survey_values_in_the_wrong_unit_name_row_field_and_value(demo_conn, tmp_path):
    before = scalar(demo_conn, "SELECT count(*) FROM surveys")
    rows = survey_rows()
    rows[0] |= {"households": "banyak KK"}
    rows[1] |= {"v_2a": "12 ha"}
    with pytest.raises(ImportFailed) as failed:
        import_surveys(demo_conn, write_csv(tmp_path / "bad.csv", rows), tenant=TENANT)
    found = {(p.feature, p.field): p.reason for p in failed.value.report.errors}
    assert "'banyak KK' is not a number" in found[(2, "households")]
    demo_conn.rollback()
    rows[0] |= {"households": "118"}
    with pytest.raises(ImportFailed) as failed:
        import_surveys(demo_conn, write_csv(tmp_path / "bad2.csv", rows), tenant=TENANT)
    found = {(p.feature, p.field): p.reason for p in failed.value.report.errors}
    assert "'12 ha' is in ha, but this field is in m" in found[(3, "v_2a")]
    demo_conn.rollback()
    assert scalar(demo_conn, "SELECT count(*) FROM surveys") == before


@pytest.mark.writes_demo
def test_map_dash_ignores_a_survey_field(demo_conn, tmp_path):
    rows = survey_rows()
    rows[0] |= {"population": "tidak dihitung"}
    path = write_csv(tmp_path / "survei.csv", rows)
    with pytest.raises(ImportFailed):
        import_surveys(demo_conn, path, tenant=TENANT)
    demo_conn.rollback()
    report = import_surveys(demo_conn, path, tenant=TENANT, field_map="population=-")
    assert report.ok, report.errors
    assert "population" not in report.fields
