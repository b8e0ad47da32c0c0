"""find_inconsistent_rows: a stored score table that disagrees with itself is flagged, column by column."""

import pandas as pd
import pytest

from geo.errors import InvalidInput
from indicators.consistency import find_inconsistent_rows
from indicators.schemes import load_scheme
from indicators.scoring import score_units

S14 = load_scheme("permen14_2018")


def stored_table():
    df = pd.DataFrame(
        {
            "area_ha": [1.0, 2.0, 3.0],
            "buildings": [40, 50, 60],
            "households": [40, 50, 60],
            "road_length_m": [400.0, 500.0, 600.0],
            "drainage_length_m": [400.0, 500.0, 600.0],
            "population": [150, 200, 250],
        }
    )
    for i, c in enumerate(S14.criteria):
        df[c.volume_column] = [0.05 * i * df.loc[r, c.denominator] for r in range(3)]
    return score_units(df, S14)


def test_a_freshly_scored_table_is_consistent():
    out = find_inconsistent_rows(stored_table(), S14)
    assert out["consistent"].all()
    assert (out["problems"] == "").all()


def test_a_column_shifted_row_is_flagged():
    st = stored_table()
    p_cols = [c.pct_column for c in S14.criteria]
    s_cols = [c.score_column for c in S14.criteria]
    block = [col for pair in zip(p_cols, s_cols, strict=True) for col in pair] + ["total"]
    st = st.astype(dict.fromkeys(block, float))
    shifted = st.loc[1, block].tolist()
    st.loc[1, block] = [shifted[-1], *shifted[:-1]]  # each value one column to the right
    out = find_inconsistent_rows(st, S14)
    assert out["consistent"].tolist() == [True, False, True]
    assert not out.loc[1, "scores_ok"] and not out.loc[1, "total_ok"]


def test_a_stale_aspect_average_is_named():
    st = stored_table()
    st.loc[2, "avg_drainase"] += 5
    out = find_inconsistent_rows(st, S14)
    assert out.loc[2, "problems"] == "avg_drainase avg_overall"
    assert out.loc[2, "scores_ok"] and out.loc[2, "total_ok"] and not out.loc[2, "aspects_ok"]


def test_spreadsheet_errors_count_as_disagreement():
    st = stored_table().astype({"avg_drainase": object})
    st.loc[0, "avg_drainase"] = "#NUM!"
    assert find_inconsistent_rows(st, S14).loc[0, "problems"] == "avg_drainase avg_overall"


def test_wrong_level_is_flagged():
    st = stored_table()
    st["level"] = st["level"].astype(object)
    st.loc[0, "level"] = "KB"
    out = find_inconsistent_rows(st, S14)
    assert out.loc[0, "problems"] == "level"


def test_without_average_columns_only_scores_are_checked():
    st = stored_table().drop(columns=[a.average_column for a in S14.aspects] + ["avg_overall"])
    assert find_inconsistent_rows(st, S14)["consistent"].all()


def test_missing_score_columns_are_invalid_input():
    with pytest.raises(InvalidInput, match="s_7b"):
        find_inconsistent_rows(stored_table().drop(columns=["s_7b"]), S14)
