"""Kumuh akhir: completed activities reduce the remaining volume, the unit is rescored."""

import pandas as pd
import pytest

from geo.errors import InvalidInput
from indicators.progress import (
    completed_volumes,
    kontribusi_penanganan,
    kumuh_akhir,
    remaining_volumes,
    slum_reduction_ha,
)
from indicators.schemes import load_scheme

S14 = load_scheme("permen14_2018")


def baseline():
    """Two RTs: A is kumuh ringan mostly because of roads and waste; B because of everything."""
    df = pd.DataFrame(
        {
            "unit": ["RT001-RW01", "RT002-RW01"],
            "area_ha": [1.5, 2.5],
            "buildings": [100, 100],
            "households": [100, 100],
            "road_length_m": [1000.0, 1000.0],
            "drainage_length_m": [1000.0, 1000.0],
            "population": [400, 400],
        }
    )
    for c in S14.criteria:
        df[c.volume_column] = [0.0, 0.8 * df.loc[1, c.denominator]]  # B: 80 % everywhere
    df.loc[0, ["v_2a", "v_2b"]] = [800.0, 800.0]  # 80 % each: 5 + 5
    df.loc[0, ["v_6a", "v_6b"]] = [80.0, 30.0]  # 80 %, 30 %: 5 + 1
    return df


def test_baseline_levels():
    out = kumuh_akhir(baseline(), pd.DataFrame(columns=["unit", "criterion", "volume"]), S14)
    assert out["total_before"].tolist() == [16, 80]
    assert out["level_before"].tolist() == ["KR", "KB"]
    assert out["total_after"].tolist() == [16, 80]
    assert not out["left_slum"].any()


def test_paving_a_road_drops_the_unit_to_tidak_kumuh():
    done = pd.DataFrame(
        {"unit": ["RT001-RW01", "RT001-RW01"], "criterion": ["2b", "2b"], "volume": [500.0, 200.0]}
    )  # two segments by two funders: 700 m of the 800 m bad surface
    out = kumuh_akhir(baseline(), done, S14).set_index("unit")
    a = out.loc["RT001-RW01"]
    assert a["total_after"] == 16 - 5  # 2b: 10 % -> score 0
    assert a["level_after"] == "TK" and a["left_slum"]
    assert a["area_left_slum_ha"] == 1.5
    assert out.loc["RT002-RW01", "area_left_slum_ha"] == 0
    assert slum_reduction_ha(out) == 1.5
    # average before: (0 + 80 + 0 + 0 + 0 + 55 + 0) / 7; after: 2b is 10 % so jalan = 45
    before, after = 135 / 7, 100 / 7
    assert a["avg_before"] == pytest.approx(before)
    assert a["avg_after"] == pytest.approx(after)
    assert a["kontribusi"] == pytest.approx((before - after) / before)


def test_more_work_than_the_problem_leaves_zero_not_negative():
    done = pd.DataFrame({"unit": ["RT002-RW01"], "criterion": ["4a"], "volume": [9.0]})
    after = remaining_volumes(baseline(), done, S14).set_index("unit")
    assert after.loc["RT002-RW01", "v_4a"] == 0.0
    assert after.loc["RT002-RW01", "v_4b"] == 800.0  # untouched criteria keep their volume
    assert baseline()["v_4a"].tolist() == [0.0, 2.0]  # the input is not modified


def test_completed_volumes_are_summed_per_unit_and_criterion():
    done = pd.DataFrame({"unit": ["a", "a", "b"], "criterion": ["6A", "6a", "7b"], "volume": [10, 5, 3]})
    wide = completed_volumes(done, S14)
    assert wide.loc["a", "v_6a"] == 15 and wide.loc["b", "v_7b"] == 3
    assert list(wide.columns) == [f"v_{cid}" for cid in S14.criterion_ids]


def test_a_criterion_outside_the_scheme_is_refused_with_its_row():
    # the Pekalongan investment sheet tags three drains to "4d", a criterion of the older regulation
    done = pd.DataFrame({"unit": ["RT001-RW01", "RT001-RW01"], "criterion": ["2b", "4d"], "volume": [10, 10]})
    with pytest.raises(InvalidInput) as e:
        kumuh_akhir(baseline(), done, S14)
    assert e.value.details == [
        {
            "reason": "criterion '4d' is not in scheme permen14_2018",
            "feature": 2,
            "field": "criterion",
            "severity": "error",
        }
    ]


def test_work_in_an_unknown_unit_is_refused():
    done = pd.DataFrame({"unit": ["RT009-RW09"], "criterion": ["2b"], "volume": [10]})
    with pytest.raises(InvalidInput, match="not in the baseline"):
        remaining_volumes(baseline(), done, S14)


def test_baseline_with_two_rounds_of_one_unit_is_refused():
    df = pd.concat([baseline(), baseline()], ignore_index=True)
    with pytest.raises(InvalidInput, match="one survey round"):
        remaining_volumes(df, pd.DataFrame(columns=["unit", "criterion", "volume"]), S14)


def test_kontribusi_is_nan_when_nothing_was_bad():
    k = kontribusi_penanganan(pd.Series([0.0, 40.0]), pd.Series([0.0, 10.0]))
    assert pd.isna(k.iloc[0]) and k.iloc[1] == pytest.approx(0.75)
