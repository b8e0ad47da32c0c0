"""Pertimbangan lain, priority classes, handling patterns and kewenangan from the data tables."""

import pandas as pd
import pytest

from geo.errors import InvalidInput
from indicators.priority import (
    handling_pattern,
    kewenangan,
    legality,
    load_priority_tables,
    pertimbangan_lain,
    prioritise,
)


def locations(**cols):
    base = {
        "level": ["KS"],
        "population": [300],
        "area_ha": [1.0],
        "mbr_share_pct": [80.0],
        "strategic_value": ["strategis"],
        "potential": ["tinggi"],
        "legality": ["legal"],
    }
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    "people, cls",
    [
        (150, "rendah"),
        (150.5, "sedang"),
        (151, "sedang"),
        (200, "sedang"),
        (201, "tinggi"),
        (400, "tinggi"),
        (401, "sangat padat"),
    ],
)
def test_population_density_bands(people, cls):
    out = pertimbangan_lain(locations(population=[people]))
    assert out["density"].iloc[0] == people
    assert out["density_class"].iloc[0] == cls


def test_zero_area_gives_no_density_and_no_pl():
    out = pertimbangan_lain(locations(area_ha=[0.0]))
    assert pd.isna(out["density"].iloc[0]) and pd.isna(out["pl"].iloc[0])


@pytest.mark.parametrize(
    "level, pl_inputs, legal, cls, rank, handling",
    [
        ("KB", {}, "legal", "A1", 1, "peremajaan"),
        ("KB", {}, "ilegal", "A2", 2, "pemukiman kembali"),
        ("KS", {}, "legal", "B1", 7, "peremajaan"),
        ("KR", {}, "legal", "C1", 13, "pemugaran"),
        ("KR", {}, "ilegal", "C2", 14, "pemukiman kembali"),
        (
            "KR",
            {
                "population": [100],
                "mbr_share_pct": [10.0],
                "strategic_value": ["tidak strategis"],
                "potential": ["rendah"],
            },
            "legal",
            "C5",
            17,
            "pemugaran",
        ),
    ],
)
def test_matrix_lookup(level, pl_inputs, legal, cls, rank, handling):
    out = prioritise(locations(level=[level], legality=[legal], **pl_inputs)).iloc[0]
    assert (out["class"], out["rank"], out["handling"]) == (cls, rank, handling)


def test_each_row_says_which_factors_gave_its_class():
    out = prioritise(locations()).iloc[0]
    assert out["pl"] == "tinggi" and out["pl_points"] == 3 + 5 + 5 + 5
    assert out["basis"] == (
        "KS; PL tinggi (18 poin: kepadatan tinggi (300 jiwa/ha) 3, MBR 75-100% 5, nilai strategis 5, "
        "potensi 5); lahan legal -> B1"
    )


def test_tidak_kumuh_gets_no_class_but_prevention():
    out = prioritise(locations(level=["TK"])).iloc[0]
    assert pd.isna(out["class"]) and out["handling"] == "pencegahan"


@pytest.mark.parametrize(
    "level, legal, pattern",
    [
        ("KB", "legal", "peremajaan"),
        ("KS", "legal", "peremajaan"),
        ("KR", "legal", "pemugaran"),
        ("KB", "ilegal", "pemukiman kembali"),
        ("KS", "ilegal", "pemukiman kembali"),
        ("KR", "ilegal", "pemukiman kembali"),
    ],
)
def test_handling_pattern_rules(level, legal, pattern):
    assert handling_pattern(pd.Series([level]), pd.Series([legal])).iloc[0] == pattern


def test_matrix_covers_every_slum_level_pl_and_legality_once():
    m = load_priority_tables().matrix
    assert len(m) == 3 * 3 * 2
    assert sorted(m["rank"]) == list(range(1, 19))
    assert not m.duplicated(["level", "pl", "legality"]).any()


def test_legality_needs_clear_tenure_and_spatial_plan_conformity():
    got = legality(pd.Series([True, True, False, None]), pd.Series([True, False, True, True]))
    assert got.tolist()[:3] == ["legal", "ilegal", "ilegal"] and pd.isna(got.iloc[3])


@pytest.mark.parametrize(
    "ha, who", [(0.5, "kabkota"), (9.99, "kabkota"), (10, "provinsi"), (15, "provinsi"), (15.01, "pusat")]
)
def test_kewenangan_by_area(ha, who):
    assert kewenangan(pd.Series([ha])).iloc[0] == who


def test_unknown_answers_are_refused_with_the_row():
    with pytest.raises(InvalidInput) as e:
        prioritise(locations(strategic_value=["sangat penting"]))
    assert e.value.details[0]["feature"] == 1 and e.value.details[0]["field"] == "strategic_value"
    with pytest.raises(InvalidInput, match="legality"):
        prioritise(locations(legality=["maybe"]))
