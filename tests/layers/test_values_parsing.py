"""Numbers and names as people type them (layers/values/quantities.py, layers/values/names.py): the rules for
'.' and ',' per value, units converted, errors that name the value, names equal across spellings."""

from __future__ import annotations

import pytest

from geo.errors import InvalidInput
from layers.values.fields import resolve_fields
from layers.values.names import name_key
from layers.values.quantities import parse_quantity


@pytest.mark.parametrize(("text", "unit", "value"), [
    ("1.234,5", "m", 1234.5),          # rule 1: Indonesian, last mark is the decimal
    ("1,234.5", "m", 1234.5),          # rule 1: English
    ("1.500.000", "rp", 1_500_000),    # rule 2: repeated mark groups thousands
    ("Rp 1.500.000", "rp", 1_500_000),
    ("Rp1.500.000,-", "rp", 1_500_000),
    ("IDR 2,500", "rp", 2500),         # rule 3: rupiah have no fractions
    ("12,5 m2", "m2", 12.5),           # rule 3: decimal comma
    ("12,5 m²", "ha", 0.00125),        # converted to the field's unit
    ("2 km", "m", 2000),
    ("0.25", "ha", 0.25),              # rule 4
    ("7.5 ha", "ha", 7.5),
    (".5", "ha", 0.5),
    ("35 %", "%", 35),
    ("12.500 %", "%", 12.5),           # rule 5: a percentage over 100 is impossible
    ("3 unit/KK", "unit", 3),
    ("1.250 unit", "unit", 1250),      # rule 5: counts have no fractions
    (7.067, "ha", 7.067),
])
def test_numbers_with_units(text, unit, value):
    quantity = parse_quantity(text, unit)
    assert quantity is not None and quantity.value == pytest.approx(value)


def test_ambiguous_dot_three_digits_is_read_by_plausibility_or_warned():
    plain = parse_quantity("7.067 ha", "ha")
    assert plain is not None and plain.value == pytest.approx(7.067)
    assert plain.note and "ambiguous" in plain.note and "7,067 or 7067" in plain.note
    near_big = parse_quantity("7.067 ha", "ha", reference=6900.0)  # the geometry says about 6,900 ha
    assert near_big is not None and near_big.value == 7067
    near_small = parse_quantity("7.067 ha", "ha", reference=7.1)
    assert near_small is not None and near_small.value == pytest.approx(7.067)
    in_m2 = parse_quantity("70.670 m2", "ha", reference=7.0)  # reference in hectares, value written in m2
    assert in_m2 is not None and in_m2.value == pytest.approx(7.067)


@pytest.mark.parametrize(("text", "unit", "message"), [
    ("abc", "m", "'abc' is not a number"),
    ("12 m", "ha", "'12 m' is in m, but this field is in ha"),
    ("5 kg", "m", "'5 kg': unknown unit 'kg'"),
    ("1.5.0", "m", "'1.5.0' has '.' thousands groups that are not three digits"),
    ("1.234,5,6", "m", "'1.234,5,6' has two decimal marks"),
])
def test_bad_numbers_name_the_value(text, unit, message):
    with pytest.raises(InvalidInput) as error:
        parse_quantity(text, unit)
    assert message in error.value.message and "None" not in error.value.message


@pytest.mark.parametrize("blank", [None, "", "  ", "-", float("nan")])
def test_blanks_are_none(blank):
    assert parse_quantity(blank, "ha") is None


@pytest.mark.parametrize(("one", "other"), [
    ("Sungai Beliung", "Sungaibeliung"),
    ("Kel. Sungai Beliung", "SUNGAI BELIUNG"),
    ("Kelurahan Sei Agul", "Sungai Agul"),
    ("Desa Sukamaju II", "Sukamaju 2"),
    ("Ds. Tj. Rejo", "Tanjung Rejo"),
    ("Kali Baros", "Kalibaros"),
    ("Djati Padang", "Jati Padang"),
    ("Tjempaka Putih", "Cempaka Putih"),
])
def test_names_match_across_spellings(one, other):
    assert name_key(one) == name_key(other) != ""


@pytest.mark.parametrize(("one", "other"), [("Sukamaju I", "Sukamaju II"), ("Sei Agul", "Sei Kera"),
                                            ("Desa", "Kelurahan")])
def test_different_names_stay_different(one, other):
    assert name_key(one) != name_key(other)


def test_map_dash_reads_a_target_from_no_field():
    candidates = {"name": ("nama",), "code": ("kode",)}
    assert resolve_fields(["nama", "kode"], candidates, {"name": "-"}) == {"code": "kode"}
