"""Progress: area-weighted time series per slum area, kelurahan, kecamatan and kab/kota, and kumuh akhir from
completed activities tagged to criteria (hectares no longer slum, kontribusi penanganan)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from layers.db.frames import run
from layers.scoring.progress import _criterion_volumes, kumuh_akhir_op, time_series_op
from layers.scoring.scores import SYSTEM, slum_area_scores_op, unit_scores_op
from tests.layers.scoring_helpers import TENANT, scalar


@pytest.fixture
def medan(demo_conn):
    return demo_conn


def test_region_series_are_area_weighted_unit_scores(medan):
    result = run(medan, time_series_op(TENANT, SYSTEM))
    series, units = result["series"], run(medan, unit_scores_op(TENANT, SYSTEM))
    # the demo decree states a score per area (round SK); every area is surveyed at the baseline, so from there on
    # only surveys count
    assert result["baseline"] == "baseline" and result["rounds"] == ["SK", "baseline", "2023"]
    sk = series[(series["scope"] == "kabkota") & (series["round"] == "SK")].iloc[0]
    assert (sk["units"], sk["sk_areas"]) == (0, 60)
    for rnd in result["rounds"][1:]:
        u = units[units["round"] == rnd]
        w = u["weight_ha"].astype(float)
        city = series[(series["scope"] == "kabkota") & (series["round"] == rnd)].iloc[0]
        assert city["units"] == 192 and city["sk_areas"] == 0 and city["name"] == "Kota Medan"
        assert city["weighted_total"] == pytest.approx((u["total"].astype(float) * w).sum() / w.sum(), abs=1e-3)
        assert city["slum_ha"] == pytest.approx(w[u["level"] != "TK"].sum(), abs=1e-3)
        assert city["area_ha"] == pytest.approx(w.sum(), abs=1e-3)
        for scope in ("kecamatan", "kelurahan"):
            assert series[(series["scope"] == scope) & (series["round"] == rnd)]["units"].sum() == 192
    base = units[units["round"] == "baseline"].set_index("unit_id")
    now = units[units["round"] == "2023"].set_index("unit_id")
    left = (base["level"] != "TK") & (now["level"].reindex(base.index) == "TK")
    city_2023 = series[(series["scope"] == "kabkota") & (series["round"] == "2023")].iloc[0]
    assert city_2023["left_slum_ha"] == pytest.approx(base.loc[left, "weight_ha"].astype(float).sum(), abs=1e-3)
    assert city_2023["left_slum_ha"] > 0

    areas = series[series["scope"] == "slum_area"]
    own = run(medan, slum_area_scores_op(TENANT, SYSTEM))
    check = areas.merge(own.assign(code=own["slum_area_id"].astype(str)), on=["code", "round"])
    assert len(check) == 120 and (check["area_total"] == check["total"]).all()


def _activity(conn, unit_id: int, kind: str, criteria: list[str], volume: float, unit: str, attributes: dict,
              status: str = "selesai", year: int = 2024, where: str = "inside") -> None:
    geom = ("(SELECT ST_PointOnSurface(geom) FROM survey_units WHERE id = %(u)s)" if where == "inside"
            else "ST_SetSRID(ST_MakePoint(98.62, 3.52), 4326)")
    conn.execute(
        f"""
        INSERT INTO activities (tenant, title, kind, criteria, volume, unit, year_start, year_end, stage, status,
            progress, attributes, geom)
        VALUES (%(t)s, 'uji', %(k)s, %(c)s, %(v)s, %(un)s, %(y)s, %(y)s, 'serah_terima', %(s)s,
                CASE WHEN %(s)s = 'selesai' THEN 100 ELSE 0 END, %(a)s, {geom})
        """,
        {"t": TENANT, "u": unit_id, "k": kind, "c": criteria, "v": volume, "un": unit, "y": year, "s": status,
         "a": json.dumps(attributes)},
    )


@pytest.mark.writes_demo
def test_kumuh_akhir_counts_completed_work_per_criterion(medan):
    medan.execute("DELETE FROM activities")
    base = run(medan, unit_scores_op(TENANT, SYSTEM, round="baseline"))
    slum = base[(base["level"] != "TK")].sort_values("total")
    unit = slum.iloc[0]
    unit_id = int(unit["unit_id"])
    scored = [c[2:] for c in base.columns if c.startswith("s_") and unit[c] > 0]
    volumes = {c: float(unit[f"v_{c}"]) for c in scored}
    _activity(medan, unit_id, "penataan_kawasan", scored, 1, "unit", {"criteria_volumes": volumes})
    _activity(medan, unit_id, "sambungan_air", ["3a"], 5, "unit", {})  # 'unit' cannot reduce KK: reported
    _activity(medan, unit_id, "jalan_paving", ["2b"], 100, "m", {}, where="outside")  # in no survey unit
    _activity(medan, unit_id, "penataan_kawasan", scored, 1, "unit", {"criteria_volumes": volumes}, status="ditolak")

    result = run(medan, kumuh_akhir_op(TENANT, SYSTEM))
    assert result["baseline"] == "baseline" and result["baseline_year"] == 2019
    units = result["units"].set_index("unit_id")
    assert units.loc[unit_id, "level_before"] != "TK" and units.loc[unit_id, "level_after"] == "TK"
    assert units.loc[unit_id, "left_slum"] and units.loc[unit_id, "kontribusi"] > 0
    summary = result["summary"]
    assert summary["activities_applied"] == 1 and summary["units_left_slum"] == 1
    assert summary["no_longer_slum_ha"] == pytest.approx(float(unit["weight_ha"]))
    city = result["regions"][result["regions"]["scope"] == "kabkota"].iloc[0]
    assert city["no_longer_slum_ha"] == pytest.approx(float(unit["weight_ha"]), abs=1e-3)
    assert city["slum_ha_after"] == pytest.approx(city["slum_ha_before"] - float(unit["weight_ha"]), abs=1e-3)
    reasons = result["skipped"]["reason"].tolist()
    assert any("cannot reduce a criterion measured in 'KK'" in r for r in reasons)
    assert any("lies in no survey unit" in r for r in reasons)
    assert len(reasons) == 2  # the rejected proposal is not completed work

    earlier = run(medan, kumuh_akhir_op(TENANT, SYSTEM, until=2023))
    assert earlier["summary"]["units_left_slum"] == 0 and earlier["summary"]["activities_applied"] == 0
    assert scalar(medan, "SELECT count(*) FROM activities") == 4


def test_activity_units_convert_only_when_they_measure_the_same_thing():
    done = pd.DataFrame({
        "activity_id": [1, 1, 2, 3],
        "criterion": ["1b", "1a", "4b", "5a"],
        "volume": [5000.0, 5000.0, 120.0, 1.0],
        "activity_unit": ["m2", "m2", "m", "unit"],
        "stated_volume": [None, None, None, 40.0],
        "unit_id": [7, 7, 7, 7],
    })
    applied, skipped = _criterion_volumes(done, "permen14_2018")
    assert applied.set_index("criterion")["volume"].to_dict() == {"1b": 0.5, "4b": 120.0, "5a": 40.0}
    assert skipped["criterion"].tolist() == ["1a"] and "'unit'" in skipped["reason"].iloc[0]
