"""`kotaku import surveys`: units matched by code, label or kelurahan name, created when asked, stored scores
checked against the volumes (contradicting rows flagged, never scored), all or nothing."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import shapely
from shapely.geometry import box, mapping

from data import data_path
from indicators.schemes import load_scheme
from indicators.scoring import score_units
from layers.db.frames import run
from layers.imports.report import ImportFailed
from layers.imports.slum_areas import import_slum_areas
from layers.imports.surveys import import_surveys
from layers.scoring.scores import SYSTEM, unit_scores_op
from layers.scoring.surveys import normalise_label, normalise_name, round_orders
from tests.layers.scoring_helpers import TENANT, scalar, write_csv

S14 = load_scheme("permen14_2018")
DEMO_SURVEYS = data_path("demo", "medan_surveys.csv")


@pytest.fixture
def medan(demo_conn):
    return demo_conn


def demo_rows(round_name: str = "baseline", n: int = 3) -> pd.DataFrame:
    rows = pd.read_csv(DEMO_SURVEYS, dtype={"kelurahan_code": str})
    return rows[rows["round"] == round_name].head(n).reset_index(drop=True)


@pytest.mark.writes_demo
def test_the_demo_csv_matches_every_unit_and_reimport_replaces(medan):
    before = dict(((u, r), v) for u, r, v in medan.execute("SELECT unit_id, round, volumes FROM surveys").fetchall())
    medan.execute("DELETE FROM surveys")
    report = import_surveys(medan, DEMO_SURVEYS, tenant="1271")
    medan.commit()
    assert report.ok and report.features_read == 384
    assert report.summary["units_matched"] == 192 and report.summary["units_created"] == 0
    assert report.summary["surveys_inserted"] == 384 and report.summary["surveys_flagged"] == 0
    after = dict(((u, r), v) for u, r, v in medan.execute("SELECT unit_id, round, volumes FROM surveys").fetchall())
    assert after == before
    again = import_surveys(medan, DEMO_SURVEYS, tenant=TENANT, round="2023")
    assert again.summary["surveys_replaced"] == 192 and again.summary["surveys_inserted"] == 0
    assert again.summary["rounds"] == ["2023"]


def test_scores_from_the_database_equal_the_scheme_functions(medan):
    scored = run(medan, unit_scores_op(TENANT, SYSTEM, round="baseline"))
    expected = score_units(pd.read_csv(DEMO_SURVEYS).query("round == 'baseline'"), S14)
    assert sorted(scored["total"].astype(int)) == sorted(expected["total"].astype(int))
    assert scored["level"].value_counts().to_dict() == expected["level"].value_counts().to_dict()


def stored_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with the file's own percentages, scores, total, level and aspect averages, all correct."""
    scored = score_units(rows, S14)
    out = rows[["kelurahan_code", "label", "round", *(c for c in rows.columns if c in
                                                       ("area_ha", "buildings", "population", "households",
                                                        "road_length_m", "drainage_length_m"))]].copy()
    for c in S14.criteria:
        out[c.volume_column] = rows[c.volume_column]
        out[c.pct_column] = scored[c.pct_column]
        out[c.score_column] = scored[c.score_column].astype(int)
    out["total"] = scored["total"].astype(int)
    out["level"] = scored["level"]
    for a in S14.aspects:
        out[a.average_column] = scored[a.average_column]
    return out


@pytest.mark.writes_demo
def test_contradicting_rows_are_flagged_and_never_scored(medan, tmp_path):
    table = stored_table(demo_rows())
    block = [col for c in S14.criteria for col in (c.pct_column, c.score_column)] + ["total"]
    shifted = table.loc[1, block].tolist()
    table = table.astype(dict.fromkeys(block, object))
    table.loc[1, block] = [shifted[-1], *shifted[:-1]]  # one column to the right, like the Pekalongan rows
    table.loc[2, "avg_drainase"] = table.loc[2, "avg_drainase"] + 7  # a stale average: warned, still scored
    path = tmp_path / "surveys.csv"
    table.to_csv(path, index=False)

    report = import_surveys(medan, path, tenant=TENANT)
    medan.commit()
    assert report.ok and report.summary["surveys_flagged"] == 1
    flags = [w for w in report.warnings if "contradict" in w.reason]
    assert [w.feature for w in flags] == [3] and "column-shifted" in flags[0].reason
    assert any(w.feature == 4 and "avg_drainase" in w.reason for w in report.warnings)

    label = table.loc[1, "label"]
    flagged, problems = medan.execute(
        "SELECT sv.flagged, sv.problems FROM surveys sv JOIN survey_units u ON u.id = sv.unit_id "
        "WHERE u.label = %s AND u.kelurahan_code = %s AND sv.round = 'baseline'",
        [label, table.loc[1, "kelurahan_code"]]).fetchone()
    assert flagged and "contradict" in problems[0]["reason"]
    scored = run(medan, unit_scores_op(TENANT, SYSTEM, round="baseline"))
    row = scored[(scored["label"] == label) & (scored["kelurahan_code"] == table.loc[1, "kelurahan_code"])].iloc[0]
    assert pd.isna(row["total"]) and pd.isna(row["level"]) and row["note"].startswith("tidak dinilai")
    assert scored["total"].notna().sum() == 191


