"""Numeric bands read from data files: "from 25 up to (not including) 51 scores 1".

Every threshold table of the slum model (percentage -> score, total -> level, density -> class,
area -> kewenangan) is a list of bands. Each band states which ends are inclusive, because the
tables differ: scores are half-open [25, 51), density classes are closed on the right (151-200),
kewenangan is [10, 15] in the middle.

JSON form: {"from": 25, "to": 51, "value": 1}; optional "from_inclusive" (default true) and
"to_inclusive" (default false); a missing "from"/"to" (or null) means unbounded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import InvalidInput

# Banding rounds values to this many decimals first, so that binary noise such as
# 51/100*100 = 51.00000000000001 or 50.99999999999999 cannot move a value across an edge.
EDGE_DECIMALS = 9


@dataclass(frozen=True)
class Band:
    value: Any
    lower: float | None = None
    upper: float | None = None
    lower_inclusive: bool = True
    upper_inclusive: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], value_key: str = "value") -> Band:
        return cls(
            value=d[value_key],
            lower=d.get("from"),
            upper=d.get("to"),
            lower_inclusive=d.get("from_inclusive", True),
            upper_inclusive=d.get("to_inclusive", False),
        )

    def mask(self, x: np.ndarray) -> np.ndarray:
        inside = np.ones(x.shape, dtype=bool)
        if self.lower is not None:
            inside &= (x >= self.lower) if self.lower_inclusive else (x > self.lower)
        if self.upper is not None:
            inside &= (x <= self.upper) if self.upper_inclusive else (x < self.upper)
        return inside & ~np.isnan(x)

    def describe(self) -> str:
        lo = "-inf" if self.lower is None else f"{self.lower:g}"
        hi = "inf" if self.upper is None else f"{self.upper:g}"
        left = "[" if self.lower_inclusive and self.lower is not None else "("
        right = "]" if self.upper_inclusive and self.upper is not None else ")"
        return f"{left}{lo}, {hi}{right}"


def check_contiguous(bands: Sequence[Band], what: str) -> None:
    """Bands must be sorted, must not overlap and must leave no gap between them."""
    for prev, nxt in zip(bands, bands[1:], strict=False):
        ok = prev.upper is not None and nxt.lower == prev.upper and prev.upper_inclusive != nxt.lower_inclusive
        if not ok:
            raise InvalidInput(
                f"{what}: band {prev.describe()} -> {prev.value!r} and {nxt.describe()} -> {nxt.value!r} "
                "must meet exactly (one end inclusive, the other exclusive)"
            )


def classify(values: Any, bands: Sequence[Band], *, index: pd.Index | None = None) -> pd.Series:
    """Band value for each number; NaN or a value outside every band gives NA."""
    series = values if isinstance(values, pd.Series) else pd.Series(values, index=index)
    numbers = pd.to_numeric(series, errors="coerce")
    x = np.round(numbers.to_numpy(dtype=float, na_value=np.nan), EDGE_DECIMALS)
    out = np.full(x.shape, None, dtype=object)
    for band in bands:
        out[band.mask(x)] = band.value
    result = pd.Series(out, index=series.index)
    kinds = {type(b.value) for b in bands}
    if kinds <= {int}:
        return result.astype("Int64")
    if kinds <= {str}:
        return result.astype("string")
    return result
