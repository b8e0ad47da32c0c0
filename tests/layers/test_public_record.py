"""The public record's slum-hectare series (pure) and its scope checks: what /publik charts toward zero."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.errors import InvalidInput
from layers.keterpaduan.public_record import scope_of, slum_hectares_by_year


def _areas(decree_year):
    return pd.DataFrame({"slum_area_id": [1, 2, 3], "ha": [10.0, 5.0, 2.5], "stated_level": ["KB", None, "TK"],
                         "current_level": ["TK", "KR", "TK"], "decree_year": [decree_year] * 3})


ROUNDS = pd.DataFrame({"round": ["baseline", "2023"], "round_order": [0, 1],
                       "first_date": [pd.Timestamp("2019-07-01"), None]})
SCORES = pd.DataFrame({"slum_area_id": [1, 2, 1], "round": ["baseline", "baseline", "2023"],
                       "level": ["KB", "KS", "TK"]})


def test_decree_then_rounds_then_todays_status_toward_zero():
    series = slum_hectares_by_year(_areas(2018), SCORES, ROUNDS, 2026)
    assert series == [
        {"year": 2018, "slum_ha": 15.0, "source": "SK kumuh"},  # area 2 states no level: in the decree, so slum
        {"year": 2019, "slum_ha": 15.0, "source": "survei baseline"},
        {"year": 2023, "slum_ha": 5.0, "source": "survei 2023"},  # area 2 not surveyed: keeps KS
        {"year": 2026, "slum_ha": 5.0, "source": "status terkini"},
    ]


def test_an_undated_decree_is_not_put_on_the_line():
    series = slum_hectares_by_year(_areas(None), SCORES, ROUNDS, 2023)
    assert [p["year"] for p in series] == [2019, 2023]  # today's status adds no point in the round's own year


def test_scope_is_a_kabkota_or_a_kelurahan_code():
    assert scope_of("1271", None) == ("12.71", None)
    assert scope_of(None, "12.71.01.1001") == ("12.71", "12.71.01.1001")
    for tenant, kelurahan in ((None, None), (None, "12.71.01"), (None, "<script>")):
        with pytest.raises(InvalidInput):
            scope_of(tenant, kelurahan)