def test_strict_rejects_the_file_and_writes_nothing(medan, tmp_path):
    table = stored_table(demo_rows())
    table.loc[0, "s_1a"] = (table.loc[0, "s_1a"] + 1) % 6
    path = tmp_path / "surveys.csv"
    table.to_csv(path, index=False)
    before = scalar(medan, "SELECT count(*) FROM surveys WHERE NOT flagged")
    with pytest.raises(ImportFailed) as failed:
        import_surveys(medan, path, tenant=TENANT, strict=True)
    assert [(p.feature, p.field) for p in failed.value.report.errors] == [(2, "s_1a")]
    medan.rollback()
    assert scalar(medan, "SELECT count(*) FROM surveys WHERE NOT flagged") == before
    assert scalar(medan, "SELECT count(*) FROM surveys WHERE flagged") == 0


@pytest.mark.writes_demo
def test_unknown_units_are_errors_unless_created_under_their_kelurahan(medan, tmp_path):
    row = demo_rows(n=1).iloc[0].to_dict()
    kel_code, kawasan, kel_name = medan.execute(
        "SELECT s.kelurahan_code, s.kawasan, r.name FROM slum_areas s JOIN regions r ON r.code = s.kelurahan_code "
        "GROUP BY 1, 2, 3 HAVING count(*) = 1 ORDER BY 1 LIMIT 1").fetchone()
    new = {**row, "kelurahan_code": "", "kelurahan": f"Kel. {kel_name.upper()}", "label": "RT 07 / RW 02",
           "kawasan": kawasan, "round": "2024"}
    path = write_csv(tmp_path / "new_unit.csv", [new])
    with pytest.raises(ImportFailed) as failed:
        import_surveys(medan, path, tenant=TENANT)
    error = failed.value.report.errors[0]
    assert error.feature == 2 and error.field == "label" and "--create-units" in error.reason
    medan.rollback()

    report = import_surveys(medan, path, tenant=TENANT, create_units=True)
    assert report.summary["units_created"] == 1
    unit = medan.execute("SELECT kelurahan_code, label, geom IS NULL, slum_area_id, "
                         "(SELECT kawasan FROM slum_areas WHERE id = slum_area_id) FROM survey_units "
                         "WHERE label = 'RT 07 / RW 02'").fetchone()
    assert unit[:3] == (kel_code, "RT 07 / RW 02", True) and unit[4] == kawasan

    # the same unit written another way is the same unit
    same = write_csv(tmp_path / "same.csv", [{**new, "label": "rt07-rw02", "round": "2025"}])
    again = import_surveys(medan, same, tenant=TENANT)
    assert again.summary["units_matched"] == 1 and again.summary["units_created"] == 0


