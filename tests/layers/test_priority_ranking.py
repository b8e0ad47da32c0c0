"""Priority of slum areas: strategic zones, pertimbangan-lain inputs, legality, a tenant's own matrix; every
row says which factors gave its class and which inputs are missing."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo.errors import InvalidInput
from indicators.priority import load_priority_tables
from layers.db.frames import run
from layers.imports.priority import import_priority_inputs, import_priority_matrix, import_strategic_zones
from layers.imports.report import ImportFailed
from layers.scoring.priority import priorities_op
from layers.scoring.scores import SYSTEM
from layers.scoring.status import refresh_status
from tests.layers.scoring_helpers import TENANT, scalar, write_csv


@pytest.fixture
def medan(demo_conn):
    refresh_status(demo_conn, TENANT)
    demo_conn.commit()
    return demo_conn


def ranked(conn) -> pd.DataFrame:
    return run(conn, priorities_op(TENANT, SYSTEM)).set_index("slum_area_id")


def zone_around(conn, slum_area_id: int, path) -> None:
    geojson = scalar(conn, "SELECT ST_AsGeoJSON(ST_Buffer(geom, 0.0005)) FROM slum_areas WHERE id = %s", slum_area_id)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(geojson), "properties": {"NAMA": "Koridor Deli"}}]}))


def test_without_pertimbangan_lain_inputs_no_class_is_guessed(medan):
    rows = ranked(medan)
    assert len(rows) == 60 and rows["class"].isna().all()
    assert rows["missing"].str.contains("persentase MBR").all() and rows["missing"].str.contains("potensi").all()
    assert (rows["density_source"] == "survei 2023").all() and rows["density"].notna().all()
    assert rows["kewenangan"].isin(["kabkota", "provinsi", "pusat"]).all()
    assert rows["handling"].notna().all()
    assert rows["position"].tolist() == list(range(1, 61))


@pytest.mark.writes_demo
def test_zones_and_inputs_give_classes_with_their_reasons(medan, tmp_path):
    rows = ranked(medan)
    target = int(rows[rows["level"] != "TK"].index[0])
    zone_around(medan, target, tmp_path / "zona.geojson")
    zones = import_strategic_zones(medan, tmp_path / "zona.geojson", tenant=TENANT, value="strategis")
    assert zones.ok and zones.features_written == 1
    kawasan = medan.execute("SELECT DISTINCT kawasan FROM slum_areas WHERE tenant = %s", [TENANT]).fetchall()
    inputs = [{"kawasan": k, "persen_mbr": "80,5", "potensi": "tinggi"} for (k,) in kawasan]
    inputs[0] = {**inputs[0], "potensi": ""}  # one kawasan without its potential
    report = import_priority_inputs(medan, write_csv(tmp_path / "pl.csv", inputs), tenant=TENANT)
    medan.commit()
    assert report.ok and report.summary["slum_areas"] == 60

    rows = ranked(medan)
    row = rows.loc[target]
    assert row["strategic_value"] == "strategis" and row["strategic_source"] == "zona Koridor Deli"
    assert row["mbr_share_pct"] == 80.5 and row["mbr_class"] == "75-100%"
    tables = load_priority_tables()
    expected = tables.matrix.set_index(["level", "pl", "legality"]).loc[(row["level"], row["pl"], row["legality"])]
    assert row["class"] == expected["class"] and row["rank"] == expected["rank"]
    assert f"-> {row['class']}" in row["basis"] and "nilai strategis 5" in row["basis"]
    others = rows.drop(index=target)
    assert (others["strategic_value"] == "tidak strategis").all()
    assert (others["strategic_source"] == "di luar zona strategis").all()
    lacking = rows[rows["kawasan"] == kawasan[0][0]]
    assert lacking["class"].isna().all() and (lacking["missing"] == "potensi sosial-ekonomi").all()
    slum = rows[(rows["level"] != "TK") & rows["class"].notna()]
    assert len(slum) > 0 and slum["rank"].is_monotonic_increasing  # ranked by the matrix
    view = dict(medan.execute("SELECT slum_area_id, priority_class FROM slum_area_status "
                              "WHERE priority_class IS NOT NULL").fetchall())
    assert view == rows["class"].dropna().to_dict()


def test_bad_inputs_name_row_and_field(medan, tmp_path):
    rows = [{"kawasan": "Tidak Ada", "potensi": "tinggi"}, {"slum_area_id": 1, "potensi": "luar biasa"},
            {"slum_area_id": 2, "persen_mbr": "120", "legalitas": "mungkin"}]
    with pytest.raises(ImportFailed) as failed:
        import_priority_inputs(medan, write_csv(tmp_path / "bad.csv", rows), tenant=TENANT)
    found = {(p.feature, p.field) for p in failed.value.report.errors}
    assert {(2, "slum_area"), (3, "potensi"), (4, "persen_mbr"), (4, "legalitas")} <= found
    medan.rollback()
    assert scalar(medan, "SELECT count(*) FROM slum_area_priority_inputs") == 0


@pytest.mark.writes_demo
def test_a_tenant_matrix_replaces_the_packaged_one(medan, tmp_path):
    matrix = load_priority_tables().matrix.copy()
    matrix["class"] = "P" + matrix["rank"].astype(str)
    path = tmp_path / "matriks.csv"
    matrix.to_csv(path, index=False)
    assert import_priority_matrix(medan, path, tenant=TENANT).ok
    area = int(ranked(medan).index[0])
    medan.execute("INSERT INTO slum_area_priority_inputs (slum_area_id, tenant, mbr_share_pct, potential, "
                  "strategic_value) VALUES (%s, %s, 30, 'sedang', 'strategis')", [area, TENANT])
    row = ranked(medan).loc[area]
    assert row["class"] == f"P{row['rank']}"

    broken = matrix.iloc[1:]
    broken.to_csv(path, index=False)
    with pytest.raises(InvalidInput, match="combinations"):
        import_priority_matrix(medan, path, tenant=TENANT)
    medan.rollback()
    assert scalar(medan, "SELECT count(*) FROM priority_matrices WHERE tenant = %s", TENANT) == len(matrix)
