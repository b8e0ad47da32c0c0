"""Kota Pekalongan 2019-2023 per-RT table (sheet kumuhRT): our engine reproduces the workbook.

The workbook stores, per RT and year, each criterion's volume (v), percentage as a fraction (p),
score (n) and each aspect's average (r), then totalNilai, tingkatKekumuhan and ratarataKekumuhan.
Header counts come from sheet rtrw. Rows that agree with themselves must agree with our
recomputation from volumes and header counts; rows that do not are flagged, and those flagged for
their scores must turn out to be column-shifted (one value to the right).
Municipal data without a licence: read from ../shared/data, never copied into the repo.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from indicators.consistency import find_inconsistent_rows
from indicators.schemes import load_scheme
from indicators.scoring import score_units

ROOT = Path(__file__).resolve().parents[2]
PEKALONGAN = ROOT.parent / "shared" / "data" / "slum" / "pekalongan"
pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not (ROOT.parent / "shared" / "data").is_dir(), reason="../shared/data is absent"),
]

S14 = load_scheme("permen14_2018")
HEADER = {
    "luasVerifikasi": "area_ha",
    "jumlahBangunan": "buildings",
    "jumlahKK": "households",
    "panjangJalanIdeal": "road_length_m",
    "panjangDrainaseIdeal": "drainage_length_m",
    "jumlahPenduduk": "population",
}
# Workbook column order of the block that shifts: 1av 1ap 1an 1bv ... 1r 2av ... 7r totalNilai.
BLOCK = [col for a in S14.aspects for col in [f"{cid}{x}" for cid in a.criteria for x in "vpn"] + [f"{a.number}r"]] + [
    "totalNilai"
]


def read_sheet(name: str, source: str) -> pd.DataFrame:
    if source == "csv":
        path = PEKALONGAN / f"sheet_{name}.csv"
        if not path.exists():
            pytest.skip(f"{path.name} absent")
        return pd.read_csv(path)
    path = PEKALONGAN / "pekalongan_kumuh_2019_2023.xlsx"
    if not path.exists():
        pytest.skip(f"{path.name} absent")
    return pd.read_excel(path, sheet_name=name, engine="openpyxl")


def to_units(kumuh: pd.DataFrame, rtrw: pd.DataFrame) -> pd.DataFrame:
    """Workbook columns -> our convention (percent, not fraction; v_/p_/s_/avg_ names)."""
    m = kumuh.merge(rtrw.rename(columns=HEADER), left_on="rt", right_on="id", how="left", suffixes=("", "_rt"))
    assert len(m) == len(kumuh) and m["area_ha"].notna().all(), "every kumuhRT row must find its RT"
    num = m[BLOCK].apply(pd.to_numeric, errors="coerce")
    u = m[["rt", "tahun", *HEADER.values()]].copy()
    for c in S14.criteria:
        u[c.volume_column] = num[f"{c.id}v"]
        u[c.pct_column] = num[f"{c.id}p"] * 100
        u[c.score_column] = num[f"{c.id}n"]
    for a in S14.aspects:
        u[a.average_column] = num[f"{a.number}r"] * 100
    u["total"] = num["totalNilai"]
    u["level"] = m["tingkatKekumuhan"]
    u["avg_overall"] = pd.to_numeric(m["ratarataKekumuhan"], errors="coerce") * 100
    return u


def unshift(kumuh: pd.DataFrame) -> pd.DataFrame:
    """Undo a one-column shift of the block: the value of column i was stored in column i+1 and
    totalNilai in the first column (the column order of sheet rtAkhir)."""
    out = kumuh.copy()
    vals = kumuh[BLOCK].to_numpy(dtype=object)
    out[BLOCK] = np.concatenate([vals[:, 1:], vals[:, :1]], axis=1)
    return out


def assert_reproduced(stored: pd.DataFrame, with_averages: bool) -> None:
    """Recompute from the volumes and header counts of `stored` and compare with its stored values."""
    ours = score_units(stored, S14)
    for c in S14.criteria:
        np.testing.assert_allclose(ours[c.pct_column], stored[c.pct_column], rtol=1e-9, atol=1e-9, err_msg=c.id)
        assert (ours[c.score_column].astype(int) == stored[c.score_column]).all(), c.id
    assert (ours["total"].astype(int) == stored["total"]).all()
    assert (ours["level"] == stored["level"]).all()
    if with_averages:
        cols = [a.average_column for a in S14.aspects] + ["avg_overall"]
        np.testing.assert_allclose(ours[cols], stored[cols], rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module", params=["csv", "xlsx"])
def workbook(request):
    return read_sheet("kumuhRT", request.param), read_sheet("rtrw", request.param)


def test_consistent_rows_are_reproduced_and_the_rest_explained(workbook):
    kumuh, rtrw = workbook
    units = to_units(kumuh, rtrw)
    check = find_inconsistent_rows(units, S14)

    scored_ok = check["scores_ok"] & check["total_ok"] & check["level_ok"]
    fully_ok = check["consistent"]
    assert fully_ok.sum() > 0.8 * len(units)
    # 1. every row whose percentages, scores, total and level agree with each other is what we compute
    assert_reproduced(units[scored_ok], with_averages=False)
    # ... and where its averages agree too, so do our aspect and overall averages
    assert_reproduced(units[fully_ok], with_averages=True)

    # 2. rows flagged for their scores are column-shifted: shifted back, they are reproduced as well
    shifted = ~scored_ok
    repaired = to_units(unshift(kumuh[shifted.to_numpy()]), rtrw)
    recheck = find_inconsistent_rows(repaired, S14)
    assert (recheck["scores_ok"] & recheck["total_ok"] & recheck["level_ok"]).all()
    assert_reproduced(repaired, with_averages=False)

    # 3. the remaining flags are stale or broken aspect averages only
    averages_only = scored_ok & ~fully_ok
    assert set(" ".join(check.loc[averages_only, "problems"]).split()) <= {
        *(a.average_column for a in S14.aspects),
        "avg_overall",
    }
    print(
        f"\nPekalongan kumuhRT: {len(units)} rows; consistent {int(fully_ok.sum())}; "
        f"flagged {int((~fully_ok).sum())} = column-shifted {int(shifted.sum())} "
        f"(after unshift fully consistent {int(recheck['consistent'].sum())}) "
        f"+ aspect averages only {int(averages_only.sum())}; "
        f"shifted kawasan {sorted(kumuh.loc[shifted.to_numpy(), 'kawasan'].unique().tolist())}"
    )


def test_negative_volumes_score_zero_like_the_workbook(workbook):
    kumuh, rtrw = workbook
    units = to_units(kumuh, rtrw)
    negative = units["v_4a"] < 0
    if not negative.any():
        pytest.skip("no negative 4a volume in this copy")
    ours = score_units(units[negative], S14)
    assert (ours["s_4a"] == 0).all() and (units.loc[negative, "s_4a"] == 0).all()