@pytest.mark.writes_demo
def test_a_unit_labelled_like_a_slum_area_gets_its_polygon(medan, tmp_path):
    inside = shapely.from_wkt(scalar(medan, "SELECT ST_AsText(ST_PointOnSurface(geom)) FROM regions "
                                            "WHERE code = '12.71.01.1001'"))
    geom = box(inside.x - 0.0004, inside.y - 0.0004, inside.x + 0.0004, inside.y + 0.0004)
    delineation = tmp_path / "rt.geojson"
    delineation.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": mapping(geom),
        "properties": {"Kode_Kel": "12.71.01.1001", "KODE_RT_RW": "1001-RT01_RW01", "Kawasan": "Uji"}}]}))
    area = import_slum_areas(medan, delineation, tenant=TENANT, decree="SK uji RT").summary["decree_id"]
    row = {**demo_rows(n=1).iloc[0].to_dict(), "kelurahan_code": "1271011001", "label": "RT 1 RW 1"}
    report = import_surveys(medan, write_csv(tmp_path / "rt.csv", [row]), tenant=TENANT)
    assert report.summary["units_created"] == 1
    slum_area, same_shape = medan.execute(
        "SELECT u.slum_area_id, ST_Equals(u.geom, s.geom) FROM survey_units u JOIN slum_areas s "
        "ON s.id = u.slum_area_id WHERE u.label = 'RT 1 RW 1'").fetchone()
    assert same_shape and scalar(medan, "SELECT decree_id FROM slum_areas WHERE id = %s", slum_area) == area


def test_bad_cells_and_missing_rounds_name_row_and_field(medan, tmp_path):
    rows = [r.to_dict() for _, r in demo_rows(n=3).iterrows()]
    rows[0]["v_2b"] = "banyak"
    rows[1]["kelurahan_code"] = "73.07.01.1001"
    rows[2] = {**rows[2], "kelurahan_code": "", "kelurahan": "Tidak Ada"}
    path = write_csv(tmp_path / "bad.csv", rows + [rows[0] | {"v_2b": 1}])
    with pytest.raises(ImportFailed) as failed:
        import_surveys(medan, path, tenant=TENANT)
    found = {(p.feature, p.field): p.reason for p in failed.value.report.errors}
    assert found[(2, "v_2b")] == "volume 'banyak' is not a number"
    assert "outside tenant 12.71" in found[(3, "kelurahan_code")]
    assert "no kelurahan named Tidak Ada" in found[(4, "kelurahan")]
    assert "earlier row" in found[(5, None)]
    medan.rollback()
    no_round = write_csv(tmp_path / "no_round.csv", [{k: v for k, v in rows[0].items()
                                                      if k not in ("round", "year", "v_2b")} | {"v_2b": 1}])
    with pytest.raises(ImportFailed, match="--round"):
        import_surveys(medan, no_round, tenant=TENANT)


def test_names_labels_and_rounds_normalise():
    assert normalise_label(pd.Series(["RT001-RW002", "rt 1 / rw 2", "1001-RT01_RW02", "Lingkungan 03"])).tolist() == [
        "RT1RW2", "RT1RW2", "RT1RW2", "LINGKUNGAN3"]
    assert normalise_name(pd.Series(["Pasir Kraton Kramat", "Pasirkratonkramat", "Kel. Kali Baros"])).tolist() == [
        "pasirkratonkramat", "pasirkratonkramat", "kalibaros"]
    rounds = pd.DataFrame({"round": ["2023", "baseline", "R2021", "akhir"], "first_date": [None] * 4})
    assert round_orders(rounds).tolist() == [2, 0, 1, 3]


@pytest.mark.writes_demo
def test_units_with_a_polygon_are_joined_to_slum_area_and_kelurahan(medan):
    from layers.scoring.surveys import link_survey_units

    area, kelurahan = medan.execute("SELECT id, kelurahan_code FROM slum_areas s WHERE NOT EXISTS (SELECT 1 FROM "
                                    "slum_area_regions r WHERE r.slum_area_id = s.id AND r.share < 0.99) "
                                    "ORDER BY id LIMIT 1").fetchone()
    medan.execute("INSERT INTO survey_units (tenant, label, geom) SELECT %s, 'RT baru', "
                  "ST_Multi(ST_Buffer(ST_PointOnSurface(geom), 0.0001)) FROM slum_areas WHERE id = %s",
                  [TENANT, area])
    medan.execute("INSERT INTO survey_units (tenant, label, geom) VALUES (%s, 'Di luar', "
                  "ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(98.62, 3.52), 4326), 0.0001)))", [TENANT])
    problems = link_survey_units(medan, TENANT)
    assert medan.execute("SELECT slum_area_id, kelurahan_code FROM survey_units WHERE label = 'RT baru'"
                         ).fetchone() == (area, kelurahan)
    assert [p.reason for p in problems if "Di luar" in p.reason] == [
        f"survey unit Di luar ({scalar(medan, 'SELECT kelurahan_code FROM survey_units WHERE label = %s', 'Di luar')})"
        " overlaps no slum area"]
