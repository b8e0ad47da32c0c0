"""Slum-area scores (summed unit volumes, scored) and the `slum_area_status` view that maps style by:
current round, total, level and priority per slum area; stale as soon as an input changes."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from shapely.geometry import box, mapping

from data import data_path
from indicators.schemes import load_scheme
from indicators.scoring import score_units
from layers.db.frames import run
from layers.imports.slum_areas import import_slum_areas
from layers.scoring.scores import SYSTEM, is_stale, slum_area_scores_op
from layers.scoring.status import refresh_status
from layers.scoring.surveys import HEADER_COLUMNS
from tests.layers.scoring_helpers import TENANT, scalar

S14 = load_scheme("permen14_2018")


@pytest.fixture
def medan(demo_conn):
    return demo_conn


def status(conn) -> pd.DataFrame:
    cur = conn.execute("SELECT * FROM slum_area_status WHERE tenant = %s ORDER BY slum_area_id", [TENANT])
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


@pytest.mark.writes_demo
def test_status_view_has_one_row_per_slum_area_and_says_when_stale(medan):
    loaded = status(medan)  # the demo loader refreshes the status as its last step
    assert len(loaded) == 60 and not loaded["stale"].any() and loaded["level"].notna().all()
    medan.execute("UPDATE slum_areas SET typology = typology WHERE id = (SELECT min(id) FROM slum_areas)")
    medan.commit()
    assert status(medan)["stale"].all()  # any write to the inputs makes every figure of the tenant stale
    counts = refresh_status(medan, TENANT)
    medan.commit()
    assert counts["current"] == 60 and counts["from_decree"] == 0
    now = status(medan)
    expected = {"slum_area_id", "round", "total_score", "level", "priority_class", "priority_rank"}
    assert expected <= set(now.columns)
    assert not now["stale"].any() and now["level"].notna().all() and (now["round"] == "2023").all()
    assert now["level"].isin(["TK", "KR", "KS", "KB"]).all()

    medan.execute("UPDATE surveys SET volumes = volumes || '{\"1a\": 0}' WHERE id = (SELECT min(id) FROM surveys)")
    medan.commit()
    assert is_stale(medan, TENANT) and status(medan)["stale"].all()
    refresh_status(medan, TENANT)
    medan.commit()
    assert not is_stale(medan, TENANT)


@pytest.mark.writes_demo
def test_a_slum_area_is_scored_from_the_summed_volumes_of_its_units(medan):
    area_id = scalar(medan, "SELECT slum_area_id FROM survey_units GROUP BY 1 HAVING count(*) >= 3 ORDER BY 1 LIMIT 1")
    units = pd.DataFrame(medan.execute("SELECT kelurahan_code, label FROM survey_units WHERE slum_area_id = %s",
                                       [area_id]).fetchall(), columns=["kelurahan_code", "label"])
    surveys = pd.read_csv(data_path("demo", "medan_surveys.csv"), dtype={"kelurahan_code": str})
    mine = surveys.merge(units, on=["kelurahan_code", "label"])
    sums = mine.groupby("round")[[*HEADER_COLUMNS, *(c.volume_column for c in S14.criteria)]].sum()
    expected = score_units(sums, S14)

    ours = run(medan, slum_area_scores_op(TENANT, SYSTEM, slum_area_id=area_id)).set_index("round")
    assert ours.loc["baseline", "units"] == len(units) and ours.loc["baseline", "coverage"] == pytest.approx(1.0)
    for rnd in ("baseline", "2023"):
        assert ours.loc[rnd, "total"] == expected.loc[rnd, "total"]
        assert ours.loc[rnd, "level"] == expected.loc[rnd, "level"]
        assert ours.loc[rnd, "avg_overall"] == pytest.approx(expected.loc[rnd, "avg_overall"])

    # a flagged survey is left out: the round covers less of the area
    medan.execute("UPDATE surveys SET flagged = true WHERE round = '2023' AND unit_id = (SELECT min(id) FROM "
                  "survey_units WHERE slum_area_id = %s)", [area_id])
    partial = run(medan, slum_area_scores_op(TENANT, SYSTEM, slum_area_id=area_id)).set_index("round")
    assert partial.loc["2023", "units_scored"] == len(units) - 1 and partial.loc["2023", "coverage"] < 1


def test_areas_without_surveys_take_the_decree_score(conn, tmp_path):
    conn.execute("TRUNCATE scoring_state")
    features = [{"type": "Feature", "geometry": mapping(box(98.60 + i * 0.01, 3.55, 98.605 + i * 0.01, 3.555)),
                 "properties": {"Kawasan": f"K{i}", "skor_kumuh": score, "KODE_RT_RW": f"RT0{i}"}}
                for i, score in enumerate(("42", "12", "tidak ada"))]
    path = tmp_path / "sk.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    import_slum_areas(conn, path, tenant=TENANT, decree="SK 2024", published=True)
    refresh_status(conn, TENANT)
    rows = status(conn)
    assert rows["score_source"].tolist()[:2] == ["decree", "decree"] and pd.isna(rows["score_source"].iloc[2])
    assert rows["total_score"].tolist()[:2] == [42, 12] and rows["level"].tolist()[:2] == ["KS", "TK"]
    assert rows["round"].tolist()[:2] == ["SK", "SK"] and pd.isna(rows["level"].iloc[2])
