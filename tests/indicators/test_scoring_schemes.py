"""The scheme files load, describe the regulations the brief lists and refuse broken or unknown input."""

import copy

import pytest

from geo.errors import InvalidInput
from indicators.schemes import DENOMINATORS, available_schemes, load_scheme, scheme_from_dict


def test_both_schemes_are_shipped():
    assert {"permen14_2018", "permen02_2016"} <= set(available_schemes())


def test_permen14_2018_has_16_criteria_in_7_aspects():
    s = load_scheme("permen14_2018")
    assert len(s.criteria) == 16
    assert [a.number for a in s.aspects] == [1, 2, 3, 4, 5, 6, 7]
    assert s.criterion_ids[:3] == ("1a", "1b", "1c")
    assert s.max_total == 80
    assert s.criterion("4a").denominator == "area_ha"
    assert s.criterion("4c").denominator == "drainage_length_m"
    assert s.criterion("3a").unit == "KK"
    assert [lv.code for lv in s.levels] == ["TK", "KR", "KS", "KB"]
    assert s.level_name("KS") == "kumuh sedang"


def test_permen02_2016_has_19_criteria_with_5_drainage_and_3_waste():
    s = load_scheme("permen02_2016")
    assert len(s.criteria) == 19
    by_aspect = {a.key: len(a.criteria) for a in s.aspects}
    assert by_aspect["drainase"] == 5
    assert by_aspect["persampahan"] == 3
    assert s.max_total == 95
    assert [(lv.min_total, lv.max_total) for lv in s.levels[1:]] == [(19, 44), (45, 70), (71, 95)]
    # the brief marks these bands unconfirmed: the file must say so
    assert s.confirmed["levels"] is False
    assert s.criterion("4e").extra["permen14_2018"] == "4c"


@pytest.mark.parametrize("name", ["permen14_2018", "permen02_2016"])
def test_every_criterion_names_a_known_denominator_and_an_indonesian_name(name):
    s = load_scheme(name)
    assert s.legal_reference.startswith("Peraturan Menteri Pekerjaan Umum dan Perumahan Rakyat")
    for c in s.criteria:
        assert c.denominator in DENOMINATORS
        assert c.name and c.unit in {"unit", "ha", "m", "KK"}


def test_unknown_scheme_is_invalid_input_naming_the_known_ones():
    with pytest.raises(InvalidInput) as e:
        load_scheme("permen99_2030")
    assert "permen14_2018" in e.value.message
    assert e.value.details["known"] == available_schemes()


def test_a_gap_in_the_score_bands_is_refused():
    raw = copy.deepcopy(load_scheme("permen14_2018").raw)
    raw["score_bands"]["bands"][1]["from"] = 26
    with pytest.raises(InvalidInput, match="must meet exactly"):
        scheme_from_dict(raw)


def test_levels_that_do_not_cover_the_maximum_are_refused():
    raw = copy.deepcopy(load_scheme("permen14_2018").raw)
    raw["levels"]["bands"][-1]["max"] = 79
    raw["levels"]["max_total"] = 79
    with pytest.raises(InvalidInput, match="cover"):
        scheme_from_dict(raw)
