import pytest

from geo.errors import InvalidInput
from layers.values.codes import code_facts, join_code_parts, kind_of, level_of, normalise_code, parent_of, tenant_code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.71.01.1001", "12.71.01.1001"),
        ("1271011001", "12.71.01.1001"),
        (1271011001.0, "12.71.01.1001"),
        ("1271011001.0", "12.71.01.1001"),
        (" 12.71 ", "12.71"),
        ("1271", "12.71"),
        ("12", "12"),
        ("127101", "12.71.01"),
        ("12.7", None),
        ("Medan", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_normalise_code(raw, expected):
    assert normalise_code(raw) == expected


def test_split_codes_join_like_delineasi_kumuh():
    assert join_code_parts("73", "07", "05", "1003") == "73.07.05.1003"
    assert join_code_parts(73, 7, 5, 1003) == "73.07.05.1003"
    assert join_code_parts("73", "73.07", "73.07.05", "1003") == "73.07.05.1003"
    assert join_code_parts("73", "07", "05", "x") is None


def test_level_kind_parent():
    assert level_of("12.71.01.1001") == "desa_kelurahan"
    assert kind_of("12.71.01.1001") == "kelurahan"
    assert kind_of("35.19.13.2012") == "desa"
    assert kind_of("12.71") == "kota" and kind_of("73.07") == "kabupaten"
    assert parent_of("12.71.01.1001") == "12.71.01" and parent_of("12") is None


def test_tenant_code_accepts_both_forms_and_rejects_others():
    assert tenant_code("1271") == tenant_code("12.71") == "12.71"
    with pytest.raises(InvalidInput, match="not a kab/kota code"):
        tenant_code("12.71.01")


@pytest.mark.parametrize("code", ["12", "12.71", "73.07", "12.71.01", "12.71.01.1001", "35.19.13.2012"])
def test_code_facts_are_level_kind_and_parent(code):
    assert code_facts(code) == (level_of(code), kind_of(code), parent_of(code))
