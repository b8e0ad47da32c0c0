"""Progress roll-ups count the decree's own level until a survey supersedes it (issue 11): an area with only an SK
level is in round SK and in every survey round before its first survey, at its whole area and stated level."""

from __future__ import annotations

import pytest

from layers.db.frames import run
from layers.imports.surveys import import_surveys
from layers.scoring.progress import time_series_op
from layers.scoring.scores import SYSTEM
from tests.layers.scoring_helpers import write_csv
from tests.layers.test_decree_levels import _sk_table, medan  # noqa: F401 (fixture)

CRITERIA = ("1a", "1b", "1c", "2a", "2b", "3a", "3b", "4a", "4b", "4c", "5a", "5b", "6a", "6b", "7a", "7b")


def _survey(first, label: str, rnd: str) -> dict:
    """A unit of `label` surveyed in `rnd` with nothing bad (level TK), 1 ha."""
    return {"kelurahan_code": first["Kode_Prov"] + "." + first["Kode_Kab"] + "." + first["Kode_Kec"] + "."
            + first["Kode_Kel"], "label": label, "round": rnd, "area_ha": 1, "buildings": 100, "population": 400,
            "households": 100, "road_length_m": 500, "drainage_length_m": 500, **{f"v_{c}": 0 for c in CRITERIA}}


def _kota(conn) -> dict[str, dict]:
    series = run(conn, time_series_op("12.71", SYSTEM))["series"]
    return {r["round"]: r for r in series[series["scope"] == "kabkota"].to_dict("records")}


@pytest.mark.usefixtures("medan")
def test_an_sk_only_area_counts_until_its_survey_shows_tk(medan, tmp_path):  # noqa: F811
    from layers.imports.slum_areas import import_slum_areas

    frame = _sk_table(2).assign(Tingkat_Kekumuhan=["Kumuh Berat", "Kumuh Ringan"])
    path = tmp_path / "sk.gpkg"
    frame.to_file(path, driver="GPKG")
    import_slum_areas(medan, path, tenant="12.71", decree="SK 2023", published=True)
    ha = dict(medan.execute("SELECT unit_label, area_ha FROM slum_areas").fetchall())
    rows = frame.to_dict("records")
    # RT 02 surveyed in 2024 (TK); RT 01 only has the decree's KB
    import_surveys(medan, write_csv(tmp_path / "s2024.csv", [_survey(rows[1], "RT 02", "2024")]), tenant="12.71")
    kota = _kota(medan)
    assert list(kota) == ["SK", "2024"]
    assert kota["SK"]["slum_ha"] == pytest.approx(ha["RT 01"] + ha["RT 02"], abs=1e-3)
    assert kota["SK"]["ha_KB"] == pytest.approx(ha["RT 01"], abs=1e-3)
    assert kota["SK"]["sk_areas"] == 2 and kota["SK"]["units"] == 0
    assert kota["2024"]["slum_ha"] == pytest.approx(ha["RT 01"], abs=1e-3)  # the SK-only KB area counts
    assert kota["2024"]["ha_TK"] == pytest.approx(1.0) and (kota["2024"]["units"], kota["2024"]["sk_areas"]) == (1, 1)

    # RT 01 surveyed in 2025 shows TK: it leaves from 2025 on; 2024 still counts its SK level
    import_surveys(medan, write_csv(tmp_path / "s2025.csv", [_survey(rows[0], "RT 01", "2025")]), tenant="12.71")
    kota = _kota(medan)
    assert list(kota) == ["SK", "2024", "2025"]
    assert kota["2024"]["slum_ha"] == pytest.approx(ha["RT 01"], abs=1e-3)
    assert kota["2025"]["slum_ha"] == 0 and kota["2025"]["sk_areas"] == 0
    assert kota["2025"]["left_slum_ha"] == pytest.approx(1.0)  # slum (KB, by the SK) at the 2024 baseline
