"""Slum scores of survey units: percentages, scores, totals, levels, aspect and overall averages.

Input: one row per unit and survey round with header counts (area_ha, buildings, households,
road_length_m, drainage_length_m, population) and one volume column per criterion (v_1a, v_1b, ...).
Percentages are in percent (0-100, may exceed 100). All functions are pure and vectorised; the
only Python loops run over criteria and bands, never over rows.

A zero, negative or missing denominator and a missing or non-numeric volume give a NaN percentage,
an NA score, an NA total and an NA level for that unit (never a silent 0); `input_problems` says
which row and field caused it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import InvalidInput
from geo.problems import Problem, Severity
from indicators.bands import classify
from indicators.schemes import Scheme, as_scheme


def _require_columns(df: pd.DataFrame, scheme: Scheme) -> None:
    needed = {c.volume_column for c in scheme.criteria} | {c.denominator for c in scheme.criteria}
    missing = sorted(needed - set(df.columns))
    if missing:
        raise InvalidInput(
            f"unit table lacks columns needed by scheme {scheme.name}: {', '.join(missing)}",
            details=[Problem(reason="missing column", field=m).as_dict() for m in missing],
        )


def _numbers(df: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(df[column], errors="coerce").astype(float)


def percentages(df: pd.DataFrame, scheme: Scheme | str) -> pd.DataFrame:
    """p_<id> = v_<id> / denominator * 100; NaN where the denominator is zero, negative or missing."""
    scheme = as_scheme(scheme)
    _require_columns(df, scheme)
    out = {}
    for c in scheme.criteria:
        den = _numbers(df, c.denominator)
        den = den.where(den > 0)
        out[c.pct_column] = _numbers(df, c.volume_column) / den * 100.0
    return pd.DataFrame(out, index=df.index)


def input_problems(df: pd.DataFrame, scheme: Scheme | str) -> list[Problem]:
    """Rows (1-based, as a user counts) and fields that make a percentage NaN or suspicious."""
    scheme = as_scheme(scheme)
    _require_columns(df, scheme)
    found: list[tuple[int, str, str, Severity]] = []

    def collect(mask: pd.Series, field: str, reason: str, severity: Severity = "error") -> None:
        for pos in np.flatnonzero(mask.to_numpy()):
            found.append((int(pos) + 1, field, reason, severity))

    for den in sorted({c.denominator for c in scheme.criteria}):
        x = _numbers(df, den)
        collect(x.isna(), den, "denominator missing or not a number: percentages that divide by it are NaN")
        collect(x <= 0, den, "denominator is zero or negative: percentages that divide by it are NaN")
    for c in scheme.criteria:
        x = _numbers(df, c.volume_column)
        collect(x.isna(), c.volume_column, "volume missing or not a number: criterion not scored")
        collect(x < 0, c.volume_column, "negative volume: scored as the lowest band", "warning")
    found.sort()
    return [Problem(reason=r, feature=f, field=fld, severity=s) for f, fld, r, s in found]


def scores(pct: pd.DataFrame, scheme: Scheme | str) -> pd.DataFrame:
    """s_<id> from p_<id> by the scheme's half-open bands; a negative percentage takes the lowest band."""
    scheme = as_scheme(scheme)
    lowest = scheme.score_bands[0].lower or 0.0
    out = {}
    for c in scheme.criteria:
        p = pct[c.pct_column].astype(float)
        out[c.score_column] = classify(p.clip(lower=lowest), scheme.score_bands)
    return pd.DataFrame(out, index=pct.index)


def total(score_table: pd.DataFrame) -> pd.Series:
    """Sum of the s_ columns; NA when any criterion is unscored."""
    s = score_table.filter(regex=r"^s_")
    return s.sum(axis=1, skipna=False).astype("Int64").rename("total")


def level(totals: pd.Series, scheme: Scheme | str) -> pd.Series:
    """Level code (TK, KR, KS, KB) of each total."""
    scheme = as_scheme(scheme)
    return classify(totals.astype("Float64"), scheme.level_bands).rename("level")


def level_names(levels: pd.Series, scheme: Scheme | str) -> pd.Series:
    scheme = as_scheme(scheme)
    names = {lv.code: lv.name for lv in scheme.levels}
    return levels.map(names).astype("string").rename("level_name")


def aspect_averages(pct: pd.DataFrame, scheme: Scheme | str) -> pd.DataFrame:
    """avg_<aspect> = mean of the aspect's criterion percentages (NaN if one is NaN)."""
    scheme = as_scheme(scheme)
    out = {a.average_column: pct[[f"p_{cid}" for cid in a.criteria]].mean(axis=1, skipna=False) for a in scheme.aspects}
    return pd.DataFrame(out, index=pct.index)


def overall_average(aspect_avgs: pd.DataFrame) -> pd.Series:
    """Mean of the aspect averages (the 'rata-rata kekumuhan')."""
    return aspect_avgs.filter(regex=r"^avg_").mean(axis=1, skipna=False).rename("avg_overall")


def score_units(df: pd.DataFrame, scheme: Scheme | str) -> pd.DataFrame:
    """Everything at once, indexed like `df`: p_<id>, s_<id>, total, level, level_name, avg_<aspect>,
    avg_overall, scheme."""
    scheme = as_scheme(scheme)
    pct = percentages(df, scheme)
    sc = scores(pct, scheme)
    tot = total(sc)
    lv = level(tot, scheme)
    avgs = aspect_averages(pct, scheme)
    interleaved = [col for c in scheme.criteria for col in (c.pct_column, c.score_column)]
    out = pd.concat([pct, sc], axis=1)[interleaved]
    out["total"] = tot
    out["level"] = lv
    out["level_name"] = level_names(lv, scheme)
    out = pd.concat([out, avgs], axis=1)
    out["avg_overall"] = overall_average(avgs)
    out["scheme"] = scheme.name
    return out
